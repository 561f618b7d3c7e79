"""User accounts: the checks of a new user and password hashing. Roles, and who may work which
task, are engine.domain.roles (SPEC §9)."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from engine.domain import roles
from engine.domain.regions import is_region
from engine.store.schema import User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 8


def check_new_user(username: str, role: str, region: str | None, password: str) -> None:
    if not USERNAME.match(username or ""):
        raise ValueError("nombre de usuario inválido: use minúsculas, números, '.', '_' o '-' (2 a 80)")
    if role not in roles.ROLES:
        raise ValueError(f"rol desconocido '{role}'; roles: {', '.join(roles.ROLES)}")
    if region is not None and not is_region(region):
        raise ValueError(f"región desconocida '{region}' (use un código ISO 3166-2:CL, p. ej. CL-RM)")
    if roles.needs_region(role) and region is None:
        raise ValueError(f"el rol {role} requiere una región")
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"la contraseña debe tener al menos {MIN_PASSWORD} caracteres")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_accounts(engine, accounts, password: str) -> int:
    """Create several accounts that share one password (demo staff, a roll-out batch) in one
    transaction: each checked as `check_new_user`, one hash for all (the same password would
    give the same protection with a salt each; hashing is the costly part). `accounts`:
    dicts with username, role, region, rubros, full_name, email. A username that exists already
    is kept as it is. Returns how many were created."""
    accounts = list(accounts)
    for account in accounts:
        check_new_user(account["username"], account["role"], account.get("region"), password)
    hashed = hash_password(password)
    with engine.transaction() as s:
        existing = set(s.scalars(select(User.username).where(
            User.username.in_([a["username"] for a in accounts]))))
        created = 0
        for account in accounts:
            if account["username"] in existing:
                continue
            existing.add(account["username"])
            s.add(User(username=account["username"], password_hash=hashed, role=account["role"],
                       region=account.get("region"), rubros=list(account.get("rubros") or ()),
                       full_name=account.get("full_name") or account["username"], email=account.get("email"),
                       created_at=engine.now()))
            created += 1
        return created


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)



def executives(engine, region: str | None = None) -> list:
    """Active executives (CPE and ProChile), of `region` if given, by username: rows with `username`
    and `full_name` (the indicators' filter)."""
    query = (select(User.username, User.full_name)
             .where(User.role.in_(roles.EXECUTIVES), User.active.is_(True)).order_by(User.username))
    if region:
        query = query.where(User.region == region)
    with engine.Session() as session:
        return session.execute(query).all()
