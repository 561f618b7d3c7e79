"""API tokens: only the hash is stored; expired, revoked, unknown or inactive → no user."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.accounts import apitokens
from engine.basics.errors import NotFound
from engine.store.schema import ApiToken, User

PASSWORD = "secreto-123"


@pytest.fixture
def users(engine):
    engine.create_user("eje.rm", PASSWORD, "ejecutivo_cpe", region="CL-RM")
    engine.create_user("eje.bio", PASSWORD, "ejecutivo_cpe", region="CL-BI")
    return engine


def _row(engine, token_id) -> ApiToken:
    with engine.Session() as s:
        return s.get(ApiToken, token_id)


def test_only_the_hash_is_stored_and_the_token_is_recognisable(users):
    token_id, plaintext = apitokens.create_token(users, "eje.rm", name="integración SRA")
    assert plaintext.startswith("cpe_") and len(plaintext) > 40
    row = _row(users, token_id)
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.token_hash, row.name)
    assert row.name == "integración SRA" and row.expires_at is None and row.revoked_at is None
    other_id, other = apitokens.create_token(users, "eje.rm")
    assert other != plaintext and other_id != token_id


# (what happens to the token before it is used, expected username or None)
CASES = [
    ("fresh", lambda eng, clock, tid: None, "eje.rm"),
    ("not yet expired", lambda eng, clock, tid: clock.advance(days=6, hours=23), "eje.rm"),
    ("expired", lambda eng, clock, tid: clock.advance(days=7), None),
    ("revoked", lambda eng, clock, tid: apitokens.revoke(eng, tid, "eje.rm"), None),
    ("user deactivated", lambda eng, clock, tid: _deactivate(eng, "eje.rm"), None),
]


def _deactivate(engine, username):
    with engine.transaction() as s:
        s.execute(update(User).where(User.username == username).values(active=False))


@pytest.mark.parametrize("what,change,expected", CASES, ids=[c[0] for c in CASES])
def test_user_for_token(users, clock, what, change, expected):
    token_id, plaintext = apitokens.create_token(users, "eje.rm", days=7)
    change(users, clock, token_id)
    user = apitokens.user_for_token(users, plaintext)
    assert (user.username if user else None) == expected


@pytest.mark.parametrize("plaintext", [None, "", "cpe_", "cpe_desconocido", "Bearer cpe_x", "x" * 500, 42])
def test_unknown_or_malformed_tokens_give_no_user(users, plaintext):
    apitokens.create_token(users, "eje.rm")
    assert apitokens.user_for_token(users, plaintext) is None


def test_a_token_without_its_prefix_is_refused(users):
    _, plaintext = apitokens.create_token(users, "eje.rm")
    assert apitokens.user_for_token(users, plaintext.removeprefix("cpe_")) is None
    assert apitokens.user_for_token(users, plaintext + "x") is None
    assert apitokens.user_for_token(users, plaintext).username == "eje.rm"


def test_last_used_is_written_at_most_once_a_minute(users, clock):
    token_id, plaintext = apitokens.create_token(users, "eje.rm")
    assert _row(users, token_id).last_used_at is None
    first = clock.now()
    apitokens.user_for_token(users, plaintext)
    assert _row(users, token_id).last_used_at.replace(tzinfo=None) == first.replace(tzinfo=None)
    clock.advance(seconds=30)
    apitokens.user_for_token(users, plaintext)
    assert _row(users, token_id).last_used_at.replace(tzinfo=None) == first.replace(tzinfo=None)
    later = clock.advance(seconds=31)
    apitokens.user_for_token(users, plaintext)
    assert _row(users, token_id).last_used_at.replace(tzinfo=None) == later.replace(tzinfo=None)


def test_list_and_revoke(users, clock):
    first, _ = apitokens.create_token(users, "eje.rm", name="uno", days=1)
    clock.advance(minutes=1)
    second, _ = apitokens.create_token(users, "eje.rm", name="dos")
    apitokens.create_token(users, "eje.bio", name="de otro")
    clock.advance(days=2)
    listed = apitokens.list_tokens(users, "eje.rm")
    assert [(t["id"], t["name"], t["state"]) for t in listed] == [(second, "dos", "active"), (first, "uno", "expired")]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    revoked = apitokens.revoke(users, second, "eje.rm")
    assert revoked["state"] == "revoked" and revoked["revoked_at"].startswith(clock.now().date().isoformat())
    again = apitokens.revoke(users, second, "eje.rm")
    assert again["revoked_at"] == revoked["revoked_at"]
    assert [t["state"] for t in apitokens.list_tokens(users, "eje.rm")] == ["revoked", "expired"]


# (call, expected error, message fragment)
ERRORS = [
    (lambda eng, tid: apitokens.create_token(eng, "nadie"), NotFound, "no existe el usuario 'nadie'"),
    (lambda eng, tid: apitokens.create_token(eng, "eje.rm", days=0), ValueError, "entre 1 y 3650"),
    (lambda eng, tid: apitokens.create_token(eng, "eje.rm", days=-3), ValueError, "entre 1 y 3650"),
    (lambda eng, tid: apitokens.create_token(eng, "eje.rm", name="x" * 121), ValueError, "como máximo 120"),
    (lambda eng, tid: apitokens.revoke(eng, tid, "eje.bio"), NotFound, "no tiene un token"),
    (lambda eng, tid: apitokens.revoke(eng, tid + 1000, "eje.rm"), NotFound, "no tiene un token"),
    (lambda eng, tid: apitokens.list_tokens(eng, "nadie"), NotFound, "no existe el usuario 'nadie'"),
]


@pytest.mark.parametrize("call,error,message", ERRORS)
def test_errors_change_nothing(users, call, error, message):
    token_id, plaintext = apitokens.create_token(users, "eje.rm")
    with pytest.raises(error, match=message):
        call(users, token_id)
    with users.Session() as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id)) is None
        assert len(s.scalars(select(ApiToken.id)).all()) == 1
    assert apitokens.user_for_token(users, plaintext).username == "eje.rm"


# -- the `cpe tokens` commands ---------------------------------------------------------------
@pytest.fixture
def run(users):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    app = create_app({"ENGINE": users, "SECRET_KEY": "test"})
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app))
    return invoke


def test_cli_create_list_revoke(run, users, clock):
    created = run("tokens", "create", "eje.rm", "--name", "integración", "--days", "30", "--json")
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    assert body["username"] == "eje.rm" and body["name"] == "integración" and body["token"].startswith("cpe_")
    assert body["expires_at"].startswith((clock.now() + timedelta(days=30)).date().isoformat())
    assert apitokens.user_for_token(users, body["token"]).username == "eje.rm"

    plain = run("tokens", "create", "eje.rm")
    assert plain.exit_code == 0
    token = plain.stdout.strip()
    assert token.startswith("cpe_") and "\n" not in token and "no se volverá a mostrar" in plain.stderr
    assert apitokens.user_for_token(users, token).username == "eje.rm"

    listed = json.loads(run("tokens", "list", "eje.rm", "--json").stdout)
    assert [(t["id"], t["state"]) for t in listed] == [(body["id"] + 1, "active"), (body["id"], "active")]
    assert body["token"] not in run("tokens", "list", "eje.rm").stdout
    assert "integración" in run("tokens", "list", "eje.rm").stdout

    revoked = run("tokens", "revoke", body["id"], "--user", "eje.rm")
    assert revoked.exit_code == 0 and f"token {body['id']} de eje.rm revocado" in revoked.stderr
    assert apitokens.user_for_token(users, body["token"]) is None
    assert apitokens.user_for_token(users, token).username == "eje.rm"
    assert [t["state"] for t in json.loads(run("tokens", "list", "eje.rm", "--json").stdout)] == ["active", "revoked"]


@pytest.mark.parametrize("args,message", [
    (("tokens", "create", "nadie"), "error: no existe el usuario 'nadie'"),
    (("tokens", "create", "eje.rm", "--days", "0"), "entre 1 y 3650"),
    (("tokens", "list", "nadie"), "error: no existe el usuario 'nadie'"),
    (("tokens", "revoke", "1", "--user", "eje.bio"), "error: el usuario 'eje.bio' no tiene un token 1"),
])
def test_cli_errors_go_to_stderr_and_change_nothing(run, users, args, message):
    token_id, token = apitokens.create_token(users, "eje.rm")
    assert token_id == 1
    result = run(*args)
    assert result.exit_code != 0 and message in result.stderr and result.stdout == ""
    assert [t["state"] for t in apitokens.list_tokens(users, "eje.rm")] == ["active"]
