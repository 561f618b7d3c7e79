"""Login lockout through the web: 429 with a Spanish message, the password never checked while locked."""

from __future__ import annotations

import pytest

from engine.accounts import logins

from .conftest import PASSWORD

LOCKED = "Demasiados intentos fallidos. Intente de nuevo a las"


def post(client, username, password, ip="10.0.0.1"):
    return client.post("/ingresar", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def fail(client, username, times, ip="10.0.0.1"):
    for _ in range(times):
        assert post(client, username, "equivocada", ip).status_code == 401


def test_five_failures_lock_even_the_right_password(client, engine):
    fail(client, "eje.rm", 5)
    response = post(client, "eje.rm", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 900
    page = response.get_data(as_text=True)
    # the virtual clock starts at 09:00 UTC, 06:00 in Santiago
    assert f"{LOCKED} 06:15 (en 15 min)." in page
    assert "/bandeja" not in response.headers.get("Location", "")
    # the blocked attempt was not recorded (the lock is not extended)
    assert logins.check_allowed(engine, "eje.rm", "10.0.0.1") == (False, 900)


def test_after_sixteen_minutes_the_right_password_works(client, clock):
    fail(client, "eje.rm", 5)
    clock.advance(minutes=14, seconds=30)
    response = post(client, "eje.rm", PASSWORD)
    assert response.status_code == 429 and f"{LOCKED} 06:15 (en 1 min)." in response.get_data(as_text=True)
    clock.advance(minutes=1, seconds=30)
    response = post(client, "eje.rm", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bandeja")


def test_a_success_resets_the_count(client, app):
    fail(client, "eje.rm", 4)
    assert post(client, "eje.rm", PASSWORD).status_code == 302
    client.post("/salir")
    fail(client, "eje.rm", 4)
    assert post(client, "eje.rm", PASSWORD).status_code == 302


def test_unknown_usernames_count_and_get_the_same_answer(client):
    fail(client, "no.existe", 5)
    fail(client, "eje.rm", 5)
    unknown, known = post(client, "no.existe", "x" * 10), post(client, "eje.rm", PASSWORD)
    assert unknown.status_code == known.status_code == 429
    # the page differs only in the username echoed back into the form
    assert (unknown.get_data(as_text=True).replace("no.existe", "eje.rm") == known.get_data(as_text=True))
    assert unknown.headers["Retry-After"] == known.headers["Retry-After"]


def test_one_address_cannot_spray_many_usernames(client):
    for i in range(20):
        fail(client, f"usuario{i}", 1, ip="10.9.9.9")
    response = post(client, "eje.rm", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429
    # the same account from another address is not affected
    assert post(client, "eje.rm", PASSWORD, ip="10.0.0.2").status_code == 302


@pytest.mark.parametrize("language,text", [("en", "Too many failed attempts. Try again at 06:15 (in 15 min).")])
def test_the_message_is_translated(client, language, text):
    client.post(f"/idioma/{language}")
    fail(client, "eje.rm", 5)
    assert text in post(client, "eje.rm", PASSWORD).get_data(as_text=True)
