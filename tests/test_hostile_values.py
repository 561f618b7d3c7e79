"""Hostile input, class 4: one value must never poison a case. Every value entering a case
(form answers, start data, skip values, operator results) is plain, bounded JSON (engine.basics.case_values)
or it is refused with a Spanish message and nothing changes; a stored case can always be read,
even with data an older version stored (lone surrogates, NaN).

The model `tests/models/abierto` has forms that let any extra field through, so the hostile
values reach the engine's own check instead of being stopped by a form's schema."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from cli.context import CliContext
from cli.main import cpe
from engine.basics.errors import EngineError, ValueRefused
from engine.models.validation import collect_files
from engine.programme import operators
from engine.store.schema import Case, CaseEvent
from webapp import create_app

MODELS = Path(__file__).parent / "models"
START = {"rut": "76086428-5", "razon_social": "Uno SpA", "region": "CL-RM"}


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


# Python values that a form lets through to the engine (the field is free, or extra)
HOSTILE = [
    pytest.param({"nota": "a\ud800b"}, id="lone-surrogate"),
    pytest.param({"extra": {"\udfff": 1}}, id="lone-surrogate-key"),
    pytest.param({"monto": float("nan")}, id="nan"),
    pytest.param({"extra": {"x": float("inf")}}, id="infinity"),
    pytest.param({"extra": {"x": [float("-inf")]}}, id="minus-infinity"),
    pytest.param({"extra": {"typename": "BpmnWorkflow"}}, id="typename-key"),
    pytest.param({"extra": {"l": nested(100_000)}}, id="deep-list"),
    pytest.param({"cantidad": 10**30}, id="huge-int"),
    pytest.param({"nota": "a\x00b"}, id="nul"),
    pytest.param({"extra": {"c": complex(1, 2)}}, id="complex"),
    pytest.param({"extra": {"s": {1, 2}}}, id="set"),
    pytest.param({"extra": {"r": range(3)}}, id="range"),
    pytest.param({"extra": {1: "a", "1": "b"}}, id="non-text-key"),
]

# The same as JSON text, as the CLI and the API receive it
HOSTILE_TEXT = [
    pytest.param('{"nota": "a\\ud800b"}', id="lone-surrogate"),
    pytest.param('{"extra": {"\\udfff": 1}}', id="lone-surrogate-key"),
    pytest.param('{"monto": NaN}', id="nan"),
    pytest.param('{"extra": {"x": Infinity}}', id="infinity"),
    pytest.param('{"extra": {"x": [-Infinity]}}', id="minus-infinity"),
    pytest.param('{"extra": {"x": 1e400}}', id="overflowing-float"),
    pytest.param('{"extra": {"typename": "BpmnWorkflow"}}', id="typename-key"),
    pytest.param('{"extra": {"l": ' + "[" * 100_000 + "]" * 100_000 + "}}", id="deep-list"),
    pytest.param('{"extra": {"l": ' + "[" * 40 + "]" * 40 + "}}", id="nested-past-the-limit"),
    pytest.param('{"cantidad": 1' + "0" * 30 + "}", id="huge-int"),
    pytest.param('{"cantidad": 1' + "0" * 5000 + "}", id="enormous-int"),
    pytest.param('{"nota": "a\\u0000b"}', id="nul"),
    pytest.param('{"nota": "a", "nota": "b"}', id="duplicate-key"),
    pytest.param('{"extra": {"1": "a", "1": "b"}}', id="duplicate-nested-key"),
]


def strict_json(text_: str):
    """Parse as a strict reader would: no NaN/Infinity, valid Unicode everywhere."""
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")
    value = json.loads(text_, parse_constant=refuse)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # no lone surrogate came from an escape
    return value


@pytest.fixture
def hostile(engine):
    engine.deploy(collect_files([MODELS / "abierto"]))
    engine.deploy(collect_files([MODELS / "diagnostico"]))
    return engine


def _ready(engine, case_id):
    [task] = engine.ready_tasks(case_id=case_id)
    return task


def _snapshot(engine, case_id):
    case = engine.case(case_id)
    return case["data"], len(case["history"]), _ready(engine, case_id)["id"]


def _readable(engine, case_id):
    case = engine.case(case_id)
    strict_json(json.dumps(case, ensure_ascii=False, allow_nan=False))
    return case


# -- the engine's verbs ----------------------------------------------------------------------------
@pytest.mark.parametrize("answers", HOSTILE)
def test_engine_complete_refuses_and_changes_nothing(hostile, answers):
    case_id = hostile.start("abierto", START)
    before = _snapshot(hostile, case_id)
    with pytest.raises(ValueRefused) as caught:
        hostile.complete(before[2], answers, user=None, actor="prueba")
    assert str(caught.value).startswith("Valor no permitido")
    assert "Traceback" not in str(caught.value)
    str(caught.value).encode("utf-8")
    assert _snapshot(hostile, case_id) == before
    _readable(hostile, case_id)


@pytest.mark.parametrize("answers", HOSTILE)
def test_engine_start_refuses_and_creates_no_case(hostile, answers):
    with pytest.raises(ValueRefused):
        hostile.start("abierto", dict(START, **answers))
    with hostile.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_nan_does_not_pass_the_forms_minimum_and_maximum(hostile):
    """jsonschema's minimum/maximum compare, and every comparison with NaN is false."""
    with pytest.raises(ValueRefused, match="monto"):
        hostile.start("abierto", dict(START, monto=float("nan")))
    with pytest.raises(ValueRefused, match="ventas_uf"):
        hostile.start("diagnostico_rapido", dict(START, ventas_uf=float("nan")))


@pytest.mark.parametrize("values", [
    {"derivacion": {"x": float("nan")}}, {"derivacion": "\ud800"}, {"derivacion": {"typename": "X"}},
    {"derivacion": nested(100_000)}, {"derivacion": complex(1, 1)},
])
def test_skip_values_are_checked(hostile, monkeypatch, values):
    def broken(ctx, motivo, region, institucion=None):
        raise ValueError("directorio caído")
    monkeypatch.setitem(operators.OPERATORS, "derivar",
                        dataclasses.replace(operators.OPERATORS["derivar"], run=broken))
    case_id = hostile.start("diagnostico_rapido", dict(START, ventas_uf=900))
    assert hostile.case(case_id)["status"] == "error"
    history = len(hostile.case(case_id)["history"])
    with pytest.raises(ValueRefused):
        hostile.skip(case_id, "analista", values=values, reason="por teléfono")
    case = _readable(hostile, case_id)
    assert case["status"] == "error" and len(case["history"]) == history


@pytest.mark.parametrize("result", [
    {"tramo": float("nan"), "elegible": True}, {"tramo": "\ud800", "elegible": True}, complex(1, 2),
    {"tramo": {1, 2}, "elegible": True}, {"typename": "BpmnWorkflow"}, {"tramo": nested(100_000)},
    {"tramo": 10**40, "elegible": True},
])
def test_an_operator_returning_a_bad_value_puts_the_case_in_error(hostile, monkeypatch, result):
    monkeypatch.setitem(operators.OPERATORS, "verificar_tamano",
                        operators.Operator("verificar_tamano", lambda ctx, ventas_uf: result,
                                          operators.OPERATORS["verificar_tamano"].params))
    case_id = hostile.start("diagnostico_rapido", dict(START, ventas_uf=900))
    case = _readable(hostile, case_id)
    assert case["status"] == "error", case
    assert "Valor no permitido" in case["error"]["message"]
    assert "tamano" not in case["data"]
    assert not re.search(r"Traceback|Error\(|Exception", case["error"]["message"])


# -- data stored by an older version -------------------------------------------------------------
OLD_DATA = ('{"rut": "76.086.428-5", "region": "CL-RM", "nota": "a\\ud800b", "monto": NaN, "x": [Infinity], '
            '"hondo": ' + "[" * 900 + "]" * 900 + ', "typename": {"typename": "X"}, '
            '"resultado_tpe": {"dimensiones": {"gestion": NaN, "mercado": "\\ud800", "finanzas": 40}}}')
OLD_DETAIL = '{"data": {"nota": "\\udfff", "monto": NaN}, "form": "ab_libre"}'


def store_old_values(engine, case_id):
    """Write, as an older version could, a lone surrogate and NaN into the case row and history."""
    if engine.db.dialect.name != "sqlite":
        pytest.skip("only SQLite's JSON columns could hold these values (PostgreSQL refuses them)")
    with engine.db.begin() as conn:
        conn.execute(text("UPDATE cases SET data = :data, error = :error WHERE id = :id"),
                     {"data": OLD_DATA, "error": '{"message": "fall\\ud800", "bpmn_id": null}', "id": case_id})
        conn.execute(text("INSERT INTO case_events (case_id, at, actor, kind, detail) "
                          "VALUES (:id, '2026-01-01 00:00:00', 'eje.rm', 'task_completed', :detail)"),
                     {"id": case_id, "detail": OLD_DETAIL})
    engine.workflows.clear()


def test_a_case_with_old_hostile_data_is_still_readable(hostile):
    case_id = hostile.start("abierto", START)
    store_old_values(hostile, case_id)
    case = _readable(hostile, case_id)
    assert case["data"]["nota"] == "a\ufffdb" and case["data"]["monto"] is None
    assert case["history"][-1]["detail"]["data"] == {"nota": "\ufffd", "monto": None}


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture
def run(hostile):
    app = create_app({"ENGINE": hostile, "SECRET_KEY": "test"})
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app))
    return invoke


def _cli_refused(result):
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert re.search(r"Valor no permitido|no es JSON válido", result.stderr), result.stderr  # Spanish, ours


def _cli_case(run, case_id):
    shown = run("case", case_id, "--json")
    assert shown.exit_code == 0, shown.output
    return strict_json(shown.stdout)


@pytest.mark.parametrize("data", HOSTILE_TEXT)
def test_cli_complete_refuses_with_a_message(hostile, run, data):
    case_id = hostile.start("abierto", START)
    before = _snapshot(hostile, case_id)
    _cli_refused(run("complete", before[2], "--data", data))
    assert _snapshot(hostile, case_id) == before
    assert _cli_case(run, case_id)["data"] == before[0]


@pytest.mark.parametrize("data", HOSTILE_TEXT)
def test_cli_start_refuses_with_a_message(hostile, run, data):
    data = data.replace("{", '{"rut": "76086428-5", "razon_social": "Uno SpA", "region": "CL-RM", ', 1)
    _cli_refused(run("start", "abierto", "--data", data))
    with hostile.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_cli_skip_refuses_hostile_values(hostile, run, monkeypatch):
    def broken(ctx, motivo, region, institucion=None):
        raise ValueError("directorio caído")
    monkeypatch.setitem(operators.OPERATORS, "derivar",
                        dataclasses.replace(operators.OPERATORS["derivar"], run=broken))
    case_id = hostile.start("diagnostico_rapido", dict(START, ventas_uf=900))
    _cli_refused(run("skip", case_id, "--reason", "x", "--data", '{"derivacion": NaN}'))
    _cli_refused(run("skip", case_id, "--reason", "x", "--data", '{"derivacion": "\\ud800"}'))
    assert _cli_case(run, case_id)["status"] == "error"


def test_cli_reads_a_case_with_old_hostile_data(hostile, run):
    case_id = hostile.start("abierto", START)
    store_old_values(hostile, case_id)
    case = _cli_case(run, case_id)
    assert case["data"]["nota"] == "a\ufffdb"
    human = run("case", case_id)
    assert human.exit_code == 0 and "Traceback" not in human.output


# -- by property -----------------------------------------------------------------------------------
_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00", "é"])),
                max_size=12)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10**17, max_value=10**40),
                     st.floats(), st.sampled_from([float("nan"), float("inf"), -float("inf")]), _text)
_keys = st.one_of(st.sampled_from(["nota", "monto", "cantidad", "extra", "typename", "\ud800"]), _text)
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_keys, inner, max_size=3)),
                       max_leaves=12)
_deep = st.integers(min_value=25, max_value=900).map(nested)
ANSWERS = st.dictionaries(_keys, st.one_of(_values, _deep), max_size=4)


@settings(derandomize=True, max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(answers=ANSWERS)
def test_cli_never_crashes_and_the_case_stays_readable(hostile, run, answers):
    case_id = hostile.start("abierto", START)
    task = _ready(hostile, case_id)
    data = json.dumps(answers, allow_nan=True)  # NaN/Infinity literals, surrogates as \\u escapes
    result = run("complete", task["id"], "--data", data)
    event(f"exit code {result.exit_code}")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.stderr.startswith("error: ")
        assert _ready(hostile, case_id)["id"] == task["id"]
    _cli_case(run, case_id)


@settings(derandomize=True, max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(answers=ANSWERS)
def test_engine_accepts_only_what_stays_readable(hostile, answers):
    case_id = hostile.start("abierto", START)
    task = _ready(hostile, case_id)
    try:
        hostile.complete(task["id"], answers, actor="prueba")
    except EngineError as exc:  # ValueRefused, or the form's own FormError is a ValueError
        str(exc).encode("utf-8")
        assert _ready(hostile, case_id)["id"] == task["id"]
    except ValueError as exc:
        str(exc).encode("utf-8")
        assert _ready(hostile, case_id)["id"] == task["id"]
    _readable(hostile, case_id)


# -- what else keeps values that enter a case ---------------------------------------------------
def test_a_form_field_the_engine_reserves_is_refused_at_deploy():
    from engine.models.forms import load_form

    with pytest.raises(ValueError, match="reservado"):
        load_form('{"type": "object", "properties": {"typename": {"type": "string"}}}')


@pytest.mark.parametrize("data", [{"nota": "a\ud800"}, {"cantidad": 10**30}, {"extra": {"l": nested(100)}}])
def test_a_draft_holds_only_plain_json(hostile, data):
    from engine.cases.drafts import load_draft, save_draft

    case_id = hostile.start("abierto", START)
    task = _ready(hostile, case_id)
    with pytest.raises(ValueError):
        save_draft(hostile, task["id"], "eje.rm", data)
    assert load_draft(hostile, task["id"], "eje.rm") is None
