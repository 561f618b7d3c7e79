"""Session cookies and password storage (issue 8, web security)."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.schema import User
from webapp import create_app

from .conftest import PASSWORD


def _cookie(response) -> str:
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


def test_the_session_cookie_is_httponly_and_samesite(client, auth):
    cookie = _cookie(auth.login())
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_https_the_cookie_is_secure(app, engine):
    secure = create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                         "SESSION_COOKIE_SECURE": True})
    response = secure.test_client().post("/ingresar", data={"username": "eje.rm", "password": PASSWORD})
    assert "Secure" in _cookie(response)


def test_passwords_are_stored_with_scrypt(app, engine):
    with engine.Session() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes)
