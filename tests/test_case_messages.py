"""Messages between cases (engine/cases/messages.py): a message one case throws reaches the one case
waiting for it with matching correlations, or starts a case of a process with a message start event,
or is kept until a case waits for it; delivery is one transaction, retried by the worker."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.cases import messages
from engine.cases.worker import Worker
from engine.store.schema import Case, CaseMessage, WaitingMessage
from tests.minimal_models import FORM, NSDECL, flow, script, user

CORRELATION = """<bpmn:collaboration id="C_{pid}">
  <bpmn:participant id="P_{pid}" processRef="{pid}" />
  <bpmn:correlationKey name="clave_pedido"><bpmn:correlationPropertyRef>numero_pedido</bpmn:correlationPropertyRef>
  </bpmn:correlationKey>
</bpmn:collaboration>
<bpmn:correlationProperty id="numero_pedido" name="numero_pedido">
  <bpmn:correlationPropertyRetrievalExpression messageRef="m_solicitud">
    <bpmn:formalExpression>pedido</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>
  <bpmn:correlationPropertyRetrievalExpression messageRef="m_respuesta">
    <bpmn:formalExpression>{answer_key}</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>
</bpmn:correlationProperty>
<bpmn:message id="m_solicitud" name="solicitud"><bpmn:extensionElements>
  <spiffworkflow:messagePayload>{{"pedido": pedido}}</spiffworkflow:messagePayload>
  <spiffworkflow:messageVariable>solicitud</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:message>
<bpmn:message id="m_respuesta" name="respuesta"><bpmn:extensionElements>
  <spiffworkflow:messagePayload>{{"pedido": pedido, "monto": monto}}</spiffworkflow:messagePayload>
  <spiffworkflow:messageVariable>respuesta</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:message>
"""


AVISO = '<bpmn:message id="m_aviso" name="aviso" />\n'  # a message without correlations


def _file(pid, body, answer_key="pedido"):
    correlation = CORRELATION.format(pid=pid, answer_key=answer_key) + AVISO
    return (f"{pid}.bpmn", (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NSDECL} id="D_{pid}" '
                            f'targetNamespace="http://bpmn.io/schema/bpmn">\n{correlation}'
                            f'<bpmn:process id="{pid}" isExecutable="true">\n{body}</bpmn:process>\n'
                            "</bpmn:definitions>\n").encode())


def _throw(ident, message):
    return (f'<bpmn:intermediateThrowEvent id="{ident}"><bpmn:messageEventDefinition id="{ident}_d" '
            f'messageRef="{message}" /></bpmn:intermediateThrowEvent>\n')


def _catch(ident, message):
    return (f'<bpmn:intermediateCatchEvent id="{ident}"><bpmn:messageEventDefinition id="{ident}_d" '
            f'messageRef="{message}" /></bpmn:intermediateCatchEvent>\n')


# asks for a quote of its order (pedido), waits for the answer of that order, then a person reviews it
ASK = ('<bpmn:startEvent id="S" />\n' + _throw("Pedir", "m_solicitud") + _catch("Esperar", "m_respuesta")
       + user("Revisar") + '<bpmn:endEvent id="E" />\n' + flow("F1", "S", "Pedir") + flow("F2", "Pedir", "Esperar")
       + flow("F3", "Esperar", "Revisar") + flow("F4", "Revisar", "E"))
SOLICITUD = _file("p_solicitud", ASK)
# answers an order given in its start data (started by hand)
RESPONDER = _file("p_responder", '<bpmn:startEvent id="S" />\n' + script("Calcular", "monto = pedido * 10")
                  + _throw("Responder", "m_respuesta") + '<bpmn:endEvent id="E" />\n'
                  + flow("F1", "S", "Calcular") + flow("F2", "Calcular", "Responder") + flow("F3", "Responder", "E"))
# started by the request itself (message start event), answers it
ATENDER = _file("p_atender", '<bpmn:startEvent id="S"><bpmn:messageEventDefinition id="S_d" messageRef="m_solicitud" />'
                '</bpmn:startEvent>\n' + script("Calcular", 'pedido = solicitud["pedido"]\nmonto = pedido * 10')
                + _throw("Responder", "m_respuesta") + '<bpmn:endEvent id="E" />\n'
                + flow("F1", "S", "Calcular") + flow("F2", "Calcular", "Responder") + flow("F3", "Responder", "E"))


def _ready(engine, case_id):
    return [t["bpmn_id"] for t in engine.ready_tasks(case_id=case_id)]


def _kinds(engine, case_id):
    return [e["kind"] for e in engine.case(case_id)["history"]]


def _waits(engine):
    with engine.Session() as s:
        return sorted((w.case_id, w.message_name) for w in s.scalars(select(WaitingMessage)))


@pytest.mark.parametrize("expected, sent, caught", [
    ({}, {}, True),  # a wait without correlations takes any message of its name
    ({}, {"k": {"p": 1}}, True),
    ({"k": {"p": 1}}, {"k": {"p": 1}}, True),
    ({"k": {"p": 1}}, {"k": {"p": 2}}, False),
    ({"k": {"p": 1}}, {}, False),  # the wait expects a value the message does not carry
    ({"k": {"p": 1}, "j": {"q": 5}}, {"j": {"q": 5}}, True),  # one key in common is enough (SpiffWorkflow)
    ({"k": {"p": 1}}, {"j": {"q": 5}}, False),
    ({"k": {"p": 1, "r": 2}}, {"k": {"p": 1}}, False),  # a key's properties must all agree
])
def test_correlates_follows_spiffworkflow(expected, sent, caught):
    assert messages.correlates(expected, sent) is caught


def test_validate_has_nothing_to_say_about_messages_between_cases(engine):
    assert engine.validate([FORM, SOLICITUD, RESPONDER, ATENDER]) == []


def test_only_the_case_waiting_with_matching_correlations_receives_the_message(engine):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    first = engine.start("p_solicitud", {"pedido": 1})
    second = engine.start("p_solicitud", {"pedido": 2})
    assert _waits(engine) == [(first, "respuesta"), (second, "respuesta")]
    assert _ready(engine, first) == _ready(engine, second) == []

    answer = engine.start("p_responder", {"pedido": 2})
    assert engine.case(answer)["status"] == "completed"
    assert _ready(engine, first) == [] and _ready(engine, second) == ["Revisar"]
    assert engine.case(second)["data"]["respuesta"] == {"pedido": 2, "monto": 20}
    assert "respuesta" not in engine.case(first)["data"]
    assert _waits(engine) == [(first, "respuesta")]  # kept current: the second case waits no more
    assert "message_received" in _kinds(engine, second) and "message_received" not in _kinds(engine, first)
    assert _kinds(engine, answer)[-2:] == ["message_sent", "case_completed"]
    [sent] = engine.messages(case_id=answer)
    assert (sent["name"], sent["status"], sent["receiver_case_id"]) == ("respuesta", "delivered", second)
    assert sent["correlations"] == {"clave_pedido": {"numero_pedido": 2}}


def test_a_message_goes_to_one_case_only_the_one_that_waited_longest(engine):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    cases = [engine.start("p_solicitud", {"pedido": 5}) for _ in range(2)]
    engine.start("p_responder", {"pedido": 5})
    assert [_ready(engine, c) for c in cases] == [["Revisar"], []]
    engine.start("p_responder", {"pedido": 5})
    assert [_ready(engine, c) for c in cases] == [["Revisar"], ["Revisar"]]


def test_a_message_start_event_starts_a_case_in_the_senders_region(engine):
    engine.deploy([FORM, SOLICITUD, ATENDER])
    sender = engine.start("p_solicitud", {"pedido": 7, "region": "RM", "rubro": "alimentos"})
    [started] = [m["receiver_case_id"] for m in engine.messages(case_id=sender) if m["name"] == "solicitud"]
    new = engine.case(started)
    assert new["process_id"] == "p_atender" and new["status"] == "completed", new["error"]
    assert new["region"] == "RM" and new["data"]["solicitud"] == {"pedido": 7}
    assert _kinds(engine, started)[:2] == ["case_started", "message_received"]
    # its answer came back to the sender, correlated on the order
    assert engine.case(sender)["data"]["respuesta"] == {"pedido": 7, "monto": 70}
    assert _ready(engine, sender) == ["Revisar"]
    with engine.Session() as s:
        assert s.scalar(select(Case.rubro).where(Case.id == started)) == "alimentos"


def test_a_message_sent_before_anyone_waits_is_kept_until_a_matching_case_waits(engine):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    early = engine.start("p_responder", {"pedido": 3})
    other = engine.start("p_responder", {"pedido": 4})
    assert "message_waiting" in _kinds(engine, early)
    assert {m["status"] for m in engine.messages()} == {"pending"}

    waiting = engine.start("p_solicitud", {"pedido": 3})  # its first step takes the kept answer of order 3
    assert _ready(engine, waiting) == ["Revisar"]
    assert engine.case(waiting)["data"]["respuesta"] == {"pedido": 3, "monto": 30}
    by_sender = {m["sender_case_id"]: m for m in engine.messages() if m["name"] == "respuesta"}
    assert by_sender[early]["status"] == "delivered" and by_sender[early]["receiver_case_id"] == waiting
    assert by_sender[other]["status"] == "pending"  # order 4: nobody waits for it yet
    assert engine.deliver_messages() == 0  # the worker has nothing it can deliver
    assert _waits(engine) == []

    later = engine.start("p_solicitud", {"pedido": 4})
    assert _ready(engine, later) == ["Revisar"] and by_sender[other]["id"] in {
        m["id"] for m in engine.messages(case_id=later)}


def test_a_case_that_throws_no_message_writes_no_message_rows(engine):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    case_id = engine.start("p_solicitud", {"pedido": 1})
    with engine.Session() as s:
        assert s.scalar(select(Case.message_waits).where(Case.id == case_id)) == [
            ["respuesta", {"clave_pedido": {"numero_pedido": 1}}]]
    engine.start("p_responder", {"pedido": 1})
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"ok": True})
    with engine.Session() as s:
        assert s.scalar(select(Case.message_waits).where(Case.id == case_id)) is None
        assert s.scalar(select(func.count()).select_from(WaitingMessage)) == 0


def test_a_crash_after_the_senders_commit_leaves_the_message_for_the_worker(engine, monkeypatch):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    waiting = engine.start("p_solicitud", {"pedido": 9})
    monkeypatch.setattr(engine, "messages_sent", lambda case_id, clock=None: None)  # the process died after the commit
    sender = engine.start("p_responder", {"pedido": 9})
    assert engine.case(sender)["status"] == "completed" and _ready(engine, waiting) == []
    [message] = engine.messages(case_id=sender)
    assert (message["status"], message["attempts"]) == ("pending", 0)

    Worker(engine, jobs=[("mensajes", lambda: engine.deliver_messages())]).run(once=True)
    assert _ready(engine, waiting) == ["Revisar"]
    assert engine.deliver_messages() == 0  # delivered once, never again
    assert _kinds(engine, waiting).count("message_received") == 1


def test_a_delivery_that_fails_half_way_changes_nothing_and_is_retried(engine, monkeypatch):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    waiting = engine.start("p_solicitud", {"pedido": 8})
    state = engine.case(waiting)
    real = messages.received

    def crash(*args):
        raise RuntimeError("se cortó la luz")

    monkeypatch.setattr(messages, "received", crash)
    sender = engine.start("p_responder", {"pedido": 8})  # the sender's step is kept; the delivery is not
    assert engine.case(sender)["status"] == "completed"
    assert engine.case(waiting) == state and _ready(engine, waiting) == []
    [message] = engine.messages(case_id=sender)
    assert (message["status"], message["attempts"]) == ("pending", 0)

    monkeypatch.setattr(messages, "received", real)
    assert engine.deliver_messages() == 1
    assert _ready(engine, waiting) == ["Revisar"]
    with engine.Session() as s:
        row = s.get(CaseMessage, message["id"])
        assert (row.status, row.receiver_case_id, row.attempts) == ("delivered", waiting, 1)


def test_a_message_start_beside_a_plain_start_does_not_wait_when_started_by_hand(engine):
    body = ('<bpmn:startEvent id="S" /><bpmn:startEvent id="SM"><bpmn:messageEventDefinition id="SM_d" '
            'messageRef="m_solicitud" /></bpmn:startEvent>\n' + user("Revisar") + '<bpmn:endEvent id="E" />\n'
            + flow("F1", "S", "Revisar") + flow("F2", "SM", "Revisar") + flow("F3", "Revisar", "E"))
    engine.deploy([FORM, _file("p_dos_inicios", body)])
    case_id = engine.start("p_dos_inicios", {"pedido": 1})
    assert _ready(engine, case_id) == ["Revisar"] and _waits(engine) == []


def test_a_step_never_waits_for_a_message_a_delivery_has_in_hand(engine):
    """Lock order: a delivery locks its message, then the receiver's case; a step (which holds its own
    case) skips messages locked by a delivery instead of waiting for them, so the two never wait on each
    other. The message is then delivered by the worker, once the case waits for it."""
    if engine.db.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serializes writers)")
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    engine.start("p_responder", {"pedido": 6})
    [message] = engine.messages()
    started = []
    with engine.Session() as holder:  # a delivery of this message in progress elsewhere
        holder.scalar(select(CaseMessage).where(CaseMessage.id == message["id"]).with_for_update())
        worker = threading.Thread(target=lambda: started.append(engine.start("p_solicitud", {"pedido": 6})))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive() and started, "the step waited for the delivery's lock"
        holder.rollback()
    [case_id] = started
    assert _ready(engine, case_id) == [] and engine.messages(status="pending")
    assert engine.deliver_messages() == 1
    assert _ready(engine, case_id) == ["Revisar"]


def test_a_receiver_whose_correlation_fails_goes_to_error_and_the_message_is_kept(engine):
    broken = _file("p_solicitud_mala", ASK, answer_key='faltante["pedido"]')  # reads a name the payload lacks
    engine.deploy([FORM, broken, RESPONDER])
    receiver = engine.start("p_solicitud_mala", {"pedido": 11})
    sender = engine.start("p_responder", {"pedido": 11})
    case = engine.case(receiver)
    assert case["status"] == "error" and "faltante" in case["error"]["message"], case["error"]
    assert case["error"]["bpmn_id"] == "Esperar"  # the error names the element that waits for the message
    [message] = engine.messages(case_id=sender)
    assert message["status"] == "pending" and message["receiver_case_id"] is None
    assert engine.deliver_messages() == 0 and _waits(engine) == []  # a case in error receives nothing


def _pinger(pid, start_message, answer):
    start = ('<bpmn:startEvent id="S" />' if start_message is None else
             f'<bpmn:startEvent id="S"><bpmn:messageEventDefinition id="S_d" messageRef="{start_message}" />'
             '</bpmn:startEvent>')
    return _file(pid, start + "\n" + script("A", "pedido = 1\nmonto = 2") + _throw("T", answer)
                 + '<bpmn:endEvent id="E" />\n' + flow("F0", "S", "A") + flow("F1", "A", "T") + flow("F2", "T", "E"))


def test_two_processes_starting_each_other_forever_stop_after_a_bounded_chain(engine, monkeypatch):
    """A model whose messages start each other without end does not hold the verb that started it:
    each verb delivers at most MAX_CHAIN messages after its commit, the worker goes on batch by batch."""
    monkeypatch.setattr(messages, "MAX_CHAIN", 5)
    engine.deploy([_pinger("p_inicio", None, "m_solicitud"), _pinger("p_ping", "m_solicitud", "m_respuesta"),
                   _pinger("p_pong", "m_respuesta", "m_solicitud")])
    engine.start("p_inicio", {"pedido": 1})
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1 + 5
    assert [m["status"] for m in engine.messages()] == ["pending"] + ["delivered"] * 5
    assert engine.deliver_messages(limit=1) == 1  # the worker's batch, bounded too


def test_a_step_taking_a_message_does_not_wait_for_the_sender_held_elsewhere(engine):
    """A step writes rows referencing only its own case: taking a message of a sender whose case row
    another transaction holds FOR UPDATE (its own step, or a delivery to it) does not wait for it, so
    two cases messaging each other cannot deadlock."""
    if engine.db.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serializes writers)")
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    sender = engine.start("p_responder", {"pedido": 12})
    started = []
    with engine.Session() as holder:
        holder.scalar(select(Case).where(Case.id == sender).with_for_update())
        worker = threading.Thread(target=lambda: started.append(engine.start("p_solicitud", {"pedido": 12})))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive() and started, "the step waited for the sender's row lock"
        holder.rollback()
    assert _ready(engine, started[0]) == ["Revisar"]


def test_the_worker_delivers_what_a_case_waits_for_past_messages_nobody_can_take(engine, monkeypatch):
    engine.deploy([FORM, SOLICITUD, RESPONDER])
    engine.start("p_solicitud", {"pedido": 1})  # waits for order 1: older answers for others stay kept
    for pedido in (101, 102, 103, 50):
        engine.start("p_responder", {"pedido": pedido})
    assert engine.deliver_messages(limit=1) == 0  # kept, tried once: nothing to move on
    # the case of order 50 starts waiting while a delivery has the message in hand (its step skips it)
    monkeypatch.setattr(messages, "take_pending", lambda s, case, workflow, settled, *args: settled)
    late = engine.start("p_solicitud", {"pedido": 50})
    assert _ready(engine, late) == []
    assert engine.deliver_messages(limit=1) == 1  # the three kept before it do not take the batch
    assert _ready(engine, late) == ["Revisar"]


def test_a_message_boundary_event_interrupts_the_task_of_another_case(engine):
    body = (user("Revisar") + '<bpmn:startEvent id="S" />\n<bpmn:boundaryEvent id="Anular" attachedToRef="Revisar">'
            '<bpmn:messageEventDefinition id="Anular_d" messageRef="m_solicitud" /></bpmn:boundaryEvent>\n'
            + script("Marcar", "anulado = solicitud") + '<bpmn:endEvent id="E1" /><bpmn:endEvent id="E2" />\n'
            + flow("F1", "S", "Revisar") + flow("F2", "Revisar", "E1") + flow("F3", "Anular", "Marcar")
            + flow("F4", "Marcar", "E2"))
    engine.deploy([FORM, _file("p_revision", body), _pinger("p_anular", None, "m_solicitud")])
    case_id = engine.start("p_revision")
    assert _ready(engine, case_id) == ["Revisar"]
    engine.start("p_anular")
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["data"]["anulado"] == {"pedido": 1}, case["error"]
    assert _ready(engine, case_id) == [] and _waits(engine) == []


def test_a_case_keeps_its_place_in_line_for_a_wait_it_still_has(engine):
    """Two waits of one case: when one ends, the other keeps the moment it began (who waited longest
    receives a message)."""
    both = ('<bpmn:startEvent id="S" /><bpmn:parallelGateway id="G" />\n' + _catch("Uno", "m_aviso")
            + _catch("Dos", "m_respuesta") + '<bpmn:parallelGateway id="J" /><bpmn:endEvent id="E" />\n'
            + flow("F1", "S", "G") + flow("F2", "G", "Uno") + flow("F3", "G", "Dos") + flow("F4", "Uno", "J")
            + flow("F5", "Dos", "J") + flow("F6", "J", "E"))
    one = ('<bpmn:startEvent id="S" />\n' + _catch("Dos", "m_respuesta") + '<bpmn:endEvent id="E" />\n'
           + flow("F1", "S", "Dos") + flow("F2", "Dos", "E"))
    engine.deploy([_file("p_ambos", both), _file("p_uno", one), _pinger("p_pide", None, "m_aviso"),
                   _pinger("p_responde", None, "m_respuesta")])
    first = engine.start("p_ambos")
    with engine.Session() as s:
        since = s.scalar(select(WaitingMessage.since).where(WaitingMessage.message_name == "respuesta"))
    engine.clock.advance(minutes=5)
    second = engine.start("p_uno")
    engine.clock.advance(minutes=5)
    engine.start("p_pide")  # the first case's other wait ends; its wait for «respuesta» stays in line
    with engine.Session() as s:
        assert s.scalar(select(WaitingMessage.since).where(WaitingMessage.case_id == first)) == since
    engine.start("p_responde")
    assert engine.case(first)["status"] == "completed" and engine.case(second)["status"] == "active"
