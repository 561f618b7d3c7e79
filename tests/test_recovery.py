"""After a step fails (issue 8 point 3): automatic retries as the model asks (`reintentos`,
`espera_reintento` on the service task), retried by the worker once per attempt; an analyst
can retry or skip the step; everything is in the history and nothing is half-applied."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.basics.errors import Conflict, DeployError, EngineError
from engine.models.retry_policy import retry_policy
from engine.models.validation import collect_files
from engine.programme import operators
from engine.store.schema import Derivation

MODEL = Path(__file__).parent / "models" / "diagnostico"
MICRO = {"rut": "76086428-5", "razon_social": "Pequeñita", "region": "CL-VS", "ventas_uf": 900}
SERVICE = b'<bpmn:serviceTask id="Service_Derivar" name="Derivar a SERCOTEC">\n      <bpmn:extensionElements>'


def _model(retries=None, wait=None):
    files = dict(collect_files([MODEL]))
    if retries is not None:
        props = f'<spiffworkflow:property name="reintentos" value="{retries}" />'
        if wait is not None:
            props += f'<spiffworkflow:property name="espera_reintento" value="{wait}" />'
        xml = files["diagnostico_rapido.bpmn"]
        assert SERVICE in xml
        files["diagnostico_rapido.bpmn"] = xml.replace(
            SERVICE, SERVICE + f"<spiffworkflow:properties>{props}</spiffworkflow:properties>".encode())
    return list(files.items())


@pytest.fixture
def failing(monkeypatch):
    """`derivar` fails the first `state["fail"]` times it is called."""
    original = operators.OPERATORS["derivar"]
    state = {"fail": 1, "calls": 0}

    def flaky(ctx, motivo, region, institucion=None):
        state["calls"] += 1
        if state["calls"] <= state["fail"]:
            raise ValueError("directorio de derivación no disponible")
        return original.run(ctx, motivo, region, institucion)

    monkeypatch.setitem(operators.OPERATORS, "derivar", dataclasses.replace(original, run=flaky))
    return state


def _derivations(engine):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(Derivation))


@pytest.mark.parametrize("props, expected", [
    ({}, None),
    ({"reintentos": "0"}, None),
    ({"reintentos": "3"}, (3, timedelta(minutes=5))),
    ({"reintentos": "2", "espera_reintento": "PT30S"}, (2, timedelta(seconds=30))),
    ({"reintentos": "1", "espera_reintento": "P1D"}, (1, timedelta(days=1))),
])
def test_retry_policy_from_properties(props, expected):
    assert retry_policy(props) == expected


@pytest.mark.parametrize("props, message", [
    ({"reintentos": "muchos"}, "número entero"),
    ({"reintentos": "11"}, "número entero"),
    ({"reintentos": "-1"}, "número entero"),
    ({"reintentos": "2", "espera_reintento": "cinco minutos"}, "duración ISO 8601"),
    ({"reintentos": "2", "espera_reintento": "P1M"}, "sin meses"),
    ({"reintentos": "2", "espera_reintento": "P30D"}, "7 días"),
])
def test_bad_retry_settings_are_refused(props, message):
    with pytest.raises(ValueError, match=message):
        retry_policy(props)


def test_deploy_refuses_bad_retry_settings_naming_the_element(engine):
    with pytest.raises(DeployError) as info:
        engine.deploy(_model(retries="muchos"))
    assert "Service_Derivar" in str(info.value) and "reintentos" in str(info.value)


def test_automatic_retries_follow_the_model_and_stop_after_the_last(engine, clock, failing):
    failing["fail"] = 3
    engine.deploy(_model(retries=2, wait="PT10M"))
    case_id = engine.start("diagnostico_rapido", MICRO)
    case = engine.case(case_id)
    assert case["status"] == "error" and case["error"]["intento"] == 1 and case["error"]["reintentos"] == 2
    assert case["error"]["reintento_en"] and _derivations(engine) == 0
    assert engine.retry_due() == 0  # not due yet
    clock.advance(minutes=11)
    assert engine.retry_due() == 1 and engine.retry_due() == 0  # once per attempt
    case = engine.case(case_id)
    assert case["status"] == "error" and case["error"]["intento"] == 2 and case["error"]["reintento_en"]
    clock.advance(minutes=11)
    assert engine.retry_due() == 1
    case = engine.case(case_id)
    assert case["error"]["intento"] == 3 and "reintento_en" not in case["error"]  # attempts used up
    assert case["next_timer_at"] is None
    clock.advance(days=1)
    assert engine.retry_due() == 0 and failing["calls"] == 3
    retries = [e for e in case["history"] if e["kind"] == "retry"]
    assert [e["actor"] for e in retries] == ["reintento automático"] * 2
    # the analyst fixes the cause and retries by hand: the step runs once, the case moves on
    assert engine.retry(case_id, actor="analista")["status"] != "error"
    assert _derivations(engine) == 1 and failing["calls"] == 4


def test_automatic_retry_succeeds_when_the_cause_goes_away(engine, clock, failing):
    engine.deploy(_model(retries=3, wait="PT1M"))
    case_id = engine.start("diagnostico_rapido", MICRO)
    assert engine.case(case_id)["status"] == "error"
    clock.advance(minutes=2)
    assert engine.retry_due() == 1
    case = engine.case(case_id)
    assert case["status"] != "error" and case["error"] is None and case["data"]["derivacion"]["institucion"]
    assert _derivations(engine) == 1


def test_without_retry_settings_a_failed_case_waits_for_an_analyst(engine, clock, failing):
    engine.deploy(_model())
    case_id = engine.start("diagnostico_rapido", MICRO)
    clock.advance(days=30)
    assert engine.retry_due() == 0 and engine.fire_due_timers() == 0
    assert engine.case(case_id)["status"] == "error" and failing["calls"] == 1


def test_two_workers_retry_one_attempt_once(engine, clock, failing, database_url):
    failing["fail"] = 10
    engine.deploy(_model(retries=5, wait="PT1M"))
    ids = [engine.start("diagnostico_rapido", {**MICRO, "rut": rut}) for rut in ("76086428-5", "96790240-3")]
    clock.advance(minutes=2)
    workers = [build_engine(url=database_url, clock=clock) for _ in range(2)]
    barrier, done = threading.Barrier(2), []

    def run(worker):
        barrier.wait()
        done.append(worker.retry_due())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for worker in workers:
        worker.db.dispose()
    assert sum(done) == 2 and failing["calls"] == 4  # 2 starts + one retry per case
    for case_id in ids:
        assert engine.case(case_id)["error"]["intento"] == 2


def test_an_analyst_skips_the_failed_step_with_values_and_a_reason(engine, failing):
    failing["fail"] = 99
    engine.deploy(_model())
    case_id = engine.start("diagnostico_rapido", MICRO)
    with pytest.raises(EngineError, match="por qué"):
        engine.skip(case_id, "analista", values={}, reason="  ")
    with pytest.raises(EngineError, match="nombres de variable"):
        engine.skip(case_id, "analista", values={"__class__": 1}, reason="manual")
    assert engine.case(case_id)["status"] == "error"  # refused: nothing changed
    derivacion = {"institucion": "SERCOTEC Valparaíso", "contacto": "llamada", "direccion": "-", "fecha": "2026-03-02"}
    result = engine.skip(case_id, "analista", values={"derivacion": derivacion},
                         reason="derivada por teléfono; el directorio estaba caído")
    case = engine.case(case_id)
    assert result["status"] == case["status"] != "error"
    assert case["data"]["derivacion"] == derivacion and failing["calls"] == 1 and _derivations(engine) == 0
    [skipped] = [e for e in case["history"] if e["kind"] == "step_skipped"]
    assert skipped["actor"] == "analista" and skipped["bpmn_id"] == "Service_Derivar"
    assert skipped["detail"]["motivo"].startswith("derivada por teléfono")
    with pytest.raises(Conflict, match="no está en error"):
        engine.skip(case_id, "analista", reason="otra vez")


# -- the case page (analysts) ----------------------------------------------------------------

def _web(engine):
    from webapp import create_app

    app = create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "t"})
    return app.test_client()


def _login(client, user):
    assert client.post("/ingresar", data={"username": user, "password": "secreto-123"}).status_code == 302


def test_case_page_lets_an_analyst_retry_or_skip_and_no_one_else(engine, failing):
    failing["fail"] = 99
    engine.deploy(_model(retries=1, wait="PT5M"))
    engine.create_user("ana", "secreto-123", "analista")
    engine.create_user("eje", "secreto-123", "ejecutivo_cpe", region="CL-VS")
    case_id = engine.start("diagnostico_rapido", MICRO)
    client = _web(engine)
    _login(client, "eje")
    page = client.get(f"/casos/{case_id}").get_data(as_text=True)
    assert "Intento 1 de 2" in page and "Reintentar el paso" not in page
    assert client.post(f"/casos/{case_id}/reintentar").status_code == 403
    assert client.post(f"/casos/{case_id}/omitir", data={"motivo": "x"}).status_code == 403
    client = _web(engine)
    _login(client, "ana")
    assert "Reintentar el paso" in client.get(f"/casos/{case_id}").get_data(as_text=True)
    answer = client.post(f"/casos/{case_id}/reintentar", follow_redirects=True).get_data(as_text=True)
    assert "volvió a fallar" in answer and failing["calls"] == 2
    answer = client.post(f"/casos/{case_id}/omitir", data={"motivo": "ok", "valores": "{no es json"},
                         follow_redirects=True).get_data(as_text=True)
    assert "no son JSON válido" in answer and engine.case(case_id)["status"] == "error"
    answer = client.post(f"/casos/{case_id}/omitir", data={"motivo": "derivada por teléfono",
                                                            "valores": '{"derivacion": {"institucion": "SERCOTEC"}}'},
                         follow_redirects=True).get_data(as_text=True)
    assert "Se omitió el paso" in answer
    case = engine.case(case_id)
    assert case["status"] != "error" and case["data"]["derivacion"] == {"institucion": "SERCOTEC"}
    assert [e["actor"] for e in case["history"] if e["kind"] == "step_skipped"] == ["ana"]


def test_an_operator_that_wrote_rows_and_then_failed_leaves_none_behind(engine, monkeypatch):
    original = operators.OPERATORS["derivar"]
    state = {"calls": 0}

    def writes_then_fails(ctx, motivo, region, institucion=None):
        state["calls"] += 1
        result = original.run(ctx, motivo, region, institucion)  # stores a Derivation row
        if state["calls"] == 1:
            raise ValueError("falló después de escribir")
        return result

    monkeypatch.setitem(operators.OPERATORS, "derivar",
                        dataclasses.replace(original, run=writes_then_fails))
    engine.deploy(_model())
    case_id = engine.start("diagnostico_rapido", MICRO)
    assert engine.case(case_id)["status"] == "error" and _derivations(engine) == 0
    engine.retry(case_id, actor="analista")
    assert engine.case(case_id)["status"] != "error" and _derivations(engine) == 1
