"""Every route, every method, as every kind of user, against one table of who may reach what.

The routes are enumerated from `app.url_map`: a route missing from ROUTES (or from the prefix
rules for the pages other parts of the app add) fails the test, so a new route has to say who
may use it. Each request runs on a fresh copy of one prepared database (a POST that works
changes nothing for the next one).

Outcomes: "login" (sent to the login page / 401 from the API), "forbidden" (403), "missing"
(404), "denied" (a redirect with an error message from the engine's own check), "ok"
(anything else below 500). Routes in ROUTES are checked strictly; a route known only by its
prefix (the argument values cannot be guessed) may answer 404 too.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.accounts import apitokens
from engine.assembly import build_engine
from engine.basics.clock import VirtualClock
from engine.models.validation import collect_files
from engine.programme import portal
from engine.programme import workshops as W
from engine.store.schema import ApiToken, OutboxMessage
from webapp import create_app

from ..test_workshops import add_company
from .conftest import MODEL, PASSWORD

# the people: anonymous, each staff role in Región Metropolitana, an executive of another
# region, and a company account (role pyme), which may not log in at all
USERS = {"anonimo": None, "analista": "analista", "eje_rm": "eje.rm", "pro_rm": "pro.rm", "jefe_rm": "jefe.rm",
         "eje_bio": "eje.bio", "empresa": "empresa"}
STAFF = {"analista", "eje_rm", "pro_rm", "jefe_rm", "eje_bio"}
REGION_RM = {"analista", "eje_rm", "pro_rm", "jefe_rm"}
EVERYONE = set(USERS)
ANALYST = {"analista"}
MANAGERS_RM = {"analista", "eje_rm", "jefe_rm"}          # workshops: CPE executives, regional heads, analysts
MANAGERS_ANY = MANAGERS_RM | {"eje_bio"}

# (endpoint, method) -> who gets "ok"; everyone else gets "login" (anonymous) or "denied"
ROUTES = {
    ("home", "GET"): EVERYONE, ("health", "GET"): EVERYONE, ("static", "GET"): EVERYONE,
    ("vendor.asset", "GET"): EVERYONE,
    ("auth.login", "GET"): EVERYONE, ("auth.login", "POST"): EVERYONE, ("auth.language", "POST"): EVERYONE,
    ("auth.logout", "POST"): STAFF,
    ("inbox.index", "GET"): STAFF,
    ("inbox.claim", "POST"): {"eje_rm"},                  # the task: a company step of an RM case
    ("inbox.release", "POST"): {"eje_rm"},                # the task: claimed by eje.rm
    ("tasks.form", "GET"): {"eje_rm"}, ("tasks.form", "POST"): {"eje_rm"},
    ("cases.index", "GET"): STAFF,
    ("cases.new", "GET"): MANAGERS_ANY, ("cases.start", "GET"): MANAGERS_ANY,  # START_CASES: CPE executives,
    ("cases.start", "POST"): MANAGERS_ANY,                                      # regional heads, analysts
    ("cases.detail", "GET"): REGION_RM, ("cases.comment", "POST"): REGION_RM,
    ("cases.diagram", "GET"): REGION_RM, ("cases.path", "GET"): REGION_RM,
    ("cases.retry", "POST"): ANALYST, ("cases.skip", "POST"): ANALYST,   # the failed step of a case
    ("audit.index", "GET"): ANALYST,
    **{("models." + name, method): ANALYST for name, method in [
        ("index", "GET"), ("edit", "GET"), ("migrate", "POST"), ("compare", "GET"), ("version", "GET"),
        ("download", "GET"), ("catalog", "GET"), ("deploy", "GET"), ("deploy", "POST"), ("deploy_xml", "POST"),
        ("new", "GET"), ("validate_xml", "POST")]},
    ("workshops.index", "GET"): STAFF, ("workshops.export", "GET"): STAFF,
    ("workshops.detail", "GET"): REGION_RM,
    ("workshops.create", "GET"): MANAGERS_ANY,
    ("workshops.create", "POST"): MANAGERS_RM,            # a regional user schedules their own region only
    ("workshops.attendance", "GET"): MANAGERS_RM, ("workshops.attendance", "POST"): MANAGERS_RM,
    ("workshops.cancel", "POST"): MANAGERS_RM, ("workshops.register", "POST"): MANAGERS_RM,
    ("workshops.unregister", "POST"): MANAGERS_RM,
    # the company portal: the private link is the credential, whoever holds it
    **{("portal." + name, method): EVERYONE for name, method in [
        ("landing", "GET"), ("register", "GET"), ("register", "POST"), ("request_link", "GET"),
        ("request_link", "POST"), ("home", "GET"), ("register_workshop", "POST"),
        ("unregister_workshop", "POST"), ("task", "GET"), ("task", "POST"), ("start_again", "GET"),
        ("start_again", "POST")]},
    # the API: a personal token of a staff member (companies have none); region rules as the pages
    ("api.openapi", "GET"): EVERYONE,
    ("api.processes", "GET"): STAFF, ("api.list_cases", "GET"): STAFF, ("api.list_tasks", "GET"): STAFF,
    ("api.start_case", "POST"): {"analista", "eje_rm", "jefe_rm"},
    ("api.get_case", "GET"): REGION_RM, ("api.get_task", "GET"): REGION_RM,
    ("api.complete_task", "POST"): {"eje_rm"}, ("api.claim_task", "POST"): {"eje_rm"},
    ("api.release_task", "POST"): {"eje_rm"},
    ("indicadores.executives_page", "GET"): {"analista", "jefe_rm"},  # executives' performance (issue 16 item 9)
}

# pages other parts of the app add: who may reach them (at the route; region rules for
# their records are in those parts' own tests)
# (regular expression on the rule, who), the first that matches applies
PATTERNS = [
    (r"^/beneficios/.*/consolidado\.", ANALYST),   # the national consolidation: analysts only
    (r"^/registro(/|$)", STAFF),
    (r"^/indicadores(/|$)", STAFF),
    (r"^/beneficios(/|$)", {"analista", "jefe_rm"}),
    (r"^/modelos(/|$)", ANALYST),                     # model editors, simulation
    (r"^/correo(/|$)", ANALYST),                      # the outbox: every message and its text
]

# routes whose engine answers about the content with an error message (the access check came
# first: the others got 403): a taken attendance before the session, a registration repeated,
# a migration to the same version, a retry or skip of a case that is not in error
CONTENT_ERRORS = {("models.migrate", "POST"), ("workshops.attendance", "POST"), ("portal.register_workshop", "POST"),
                  ("cases.retry", "POST"), ("cases.skip", "POST")}  # the case is not in error
QUERIES = {"models.compare": "?a=1&b=1"}

# a valid body for the POSTs that need one (the others get an empty form or JSON object)
FORMS = {
    "cases.comment": {"comentario": "Revisar con la empresa."},
    "auth.login": {"username": "nadie", "password": "x"},
    "workshops.register": {"rut": "76.333.444-9"},
    "workshops.create": {"taller": "taller_123_exporta", "fecha": "2026-03-20", "hora": "10:00",
                         "region": "CL-RM", "lugar": "Sala", "cupo": "30"},
}
JSON = {"api.start_case": {"process_id": "diagnostico_rapido", "data": {
    "rut": "76086428-5", "razon_social": "Vinos SpA", "region": "CL-RM", "ventas_uf": 9000}}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One prepared SQLite database (the access rules do not depend on the database kind)."""
    folder = tmp_path_factory.mktemp("rutas")
    url = f"sqlite:///{folder / 'plantilla.sqlite3'}"
    eng = build_engine(url=url, clock=VirtualClock())
    eng.upgrade()
    eng.deploy(collect_files([MODEL]))
    for username, role, region in [("analista", "analista", None), ("eje.rm", "ejecutivo_cpe", "CL-RM"),
                                   ("pro.rm", "ejecutivo_prochile", "CL-RM"), ("jefe.rm", "jefe_regional", "CL-RM"),
                                   ("eje.bio", "ejecutivo_cpe", "CL-BI"), ("empresa", "pyme", None)]:
        eng.create_user(username, PASSWORD, role, region=region)
    tokens = {key: apitokens.create_token(eng, name, name="rutas")[1] for key, name in USERS.items() if name}
    start = {"rut": "76086428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}
    free_case = eng.start("diagnostico_rapido", start)
    held_case = eng.start("diagnostico_rapido", dict(start, rut="76333444-9"))
    free_task = eng.ready_tasks(case_id=free_case)[0]["id"]
    held_task = eng.ready_tasks(case_id=held_case)[0]["id"]
    eng.claim(held_task, "eje.rm")
    W.seed_catalogue(eng)
    company = add_company(eng, "79.345.678-6", "Conservas Pacífico S.A.")
    session_id = W.create_session(eng, "taller_123_exporta", datetime(2026, 3, 10, 10, 0), "Sala", 20,
                                  region="CL-RM", created_by="eje.rm")["id"]
    W.register(eng, session_id, company, "eje.rm")
    W.register(eng, session_id, W.find_company(eng, "76.086.428-5")["id"], "eje.rm")  # the portal's company
    link = portal.issue_link(eng, "76.086.428-5")
    with eng.transaction() as s:
        message = OutboxMessage(destinatario="pyme", to_address="contacto@empresa.cl", asunto="Aviso",
                                mensaje="Hola.", created_at=eng.now(), status="failed", attempts=8)
        s.add(message)
        s.flush()
        message_id = message.id
    eng.db.dispose()
    return {"file": folder / "plantilla.sqlite3", "folder": folder, "tokens": tokens, "link": link,
            "args": {"case_id": free_case, "task_id": free_task, "held_task": held_task, "session_id": session_id,
                     "company_id": company, "key": "diagnostico_rapido", "kind": "process", "version": 1,
                     "process_id": "diagnostico_rapido", "fmt": "csv", "code": "en", "name": next(iter(_vendor())),
                     "filename": "css/app.css", "message_id": message_id}}


def _vendor():
    from webapp.shared.vendor import FILES
    return FILES


def _url(rule, world) -> str:
    args = dict(world["args"])
    if rule.endpoint in ("inbox.release", "api.release_task"):
        args["task_id"] = args["held_task"]
    args["token"] = world["link"]
    values = {name: args.get(name, "1") for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1] + QUERIES.get(rule.endpoint, "")


def _requests():
    app = create_app({"ENGINE": build_engine(url="sqlite://"), "SECRET_KEY": "x"})
    params = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            params.append(pytest.param(rule.endpoint, method, id=f"{method} {rule.rule}"))
    return params


def _expected(endpoint, method, rule) -> set | None:
    if (endpoint, method) in ROUTES:
        return ROUTES[(endpoint, method)]
    return next((who for pattern, who in PATTERNS if re.search(pattern, rule)), None)


def _outcome(response, api) -> str:
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:300]
    location = response.headers.get("Location", "")
    if (api and status == 401) or (status in (301, 302, 303) and "/ingresar?next=" in location):
        return "login"
    if status in (403, 404):
        return "forbidden" if status == 403 else "missing"
    if not api and status in (302, 303):
        with response.request_client.session_transaction() as sess:
            if any(category == "error" for category, _ in sess.get("_flashes", [])):
                return "denied"
    return "ok"


def _request(world, endpoint, method, who, n):
    copy = world["folder"] / f"copia-{n}.sqlite3"
    shutil.copy(world["file"], copy)
    eng = build_engine(url=f"sqlite:///{copy}", clock=VirtualClock())
    try:
        app = create_app({"ENGINE": eng, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                          "PORTAL_PROCESS": "diagnostico_rapido"})
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
        path = _url(rule, world)
        client = app.test_client()
        api = endpoint.startswith("api.")
        headers = {}
        if api and USERS[who]:
            headers["Authorization"] = f"Bearer {world['tokens'][who]}"
        elif USERS[who]:
            login = client.post("/ingresar", data={"username": USERS[who], "password": PASSWORD})
            assert (login.status_code == 302) == (who in STAFF), login.status_code
        kwargs = {"json": JSON.get(endpoint, {})} if api and method == "POST" else {"data": FORMS.get(endpoint, {})}
        response = client.open(path, method=method, headers=headers, **kwargs)
        response.request_client = client
        return rule.rule, path, _outcome(response, api)
    finally:
        eng.db.dispose()
        copy.unlink()


@pytest.mark.parametrize(("endpoint", "method"), _requests())
def test_every_route_as_every_user(world, endpoint, method):
    results, expected, path = {}, None, None
    for n, who in enumerate(USERS):
        rule, path, results[who] = _request(world, endpoint, method, who, n)
        expected = _expected(endpoint, method, rule)
        assert expected is not None, f"{method} {path} ({endpoint}) no está en la tabla de accesos: agréguelo"
    loose = (endpoint, method) not in ROUTES
    reached = {"ok", "missing"} if loose else {"ok"}
    if (endpoint, method) in CONTENT_ERRORS:
        reached = reached | {"denied"}
    wrong = {who: got for who, got in results.items()
             if (who in expected) != (got in reached) or (who == "anonimo" and who not in expected
                                                           and got != "login")}
    assert not wrong, f"{method} {path}: esperado ok para {sorted(expected)}; obtenido {results}"


def test_a_company_account_cannot_log_in_or_use_the_api(world):
    copy = world["folder"] / "empresa.sqlite3"
    shutil.copy(world["file"], copy)
    eng = build_engine(url=f"sqlite:///{copy}", clock=VirtualClock())
    app = create_app({"ENGINE": eng, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                          "PORTAL_PROCESS": "diagnostico_rapido"})
    client = app.test_client()
    response = client.post("/ingresar", data={"username": "empresa", "password": PASSWORD})
    assert response.status_code == 403
    assert "use el enlace privado del portal de empresas" in response.get_data(as_text=True)
    assert client.get("/casos").status_code == 302
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {world['tokens']['empresa']}"})
    assert answer.status_code == 403 and "portal de empresas" in answer.get_json()["error"]
    with eng.Session() as s:
        assert s.scalar(select(ApiToken.id).limit(1)) is not None
    eng.db.dispose()
