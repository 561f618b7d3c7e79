"""`cpe validate` builds exactly what deploy builds (issue 17, item 4): a call activity to a process
of another file, a DMN file with several decisions, a subprocess without a start event, and any
error of SpiffWorkflow's parser come out the same from both, in Spanish, naming the element."""

from __future__ import annotations

import pytest

from engine.basics.errors import DeployError
from tests.minimal_models import FORM, bpmn, decision, dmn, flow, lanes, rule_task, script, user

END = '<bpmn:endEvent id="E"/>\n'
CHILD = ("hijo.bpmn", bpmn("p_hijo", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U") + user("U", "Revisar")
                           + flow("F2", "U", "E") + END, lanes(ejecutivo_cpe=["S", "U", "E"])))
PARENT = ("padre.bpmn", bpmn("p_padre", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "C")
                             + '<bpmn:callActivity id="C" name="Llamar al hijo" calledElement="p_hijo"/>'
                             + flow("F2", "C", "E") + END))


def _same_refusal(engine, files):
    """The problems validate gives, checked to be exactly what deploy refuses with (nothing stored)."""
    found = [str(p) for p in engine.validate(files)]
    with pytest.raises(DeployError) as info:
        engine.deploy(files)
    assert [str(p) for p in info.value.problems] == found
    assert engine.models() == []
    return found


def _runs_the_child(engine):
    case_id = engine.start("p_padre")
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["bpmn_id"], task["lane"], task["form_id"]) == ("U", "ejecutivo_cpe", "f")
    engine.complete(task["id"], {"ok": True})
    assert engine.case(case_id)["status"] == "completed"


def test_call_activity_to_a_process_of_the_same_deploy(engine):
    files = [FORM, PARENT, CHILD]
    assert engine.validate(files) == []
    engine.deploy(files)
    _runs_the_child(engine)


def test_call_activity_to_a_process_already_deployed(engine):
    engine.deploy([FORM, CHILD])
    assert engine.validate([PARENT]) == []
    engine.deploy([PARENT])
    _runs_the_child(engine)


def test_call_activity_to_a_process_nowhere_fails_both_the_same_way(engine):
    [text] = _same_refusal(engine, [FORM, PARENT])
    assert text.startswith("padre.bpmn:")
    assert "callActivity C (Llamar al hijo)" in text and "'p_hijo'" in text
    assert "despliéguelo" in text


def test_a_called_process_pins_its_version(engine):
    engine.deploy([FORM, PARENT, CHILD])
    [parent] = [m for m in engine.models() if m["key"] == "p_padre"]
    assert parent["dependencies"]["processes"] == {"p_hijo": 1}


TWO_DECISIONS = ("dos.dmn", dmn("dos", decision("d_uno", "a", "uno"), decision("d_dos", "b", "dos")))
USES_BOTH = ("usa.bpmn", bpmn("p_usa", '<bpmn:startEvent id="S"/>' + flow("F0", "S", "X") + script("X", "x = 1")
                              + flow("F1", "X", "R1") + rule_task("R1", "d_dos") + flow("F2", "R1", "R2")
                              + rule_task("R2", "d_uno") + flow("F3", "R2", "E") + END))


def test_a_dmn_file_with_several_decisions_deploys_and_each_decision_runs(engine):
    files = [TWO_DECISIONS, USES_BOTH]
    assert engine.validate(files) == []
    engine.deploy(files)
    case = engine.case(engine.start("p_usa"))
    assert case["status"] == "completed" and case["error"] is None
    assert (case["data"]["a"], case["data"]["b"]) == ("uno", "dos")


NO_START = ("sin_inicio.bpmn", bpmn("p_ns", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "SP")
                                    + '<bpmn:subProcess id="SP" name="Revisar">' + user("U1")
                                    + '<bpmn:endEvent id="SE"/></bpmn:subProcess>' + flow("F2", "SP", "E") + END))


def test_subprocess_without_a_start_event_is_refused_by_validate_too(engine):
    texts = _same_refusal(engine, [FORM, NO_START])
    assert any("subProcess SP (Revisar)" in t and "evento de inicio" in t for t in texts), texts
    assert all(t.startswith("sin_inicio.bpmn:") for t in texts)


BAD_TIMER = ("timer.bpmn", bpmn("p_timer", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "W")
                                + '<bpmn:intermediateCatchEvent id="W" name="Esperar">'
                                  '<bpmn:timerEventDefinition id="TD"/></bpmn:intermediateCatchEvent>'
                                + flow("F2", "W", "E") + END))


def test_a_parser_error_is_told_in_spanish_naming_the_element(engine):
    [text] = _same_refusal(engine, [BAD_TIMER])
    assert text.startswith("timer.bpmn:")
    assert "intermediateCatchEvent W (Esperar)" in text
    assert "temporizador" in text
    assert "Time Specification" not in text  # SpiffWorkflow's own (English) words never reach the analyst


def test_a_simulation_takes_the_called_processes_along(engine):
    from engine.simulate.run import model_files

    engine.deploy([FORM, PARENT, CHILD])
    _, files = model_files(engine, "p_padre")
    assert [name for name, _ in files] == ["padre.bpmn", "f.json", "hijo.bpmn"]


TWO_WAYS_OUT = ("salidas.bpmn", bpmn("p_salidas", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "X")
                                     + script("X", "x = 1") + flow("F2", "X", "E") + flow("F3", "X", "E2")
                                     + END + '<bpmn:endEvent id="E2"/>'))


def test_a_task_with_two_ways_out_is_told_to_use_a_gateway(engine):
    [text] = _same_refusal(engine, [TWO_WAYS_OUT])
    assert text.startswith("salidas.bpmn:") and "scriptTask X" in text and "agregue una compuerta" in text
