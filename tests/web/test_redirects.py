"""Redirect targets taken from the request (`next` after login, after switching language, after
claiming a task) stay on this site: hostile values go to the inbox or home, never to a 500."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import PASSWORD

HOSTILE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/\t/evil.example/x",
    "/\n/evil.example/x",
    "/\r/evil.example/x",
    " //evil.example/x",
    "/ /evil.example/x",
    "https://evil.example/x",
    "HTTPS:evil.example",
    "//evil.example@cpe.test/x",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "/bandeja\r\nSet-Cookie: x=1",
    "/bandeja\nLocation: https://evil.example/",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/\u2028/evil.example",
    "/\u3000/evil.example",
    "/／evil.example",
    "/\uff3cevil.example",
    "/bandeja/" + "a" * 5000,
    "/casos/ñandú",
    "",
    "bandeja",
    ".",
    "?next=//evil.example",
]
# Sent percent-encoded exactly as written (the query string or form body is decoded by the server).
HOSTILE_ENCODED = [
    "/%09/evil.example/x",
    "/%0d%0aSet-Cookie:x",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
]
# Not UTF-8 (lone surrogates, an overlong "/", stray bytes): the server keeps the bytes
# percent-encoded, so the target is the harmless literal path "/%ED%A0%80" of this site.
UNDECODABLE = ["/%ED%A0%80", "/%ED%B0%80/x", "/%C0%AF/evil.example", "/%FF%FE", "%ED%A0%80//evil.example"]


def browser_view(location: str):
    """What a browser makes of a Location header: it drops tab, CR and LF anywhere, strips
    leading and trailing C0 controls and spaces, and reads a backslash as a slash."""
    cleaned = "".join(c for c in location if c not in "\t\r\n").strip("".join(map(chr, range(0x21))))
    return urlsplit(cleaned.replace("\\", "/"))


def assert_same_site(response, fallback: str | None = None):
    if response.status_code == 400 and "carácter nulo" in response.text:
        return  # a NUL anywhere in the request is refused before any page (webapp/__init__.py): no redirect
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    seen = browser_view(location)
    assert seen.scheme == "" and seen.netloc == "", location
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), location
    assert location.isascii() and location.isprintable() and " " not in location, location
    if fallback is not None:
        assert location == fallback


def login(client, query: str):
    return client.post(f"/ingresar?{query}", data={"username": "eje.rm", "password": PASSWORD})


def switch_language(client, body: str):
    return client.post("/idioma/en", data=body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_after_login_goes_to_the_inbox(app, target):
    response = login(app.test_client(), "next=" + quote(target, safe=""))
    assert_same_site(response, "/bandeja")


@pytest.mark.parametrize("target", HOSTILE_ENCODED)
def test_hostile_encoded_next_after_login_goes_to_the_inbox(app, target):
    assert_same_site(login(app.test_client(), "next=" + target), "/bandeja")


@pytest.mark.parametrize("target", UNDECODABLE)
def test_undecodable_next_stays_on_the_site(app, client, target):
    for response, fallback in ((login(app.test_client(), "next=" + target), "/bandeja"),
                               (switch_language(client, "next=" + target), "/")):
        assert_same_site(response)
        assert response.headers["Location"] in (fallback, target)


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_after_switching_language_goes_home(client, target):
    assert_same_site(switch_language(client, "next=" + quote(target, safe="")), "/")


@pytest.mark.parametrize("target", HOSTILE_ENCODED)
def test_hostile_encoded_next_after_switching_language_goes_home(client, target):
    assert_same_site(switch_language(client, "next=" + target), "/")


def test_a_hostile_next_after_claiming_a_task_goes_to_the_inbox(client, auth, start):
    auth.login()
    case_id = start()
    [task] = client.application.extensions["cpe_engine"].ready_tasks(case_id=case_id)
    response = client.post(f"/tareas/{task['id']}/tomar", data={"next": "/\t/evil.example/x"})
    assert_same_site(response, "/bandeja")


@pytest.mark.parametrize("target", ["/bandeja?vista=mias", "/casos/3#tareas", "/talleres/?region=CL-RM&p=2",
                                    "/registro/?q=Vi%C3%B1a", "/"])
def test_a_same_site_next_is_kept(app, client, target):
    assert_same_site(login(app.test_client(), "next=" + quote(target, safe="")), target)
    assert_same_site(switch_language(client, "next=" + quote(target, safe="")), target)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
       | st.builds(lambda a, b: a + b, st.sampled_from(["/", "//", "/\\", "\\", "/\t/", "https:", "/\r\n"]),
                   st.text(max_size=20)))
def test_safe_next_only_returns_same_site_paths(target):
    from webapp.shared.redirects import safe_next

    result = safe_next(target)
    if result is not None:
        seen = browser_view(result)
        assert seen.scheme == "" and seen.netloc == "" and result == target
        assert result.startswith("/") and result[1:2] not in ("/", "\\")


@settings(derandomize=True, max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
       | st.builds(lambda a, b: a + b, st.sampled_from(["/", "//", "/\\", "/\t/", "https:", "/\r\n"]),
                   st.text(alphabet=st.characters(codec="utf-8"), max_size=20)))
def test_any_next_after_login_stays_on_the_site(app, target):
    assert_same_site(login(app.test_client(), "next=" + quote(target, safe="")))
