"""A case's workflow is stored without its completed history (issue 20: a step must not cost more
the older the case is; engine/models/spiff.py `prune`). Pruning must change nothing a case does:
the same model driven the same way with and without it — and from a state stored before it
existed — ends with the same data and the same history, through a loop whose passes hold a
parallel split and join, a subprocess and an interrupting boundary timer (SPEC §6: the engine
runs the diagram as drawn)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import spiff
from engine.store.schema import CaseState
from tests.driver import Driver
from tests.minimal_models import FORM, bpmn, flow, lanes, script, user

PASSES = 12
TOP = ["S", "A", "A2", "L", "P", "U1", "T", "E1", "M", "Sub", "J", "B", "G", "E"]


def _model():
    """S → n = 0 → escalado = 0 → L → P (parallel) → [U1, with a 1-day interrupting timer that
    escalates, → M] and [subprocess Sub: U2] → J (join) → n = n + 1 → G: back to L until n ≥ PASSES."""
    sub = ('<bpmn:subProcess id="Sub" name="Revisar"><bpmn:startEvent id="SS"/>' + flow("FS1", "SS", "U2")
           + user("U2", "Revisar") + flow("FS2", "U2", "SE") + '<bpmn:endEvent id="SE"/></bpmn:subProcess>\n')
    timer = ('<bpmn:boundaryEvent id="T" name="Un día" attachedToRef="U1"><bpmn:timerEventDefinition id="TD">'
             '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n')
    body = ('<bpmn:startEvent id="S"/>' + flow("F1", "S", "A") + script("A", "n = 0") + flow("F2", "A", "A2")
            + script("A2", "escalado = 0") + flow("F3", "A2", "L") + '<bpmn:exclusiveGateway id="L"/>'
            + flow("F4", "L", "P") + '<bpmn:parallelGateway id="P"/>' + flow("F5", "P", "U1") + flow("F6", "P", "Sub")
            + user("U1", "Atender") + timer + flow("F7", "U1", "M") + flow("F8", "T", "E1")
            + script("E1", "escalado = escalado + 1") + flow("F9", "E1", "M") + '<bpmn:exclusiveGateway id="M"/>'
            + flow("F10", "M", "J") + sub + flow("F11", "Sub", "J") + '<bpmn:parallelGateway id="J"/>'
            + flow("F12", "J", "B") + script("B", "n = n + 1") + flow("F13", "B", "G")
            + '<bpmn:exclusiveGateway id="G" default="F14"/>' + flow("F14", "G", "L")
            + flow("F15", "G", "E", f"n &gt;= {PASSES}") + '<bpmn:endEvent id="E"/>')
    return [FORM, ("loop.bpmn", bpmn("p_prune", body, lanes(ejecutivo_cpe=TOP)))]


def _ready(engine, case_id):
    return {t["bpmn_id"]: t["id"] for t in engine.ready_tasks(case_id=case_id)}


def _stored_tasks(engine, case_id) -> int:
    with engine.Session() as s:
        state = s.scalar(select(CaseState.workflow).where(CaseState.case_id == case_id))
    return len(state["tasks"]) + sum(len(sub["tasks"]) for sub in state["subprocesses"].values())


def _pass(engine, clock, case_id, n) -> None:
    """Pass `n` of the loop: U2, then U1 — except every third pass, where U1 waits past its timer
    (escalated)."""
    ready = _ready(engine, case_id)
    assert set(ready) == {"U1", "U2"}, (n, ready)
    engine.complete(ready["U2"], {"ok": True}, actor="prueba")
    if n % 3 == 0:
        clock.advance(days=2)
        assert engine.fire_due_timers() == 1
    else:
        engine.complete(ready["U1"], {"ok": True}, actor="prueba")


def _outcome(engine, case_id):
    case = engine.case(case_id)
    history = [(e["kind"], e["bpmn_id"], e["actor"]) for e in case["history"] if e["kind"] != "case_started"]
    return case["status"], case["data"], history


@pytest.mark.parametrize("pruned_from", [0, PASSES // 2])  # from the start; from a state stored unpruned
def test_a_pruned_case_does_what_an_unpruned_one_does(engine, clock, monkeypatch, pruned_from):
    engine.deploy(_model())
    prune = spiff.prune
    monkeypatch.setattr(spiff, "prune", lambda workflow: 0)  # as before pruning existed
    whole, whole_sizes = engine.start("p_prune"), []
    for n in range(PASSES):
        _pass(engine, clock, whole, n)
        whole_sizes.append(_stored_tasks(engine, whole))

    engine.workflows.clear()
    case_id, sizes = engine.start("p_prune"), []
    for n in range(PASSES):
        if n == pruned_from:
            monkeypatch.setattr(spiff, "prune", prune)
            engine.workflows.clear()  # the next step loads the stored state, as after an upgrade
        _pass(engine, clock, case_id, n)
        sizes.append(_stored_tasks(engine, case_id))

    status, data, history = _outcome(engine, case_id)
    assert status == "completed" and data["n"] == PASSES and data["escalado"] == len(range(0, PASSES, 3))
    assert (status, data, history) == _outcome(engine, whole)
    growing = whole_sizes[:-1]  # unpruned: a pass adds its tasks
    assert growing == sorted(growing) and growing[-1] - growing[0] > 10 * (PASSES - 2)
    live = sizes[pruned_from + 4:-1]  # pruned: bounded (the last state is completed, kept whole)
    assert live and max(live) < whole_sizes[-2] / 2 and max(live) - min(live) <= 10, (sizes, whole_sizes)


def test_an_old_follow_up_case_of_cpe_actual_stays_small_and_ends_as_before(deployed, clock):
    """Manual §3.3: quarterly follow-ups until the company exports; forty of them, then an export."""
    from tests import profiles as P

    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    cpe = Driver(deployed, clock, "cpe_actual")
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    cpe.train(case_id)
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    cpe.reevaluate(case_id, P.VINA_AMARILLO)
    sizes = []
    for n in range(40):
        cpe.wait_months()
        result = "sin_actividad" if n % 2 else "solicitud_cotizacion"
        case = cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": result})
        assert case["status"] == "active" and case["data"]["meses_sin_actividad"] == 3 * (n % 2)
        sizes.append(_stored_tasks(deployed, case_id))
    assert max(sizes[10:]) - min(sizes[10:]) <= 6, sizes  # no longer one more pass per quarter
    deployed.workflows.clear()  # the next step deserializes the pruned state
    with deployed.Session() as s:
        workflow = deployed._workflow(s, *deployed._case(s, case_id))
    [timer] = [t for t in workflow.get_tasks(state=spiff.TaskState.WAITING)]
    assert timer.task_spec.bpmn_id == "Timer_TresMeses" and workflow.task_tree.parent is None
    assert len(spiff._ancestry(timer)) <= spiff.PRUNE_MARGIN + 2  # the root is a few levels above
    cpe.wait_months()
    case = cpe.do(case_id, "Task_Seguimiento", {
        "resultado_seguimiento": "exporto",
        "exportacion": {"pais": "Perú", "fecha": "2036-08-01", "monto_usd": 12000, "producto": "Vino"}})
    assert case["status"] == "completed" and case["resultado"] == "exportadora"
    assert case["segmento"] == "amarillo" and case["data"]["razon_social"]
    assert sum(e["kind"] == "task_completed" and e["bpmn_id"] == "Task_Seguimiento" for e in case["history"]) == 41


def test_a_pruned_case_migrates_to_a_new_version_and_goes_on(engine, clock):
    """Instance migration (SPEC §6) works on the pruned tree: a renamed task inside the loop and a
    changed script before it (long pruned away) are both taken, and the case ends in the new version."""
    v1 = _model()
    engine.deploy(v1)
    case_id = engine.start("p_prune")
    for n in range(8):
        _pass(engine, clock, case_id, n)
    assert _stored_tasks(engine, case_id) < 100  # pruned (unpruned: ~190 at this pass)
    name, bpmn_bytes = v1[1]
    edited = bpmn_bytes.replace(b'name="Atender"', b'name="Atender y registrar"') \
        .replace(b"escalado = 0", b"escalado = 0 + 0")
    engine.deploy([v1[0], (name, edited)])
    preview = engine.migrate(case_id, 2, dry_run=True)
    assert preview["safe"] is True, preview["reasons"]
    engine.migrate(case_id, 2, actor="analista")
    ready = {t["bpmn_id"]: t for t in engine.ready_tasks(case_id=case_id)}
    assert ready["U1"]["name"] == "Atender y registrar" and ready["U1"]["process_version"] == 2
    for n in range(8, PASSES):
        _pass(engine, clock, case_id, n)
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["version"] == 2 and case["data"]["n"] == PASSES
