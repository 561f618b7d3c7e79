"""Personal tokens for the JSON API.

A token is shown once, when it is created; only its SHA-256 is stored, so a copy of the
database does not give access. Tokens start with "cpe_" so they are recognisable (in a
script, a log or a secret scanner). A token may expire and may be revoked; it stops
working when its user is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from engine.basics.clock import as_utc, iso_utc
from engine.basics.errors import NotFound
from engine.store.schema import ApiToken, User

PREFIX = "cpe_"
MAX_NAME = 120
MAX_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(engine, username: str, name: str = "", days: int | None = None) -> tuple[int, str]:
    """A new token for `username`, valid for `days` (None: until revoked). Returns (id, plaintext)."""
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise ValueError(f"el nombre del token puede tener como máximo {MAX_NAME} caracteres")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS):
        raise ValueError(f"la vigencia del token debe ser un número entero de días entre 1 y {MAX_DAYS}")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    with engine.transaction() as s:
        user = _user(s, username)
        if not user.active:
            raise ValueError(f"el usuario '{username}' está desactivado")
        now = engine.now()
        token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(plaintext), created_at=now,
                         expires_at=now + timedelta(days=days) if days is not None else None)
        s.add(token)
        s.flush()
        return token.id, plaintext


def user_for_token(engine, plaintext) -> User | None:
    """The active user the token belongs to, or None (unknown, expired or revoked token)."""
    if not isinstance(plaintext, str) or not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None
    now = engine.now()
    with engine.Session() as s:
        found = s.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == token_hash(plaintext))).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None or not user.active:
        return None
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return None
    if token.last_used_at is None or as_utc(token.last_used_at) <= now - TOUCH_EVERY:
        with engine.transaction() as s:
            s.execute(update(ApiToken).where(
                ApiToken.id == token.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
            ).values(last_used_at=now))
    return user


def revoke(engine, token_id: int, username: str) -> dict:
    """Revoke one of `username`'s tokens (revoking twice changes nothing)."""
    with engine.transaction() as s:
        user = _user(s, username)
        token = s.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
        if token is None:
            raise NotFound(f"el usuario '{username}' no tiene un token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = engine.now()
        return _describe(token, engine.now())


def list_tokens(engine, username: str) -> list[dict]:
    """`username`'s tokens, newest first (never the token itself)."""
    with engine.Session() as s:
        user = _user(s, username)
        tokens = s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
        now = engine.now()
        return [_describe(t, now) for t in tokens]


def _user(s, username) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no existe el usuario '{username}'")
    return user


def _describe(token: ApiToken, now: datetime) -> dict:
    expires = as_utc(token.expires_at)
    if token.revoked_at is not None:
        state = "revoked"
    elif expires is not None and expires <= now:
        state = "expired"
    else:
        state = "active"
    return {"id": token.id, "name": token.name, "state": state, "created_at": iso_utc(token.created_at),
            "expires_at": iso_utc(token.expires_at), "last_used_at": iso_utc(token.last_used_at),
            "revoked_at": iso_utc(token.revoked_at)}


