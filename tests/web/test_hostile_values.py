"""Hostile input, class 4, through the web: the JSON API, the task form and every page that shows a
case. A value that a case may not hold (engine.basics.case_values) is refused with a Spanish message (API:
4xx JSON, form: the message on the page), the task and the case do not change, and afterwards the
case page, the task page, `GET /api/v1/cases/N` and `cpe case N --json` still work. Data stored
by an older version (lone surrogates, NaN) is shown repaired, never as a 500."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cli.context import CliContext
from cli.main import cpe
from engine.accounts import apitokens
from engine.models.validation import collect_files
from engine.programme import operators
from engine.store.schema import Case

from ..test_hostile_values import ANSWERS, HOSTILE_TEXT, START, store_old_values, strict_json

MODELS = Path(__file__).resolve().parent.parent / "models"
API = "/api/v1"
TRACE = ("Traceback", 'File "', "Error(", "Exception(")  # a traceback or a Python repr


@pytest.fixture
def site(app, engine, client, auth):
    """The app with the open model deployed, eje.rm logged in on `client`, an API token and the CLI."""
    engine.deploy(collect_files([MODELS / "abierto"]))
    auth.login()
    token = apitokens.create_token(engine, "eje.rm", name="pruebas")[1]
    api_client = app.test_client()
    runner = CliRunner()

    class Site:
        def api(self, method, path, raw=None):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            response = api_client.open(f"{API}{path}", method=method, headers=headers, data=raw)
            assert response.status_code < 500, response.text[:300]
            assert response.content_type == "application/json"
            body = strict_json(response.data.decode("utf-8"))
            assert not any(marker in response.text for marker in TRACE), response.text[:300]
            return response, body

        def cli(self, *args):
            return runner.invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app))

        def new_case(self):
            return engine.start("abierto", START)

        def task(self, case_id):
            [task] = engine.ready_tasks(case_id=case_id)
            return task

        def snapshot(self, case_id):
            case = engine.case(case_id)
            return case["data"], len(case["history"]), self.task(case_id)["id"]

        def readable(self, case_id):
            """The case page, its task page, the API and the CLI all show the case."""
            page = client.get(f"/casos/{case_id}")
            assert page.status_code == 200
            page.data.decode("utf-8")
            ready = engine.ready_tasks(case_id=case_id)
            if ready:
                assert client.get(f"/tareas/{ready[0]['id']}").status_code == 200
            assert client.get(f"/casos/{case_id}/recorrido.json").status_code == 200
            assert client.get("/casos").status_code == 200
            response, body = self.api("GET", f"/cases/{case_id}")
            assert response.status_code == 200
            shown = self.cli("case", case_id, "--json")
            assert shown.exit_code == 0, shown.output
            strict_json(shown.stdout)
            return body

    return Site()


def _raw(text: str) -> bytes:
    return text.encode("utf-8")


# -- the API -------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", HOSTILE_TEXT)
def test_api_complete_refuses_and_changes_nothing(site, data):
    case_id = site.new_case()
    before = site.snapshot(case_id)
    response, body = site.api("POST", f"/tasks/{before[2]}/complete", _raw(data))
    assert response.status_code in (400, 422), body
    assert body["error"] and body["error"][0].isupper()
    assert site.snapshot(case_id) == before
    site.readable(case_id)


@pytest.mark.parametrize("data", HOSTILE_TEXT)
def test_api_start_refuses_and_creates_no_case(site, engine, data):
    data = data.replace("{", '{"rut": "76086428-5", "razon_social": "Uno SpA", "region": "CL-RM", ', 1)
    response, body = site.api("POST", "/cases", _raw('{"process_id": "abierto", "data": ' + data + "}"))
    assert response.status_code in (400, 422), body
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_api_names_the_field_in_spanish(site):
    case_id = site.new_case()
    task = site.task(case_id)
    response, body = site.api("POST", f"/tasks/{task['id']}/complete", b'{"extra": {"x": [1, NaN]}}')
    assert response.status_code == 422
    assert body["errors"] == {"extra.x[1]": body["error"]}
    assert body["error"] == "Valor no permitido en «extra.x[1]»: el número no es finito (NaN o infinito)."
    response, body = site.api("POST", "/cases", _raw(json.dumps(
        {"process_id": "abierto", "data": dict(START, nota="a\ud800")})))
    assert response.status_code == 422 and "«data.nota»" in body["error"] and "sustituto" in body["error"]
    response, body = site.api("POST", f"/tasks/{task['id']}/complete", b'{"nota": "a", "nota": "b"}')
    assert response.status_code == 422 and "«nota»" in body["error"] and "repetida" in body["error"]


# -- the task form ---------------------------------------------------------------------------------
FORM_HOSTILE = [
    {"monto": "nan"}, {"monto": "NaN"}, {"monto": "inf"}, {"monto": "-Infinity"},
    {"monto": "1e400"}, {"cantidad": "9" * 30}, {"cantidad": "9" * 5000},
]


@pytest.mark.parametrize("form", FORM_HOSTILE)
def test_the_task_form_shows_the_refusal_and_changes_nothing(site, client, form):
    case_id = site.new_case()
    before = site.snapshot(case_id)
    response = client.post(f"/tareas/{before[2]}", data=form)
    assert response.status_code == 422
    assert "Revise los campos marcados" in response.text
    assert not any(marker in response.text for marker in TRACE)
    assert site.snapshot(case_id) == before
    site.readable(case_id)


def test_the_task_form_names_the_problem(site, client):
    """A NUL is refused for every request before any page sees it (webapp/__init__.py:
    refuse_nul; PostgreSQL cannot store one); the task does not change."""
    case_id = site.new_case()
    before = site.snapshot(case_id)
    response = client.post(f"/tareas/{before[2]}", data={"nota": "a\x00b"})
    assert response.status_code == 400 and "carácter nulo" in response.text
    assert site.snapshot(case_id) == before


# -- what is stored and what operators return --------------------------------------------------
def test_pages_api_and_cli_show_a_case_with_old_hostile_data(site, engine):
    case_id = site.new_case()
    store_old_values(engine, case_id)
    body = site.readable(case_id)
    assert body["data"]["nota"] == "a\ufffdb" and body["data"]["monto"] is None
    assert body["error"]["message"] == "fall\ufffd"


def test_an_operator_returning_a_bad_value_leaves_a_readable_case_in_error(site, engine, monkeypatch):
    monkeypatch.setitem(operators.OPERATORS, "verificar_tamano",
                        operators.Operator("verificar_tamano", lambda ctx, ventas_uf: {"tramo": float("nan")},
                                          operators.OPERATORS["verificar_tamano"].params))
    response, body = site.api("POST", "/cases", _raw(json.dumps(
        {"process_id": "diagnostico_rapido", "data": dict(START, ventas_uf=900)})))
    assert response.status_code == 201, body
    assert body["status"] == "error" and "Valor no permitido" in body["error"]["message"]
    site.readable(body["id"])


# -- by property -----------------------------------------------------------------------------------
PROPERTY = settings(derandomize=True, max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(answers=ANSWERS)
def test_api_never_fails_and_the_case_stays_readable(site, answers):
    case_id = site.new_case()
    task = site.task(case_id)
    raw = json.dumps(answers, allow_nan=True).encode("ascii")  # NaN literals; surrogates as escapes
    response, body = site.api("POST", f"/tasks/{task['id']}/complete", raw)
    assert response.status_code in (200, 400, 422), body
    event(f"status {response.status_code}")
    if response.status_code != 200:
        assert site.task(case_id)["id"] == task["id"]
    response, body = site.api("GET", f"/cases/{case_id}")
    assert response.status_code == 200


_form_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
_number_text = st.one_of(_form_text, st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999",
                                                      "1" + "0" * 40, "9" * 5000, "1,5", "0x10"]),
                         st.floats().map(repr), st.integers().map(str))


@PROPERTY
@given(nota=_form_text, monto=_number_text, cantidad=_number_text)
def test_the_task_form_never_fails_and_the_case_stays_readable(site, client, nota, monto, cantidad):
    case_id = site.new_case()
    task = site.task(case_id)
    response = client.post(f"/tareas/{task['id']}", data={"nota": nota, "monto": monto, "cantidad": cantidad})
    assert response.status_code in (302, 422) or (response.status_code == 400 and "carácter nulo" in response.text)
    event(f"status {response.status_code}")
    assert not any(marker in response.text for marker in TRACE)
    if response.status_code == 422:
        assert site.task(case_id)["id"] == task["id"]
    response, body = site.api("GET", f"/cases/{case_id}")
    assert response.status_code == 200
    assert client.get(f"/casos/{case_id}").status_code == 200


def test_flask_json_is_strict_both_ways(app):
    with app.app_context():
        strict_json(app.json.dumps({"a": float("nan"), "b": "x\ud800", "c": [float("inf")], "d": "😀"}))
        with pytest.raises(ValueError):
            app.json.loads('{"a": NaN}')


def test_the_skip_form_refuses_values_a_case_may_not_hold(site, client, engine, auth, monkeypatch):
    def broken(ctx, motivo, region, institucion=None):
        raise ValueError("directorio caído")
    monkeypatch.setitem(operators.OPERATORS, "derivar",
                        dataclasses.replace(operators.OPERATORS["derivar"], run=broken))
    case_id = engine.start("diagnostico_rapido", dict(START, ventas_uf=900))
    client.post("/salir")
    auth.login("analista")
    for values, message in (('{"derivacion": NaN}', "no es finito"), ('{"derivacion": "\\ud800"}', "sustituto"),
                            ('{"derivacion": 1, "derivacion": 2}', "repetida")):
        page = client.post(f"/casos/{case_id}/omitir", data={"valores": values, "motivo": "por teléfono"},
                           follow_redirects=True)
        assert page.status_code == 200 and message in page.text
        assert engine.case(case_id)["status"] == "error"


def test_the_company_portal_refuses_and_reads_old_data(site, app, engine):
    from engine.programme import portal

    app.config["PORTAL_PROCESS"] = "abierto"
    anonymous = app.test_client()
    page = anonymous.post("/portal/registro", data=dict(START, razon_social="Uno\x00SpA"))
    assert page.status_code == 400 and "carácter nulo" in page.text
    page = anonymous.post("/portal/registro", data=dict(START, monto="nan"))
    assert page.status_code == 422 and "Debe ser un número" in page.text
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    links = []

    def compose(token):
        links.append(token)
        return "Su enlace", f"/portal/e/{token}"
    portal.register(engine, "abierto", START, compose, compose)  # the link only travels by email
    with engine.Session() as s:
        case_id = s.scalar(select(Case.id))
    store_old_values(engine, case_id)
    assert anonymous.get(f"/portal/e/{links[-1]}").status_code == 200


@pytest.mark.parametrize("body", [b"nota=a%ED%A0%80b", b"nota=a%00b&monto=NaN", b"monto=%FF%FE", b"cantidad=1e999"])
def test_raw_form_bodies_never_fail(site, client, body):
    """Bytes an HTML form could never send (a UTF-8-encoded surrogate, invalid UTF-8) still end in a
    page: werkzeug decodes them with replacement characters, and the engine checks the rest."""
    case_id = site.new_case()
    task = site.task(case_id)
    response = client.post(f"/tareas/{task['id']}", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 422) or (response.status_code == 400 and "carácter nulo" in response.text)
    assert not any(marker in response.text for marker in TRACE)
    site.readable(case_id)
