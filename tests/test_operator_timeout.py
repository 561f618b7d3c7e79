"""An operator that runs out of time (issue 8 point 3): the service task's `tiempo_limite`
bounds it; the case goes to the error state with the reason, nothing the operator wrote stays,
the model's retries apply, and an analyst can retry once the cause is gone.

The slow operators are real database work: on PostgreSQL the derivation's INSERT waits for a
table lock another transaction holds; on both databases a long query, and slow Python."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.basics.errors import DeployError
from engine.models.validation import collect_files
from engine.operators.deadline import DEFAULT_SECONDS, describe, limit_seconds
from engine.programme import operators as registry
from engine.store.schema import Derivation

MODEL = Path(__file__).parent / "models" / "diagnostico"
MICRO = {"rut": "76086428-5", "razon_social": "Pequeñita", "region": "CL-VS", "ventas_uf": 900}
SERVICE = b'<bpmn:serviceTask id="Service_Derivar" name="Derivar a SERCOTEC">\n      <bpmn:extensionElements>'
LONG_QUERY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
              "SELECT count(*) FROM c")


def _model(**props):
    files = dict(collect_files([MODEL]))
    xml = files["diagnostico_rapido.bpmn"]
    assert SERVICE in xml
    body = "".join(f'<spiffworkflow:property name="{k}" value="{v}" />' for k, v in props.items())
    files["diagnostico_rapido.bpmn"] = xml.replace(
        SERVICE, SERVICE + f"<spiffworkflow:properties>{body}</spiffworkflow:properties>".encode())
    return list(files.items())


def _derivations(engine):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(Derivation))


def _slow_derivar(monkeypatch, slow):
    """`derivar` that writes its derivation row, then is slow in the way `slow(ctx)` says."""
    original = registry.OPERATORS["derivar"]

    def run(ctx, motivo, region, institucion=None):
        result = original.run(ctx, motivo, region, institucion)
        ctx.session.flush()
        slow(ctx)
        return result

    monkeypatch.setitem(registry.OPERATORS, "derivar", dataclasses.replace(original, run=run))


@pytest.mark.parametrize("props, expected", [
    ({}, DEFAULT_SECONDS),
    ({"tiempo_limite": ""}, DEFAULT_SECONDS),
    ({"tiempo_limite": "PT1S"}, 1.0),
    ({"tiempo_limite": "PT2.5S"}, 2.5),
    ({"tiempo_limite": '"PT10S"'}, 10.0),
    ({"tiempo_limite": "PT5M"}, 300.0),
    ({"tiempo_limite": "PT1M30S"}, 90.0),
])
def test_time_limit_from_properties(props, expected):
    assert limit_seconds(props) == expected


@pytest.mark.parametrize("value, message", [
    ("diez segundos", "duración ISO 8601"),
    ("PT0.5S", "entre 1 segundo y 5 minutos"),
    ("PT0S", "entre 1 segundo y 5 minutos"),
    ("PT6M", "entre 1 segundo y 5 minutos"),
    ("P1D", "entre 1 segundo y 5 minutos"),
    ("P1M", "entre 1 segundo y 5 minutos"),
])
def test_bad_time_limits_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        limit_seconds({"tiempo_limite": value})


@pytest.mark.parametrize("seconds, text", [(30.0, "30 s"), (1.5, "1,5 s"), (120.0, "2 min"), (90.0, "90 s")])
def test_limits_are_described_in_spanish(seconds, text):
    assert describe(seconds) == text


def test_deploy_refuses_a_bad_time_limit_naming_the_element(engine):
    with pytest.raises(DeployError) as info:
        engine.deploy(_model(tiempo_limite="PT10H"))
    assert "Service_Derivar" in str(info.value) and "tiempo_limite" in str(info.value)


def _assert_timed_out(engine, case_id, limit_text):
    case = engine.case(case_id)
    assert case["status"] == "error", case
    assert case["error"]["bpmn_id"] == "Service_Derivar"
    assert f"tiempo límite ({limit_text})" in case["error"]["message"], case["error"]
    assert _derivations(engine) == 0  # the row the operator wrote before running out of time is gone
    [event] = [e for e in case["history"] if e["kind"] == "error"]
    assert "tiempo límite" in event["detail"]["message"]
    return case


def test_a_long_query_is_interrupted_at_the_limit(engine, monkeypatch):
    """Without the interruption the query would run for minutes (SQLite: progress handler;
    PostgreSQL: statement_timeout)."""
    _slow_derivar(monkeypatch, lambda ctx: ctx.session.execute(text(LONG_QUERY)).scalar())
    engine.deploy(_model(tiempo_limite="PT1S"))
    started = time.monotonic()
    case_id = engine.start("diagnostico_rapido", MICRO)
    assert time.monotonic() - started < 8  # the whole query would take ~20 s of CPU
    _assert_timed_out(engine, case_id, "1 s")


def test_slow_python_past_the_limit_is_refused_and_retried_by_the_model(engine, clock, monkeypatch):
    calls = []

    def slow(ctx):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(1.3)

    _slow_derivar(monkeypatch, slow)
    engine.deploy(_model(tiempo_limite="PT1S", reintentos="2", espera_reintento="PT1M"))
    case_id = engine.start("diagnostico_rapido", MICRO)
    case = _assert_timed_out(engine, case_id, "1 s")
    assert case["error"]["intento"] == 1 and case["error"]["reintento_en"]
    clock.advance(minutes=2)
    assert engine.retry_due() == 1
    case = engine.case(case_id)
    assert case["status"] != "error" and case["data"]["derivacion"]["institucion"]
    assert _derivations(engine) == 1 and len(calls) == 2


def test_within_the_limit_the_operator_runs_and_the_connection_keeps_its_settings(engine, database_url):
    engine.deploy(_model(tiempo_limite="PT5S"))
    case_id = engine.start("diagnostico_rapido", MICRO)
    assert engine.case(case_id)["status"] != "error" and _derivations(engine) == 1
    if database_url.startswith("postgresql"):
        with engine.Session() as s:  # SET LOCAL ended with its transaction
            assert s.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_waiting_for_a_lock_held_elsewhere_times_out_and_an_analyst_retries(engine, database_url):
    """PostgreSQL: another transaction holds the derivations table; the operator's INSERT waits,
    statement_timeout ends the wait at the limit; once the lock is gone the retry succeeds."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writers take the database lock before any operator runs (BEGIN IMMEDIATE)")
    engine.deploy(_model(tiempo_limite="PT1S"))
    other = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    locked, release = threading.Event(), threading.Event()

    def hold():
        with other.begin() as connection:
            connection.execute(text("LOCK TABLE derivations IN EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        case_id = engine.start("diagnostico_rapido", MICRO)
        assert time.monotonic() - started < 10
        _assert_timed_out(engine, case_id, "1 s")
    finally:
        release.set()
        holder.join()
        other.dispose()
    assert engine.retry(case_id, actor="analista")["status"] != "error"
    assert _derivations(engine) == 1
