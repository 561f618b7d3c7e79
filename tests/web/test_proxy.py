"""The client address behind a reverse proxy: CPE_PROXY_HOPS (webapp/shared/proxy.py).

Without the setting a forged X-Forwarded-For changes nothing (the per-address login limit
and the audit use the TCP peer); with it the address the trusted proxy appended is used."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.accounts import logins
from engine.store.schema import DataAccess, LoginAttempt
from webapp import create_app
from webapp.shared.proxy import parse_hops

from .conftest import PASSWORD

PROXY = "10.0.0.1"


def _app(engine, hops):
    return create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "PROXY_HOPS": hops})


def _post(client, username, password, forwarded):
    return client.post("/ingresar", data={"username": username, "password": password},
                       headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": PROXY})


def _ips(engine):
    with engine.Session() as s:
        return list(s.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)))


def test_without_the_setting_a_forged_header_is_ignored(app, engine):
    client = app.test_client()
    # 20 failures, each claiming another address: all count against the real peer
    for n in range(logins.MAX_FAILURES_PER_IP):
        assert _post(client, f"nadie{n}", "x", f"198.51.100.{n}").status_code == 401
    assert set(_ips(engine)) == {PROXY}
    response = _post(client, "eje.rm", PASSWORD, "198.51.100.200")
    assert response.status_code == 429  # the address is locked whatever the header says


def test_behind_one_proxy_the_forwarded_client_counts(app, engine):
    client = _app(engine, 1).test_client()
    for n in range(logins.MAX_FAILURES_PER_IP):
        assert _post(client, f"nadie{n}", "x", "203.0.113.5").status_code == 401
    assert set(_ips(engine)) == {"203.0.113.5"}
    assert _post(client, "eje.rm", PASSWORD, "203.0.113.5").status_code == 429
    # another client behind the same proxy is not locked out by the first one
    assert _post(client, "eje.rm", PASSWORD, "203.0.113.6").status_code == 302


def test_behind_one_proxy_only_the_last_entry_is_trusted(app, engine):
    client = _app(engine, 1).test_client()
    _post(client, "nadie", "x", "192.0.2.66, 203.0.113.7")  # the client wrote the first entry
    assert _ips(engine) == ["203.0.113.7"]


def test_the_audit_names_the_forwarded_client(app, engine, start):
    case_id = start()
    client = _app(engine, 1).test_client()
    _post(client, "eje.rm", PASSWORD, "203.0.113.9")
    assert client.get(f"/casos/{case_id}", headers={"X-Forwarded-For": "203.0.113.9"},
                      environ_base={"REMOTE_ADDR": PROXY}).status_code == 200
    plain = app.test_client()
    plain.post("/ingresar", data={"username": "eje.rm", "password": PASSWORD}, environ_base={"REMOTE_ADDR": PROXY})
    plain.get(f"/casos/{case_id}", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": PROXY})
    with engine.Session() as s:
        ips = [row.detail["ip"] for row in s.scalars(select(DataAccess).order_by(DataAccess.id))]
    assert ips == ["203.0.113.9", PROXY]


@pytest.mark.parametrize(("value", "hops"), [(None, 0), ("", 0), ("0", 0), (" 2 ", 2), (1, 1)])
def test_hops_setting(value, hops):
    assert parse_hops(value) == hops


@pytest.mark.parametrize("value", ["-1", "uno", "6", "1.5"])
def test_bad_hops_setting_is_refused_in_spanish(value):
    with pytest.raises(ValueError, match="CPE_PROXY_HOPS debe ser un número entero entre 0 y 5"):
        parse_hops(value)
