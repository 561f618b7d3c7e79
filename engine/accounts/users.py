"""Users, roles and who may work which task (SPEC §9: lanes are roles, tasks are
offered to users of that role in the case's region)."""

from __future__ import annotations

import re

from werkzeug.security import check_password_hash, generate_password_hash

from engine.domain.regions import is_region
from engine.programme.operators import ROLES

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 8


def check_new_user(username: str, role: str, region: str | None, password: str) -> None:
    if not USERNAME.match(username or ""):
        raise ValueError("nombre de usuario inválido: use minúsculas, números, '.', '_' o '-' (2 a 80)")
    if role not in ROLES:
        raise ValueError(f"rol desconocido '{role}'; roles: {', '.join(ROLES)}")
    if region is not None and not is_region(region):
        raise ValueError(f"región desconocida '{region}' (use un código ISO 3166-2:CL, p. ej. CL-RM)")
    if role in ("ejecutivo_cpe", "ejecutivo_prochile", "jefe_regional") and region is None:
        raise ValueError(f"el rol {role} requiere una región")
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"la contraseña debe tener al menos {MIN_PASSWORD} caracteres")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def may_work(user, lane: str | None, region: str | None, assignee: str | None) -> bool:
    """Whether `user` may claim or complete a task of that lane, region and assignee.

    The company's own steps (lane `pyme`) may also be done by a CPE executive of the
    region on the company's behalf (walk-ins at the CPE's client computer, manual §10).
    """
    if user is None:
        return True
    if assignee is not None:
        return assignee == user.username
    if user.region is not None and region is not None and user.region != region:
        return False
    return lane == user.role or (lane == "pyme" and user.role == "ejecutivo_cpe")
