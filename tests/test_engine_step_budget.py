"""A loop that waits for nothing (issue 17, item B): a diagram whose gateway goes back through script
tasks only would run without end, or — past SpiffWorkflow 3.2's task-tree depth of 1000 — be reported
as completed with its last tasks unseen. The engine's step budget (engine/models/spiff.py) puts such
a case in error with a Spanish message naming where it looped, and validate warns about the cycle."""

from __future__ import annotations

import faulthandler

import pytest

from engine.basics.errors import errors_of
from engine.models import spiff
from tests.minimal_models import FORM, bpmn, flow, lanes, script, user

GUARD_SECONDS = 300  # a hang ends the test process with a traceback instead of blocking the run


@pytest.fixture(autouse=True)
def hang_guard():
    faulthandler.dump_traceback_later(GUARD_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _loop(pid, exit_condition="n &lt; 0", before="", inside=""):
    """Start → n = 0 → [inside] → n = n + 1 → ¿Seguir? → back to the increment unless `exit_condition`."""
    return bpmn(pid, '<bpmn:startEvent id="S"/>' + flow("F1", "S", "A") + script("A", "n = 0")
                + flow("F2", "A", "B") + script("B", "n = n + 1") + flow("F3", "B", "G")
                + '<bpmn:exclusiveGateway id="G" name="¿Seguir?" default="F4"/>'
                + flow("F4", "G", "B") + flow("F5", "G", "E", exit_condition) + '<bpmn:endEvent id="E"/>')


def _in_subprocess(pid):
    inner = _loop("x").decode()
    body = inner[inner.index('<bpmn:startEvent'):inner.index("</bpmn:process>")]
    return bpmn(pid, '<bpmn:startEvent id="PS"/>' + flow("P1", "PS", "Sub")
                + f'<bpmn:subProcess id="Sub" name="Calcular">{body}</bpmn:subProcess>'
                + flow("P2", "Sub", "PE") + '<bpmn:endEvent id="PE"/>')


def _assert_looped(engine, case_id, where="G"):
    case = engine.case(case_id)
    assert case["status"] == "error", (case["status"], case["data"])
    message = case["error"]["message"]
    assert message.startswith("El caso dio ") and "pasos sin esperar" in message, message
    assert "revise el ciclo en «¿Seguir?»" in message, message
    assert case["error"]["bpmn_id"] == where
    return case


def test_a_loop_of_script_tasks_puts_the_case_in_error_naming_the_gateway(engine):
    files = [("loop.bpmn", _loop("p_loop"))]
    assert errors_of(engine.validate(files)) == []  # a warning (below), not a refusal
    engine.deploy(files)
    case = _assert_looped(engine, engine.start("p_loop"))
    assert case["data"]["n"] < spiff.MAX_TASK_DEPTH  # stopped by the budget, not by SpiffWorkflow's depth wall


def test_a_loop_inside_a_subprocess_is_stopped_too(engine):
    files = [("sub.bpmn", _in_subprocess("p_sub_loop"))]
    engine.deploy(files)
    _assert_looped(engine, engine.start("p_sub_loop"))


def test_the_step_count_budget_stops_a_settle_that_does_not_go_deep(engine, monkeypatch):
    engine.deploy([("loop.bpmn", _loop("p_count"))])
    monkeypatch.setattr(spiff, "MAX_ENGINE_STEPS", 40)
    case = _assert_looped(engine, engine.start("p_count"))
    assert "más de 40 pasos" in case["error"]["message"]
    assert case["data"]["n"] <= 21


def test_a_long_loop_that_ends_completes(engine):
    engine.deploy([("loop.bpmn", _loop("p_long", "n &gt;= 300"))])
    case = engine.case(engine.start("p_long"))
    assert case["status"] == "completed", case["error"]
    assert case["data"]["n"] == 300


def test_a_loop_through_a_user_task_is_not_stopped_across_steps(engine):
    files = [FORM, ("wait.bpmn", bpmn("p_wait", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U") + user("U")
                                      + flow("F2", "U", "G") + '<bpmn:exclusiveGateway id="G" default="F3"/>'
                                      + flow("F3", "G", "U") + flow("F4", "G", "E", "ok == False")
                                      + '<bpmn:endEvent id="E"/>', lanes(ejecutivo_cpe=["S", "U", "G", "E"])))]
    assert engine.validate(files) == []  # a cycle with a wait state: no warning
    engine.deploy(files)
    case_id = engine.start("p_wait")
    for _ in range(30):
        [task] = engine.ready_tasks(case_id=case_id)
        engine.complete(task["id"], {"ok": True})
    assert engine.case(case_id)["status"] == "active"
    engine.complete(engine.ready_tasks(case_id=case_id)[0]["id"], {"ok": False})
    assert engine.case(case_id)["status"] == "completed"


def test_validate_warns_about_a_cycle_with_no_wait_state(engine):
    problems = engine.validate([("loop.bpmn", _loop("p_warn"))])
    [warning] = problems
    assert warning.severity == "warning"
    assert "exclusiveGateway G" in str(warning) and "no espera una tarea de usuario" in str(warning), str(warning)


def test_validate_warns_about_a_cycle_inside_a_subprocess(engine):
    [warning] = engine.validate([("sub.bpmn", _in_subprocess("p_warn_sub"))])
    assert warning.severity == "warning" and "exclusiveGateway G" in str(warning), str(warning)
