"""Messages between cases (issue 17 item 5): a BPMN message one case throws reaches another case.

SpiffWorkflow delivers a message inside one workflow (a process, its subprocesses and the processes
it calls); a message nothing in the workflow catches is left in `workflow.get_events()`. The engine
carries those between cases:

- **Sending.** Each step (engine/cases/steps.py) takes the messages its workflow threw and did not
  catch and writes them to `case_messages` (status `pending`) in the sender's own transaction, with
  a `message_sent` event in its history. A case that throws no message pays nothing: no statement.
- **Waiting.** Each step also keeps `waiting_messages` current: one row per message name (with the
  correlations the case expects) its workflow waits for at a catch event, receive task, boundary
  event or message start event. The case row keeps the same list (`cases.message_waits`), so a step
  whose waits did not change (every step of a case without messages) writes nothing more.
- **Delivering.** After the sender's commit the engine delivers its messages, each in a transaction
  of its own (`MessageVerbs.deliver_message`): the message row is locked (FOR UPDATE SKIP LOCKED on
  PostgreSQL; SQLite serializes writers), then the receiver's case row; the receiver catches the
  message and runs its step in that same transaction, and the row becomes `delivered`. A crash at any
  point leaves the message either pending (delivered later by `cpe worker`, job «mensajes») or
  delivered with the receiver's step: never lost, never delivered twice. A delivery locks one message
  and one case, in that order, and a step that looks for pending messages skips locked ones, so two
  cases messaging each other never wait on each other. On PostgreSQL a row that references a case
  (a history row, a message) takes a key-share lock on that case, which waits for a case locked FOR
  UPDATE: so a step and a delivery write rows that reference only the case they hold (the receiver's
  history says where a message came from; the sender's says it was sent, and `case_messages` who
  received it), the one exception being the sender's `message_waiting` row, written only by a delivery
  that holds no case.
- **Who receives.** A message goes to exactly one receiver, as in BPMN: the open case (not the
  sender) that has waited longest for that message name with matching correlations (SpiffWorkflow's
  own rule, `correlates`); if none waits, a new case of the deployed process (latest version, first
  by key) whose start event catches that message, with the sender's region, company and rubro.
  The receiver's history records it (`message_received`, with the message and the sending case).
- **Nobody waits.** Like SpiffArena's message queue, the message is kept (`pending`, with a
  `message_waiting` event in the sender's history) and delivered to the first case that later waits
  for it with matching correlations: the receiver's own step takes it (`take_pending`), and the
  worker retries pending messages whenever some case waits for their name.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as _Message
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from engine.basics.errors import Conflict
from engine.models import spiff
from engine.store.schema import Case, CaseEvent, CaseMessage, ModelVersion, WaitingMessage

log = logging.getLogger(__name__)

ACTOR = "mensaje"
MAX_CHAIN = 200  # deliveries one verb makes after its commit (a ping-pong between two cases stops here;
#                  the worker goes on with the rest)
MAX_TAKEN = 50  # pending messages one step may take

MESSAGES, WAITING = CaseMessage.__table__, WaitingMessage.__table__
_INSERT_MESSAGES = insert(MESSAGES)
_INSERT_WAITS = insert(WAITING)
_WAITS_OF = select(WAITING.c.id, WAITING.c.message_name, WAITING.c.correlations) \
    .where(WAITING.c.case_id == bindparam("case_id"))
_DELETE_WAIT_ROWS = delete(WAITING).where(WAITING.c.id.in_(bindparam("ids", expanding=True)))
_DELIVERED = update(MESSAGES).where(MESSAGES.c.id == bindparam("b_id")) \
    .values(status="delivered", receiver_case_id=bindparam("receiver"), delivered_at=bindparam("at"))


# -- what a workflow throws and waits for (pure) -------------------------------------------

def _definitions(spec):
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def thrown(workflow) -> list[dict]:
    """The messages `workflow` threw that nothing in it caught, as {name, payload, correlations}
    (plain JSON), taken out of the workflow (its other uncaught events are dropped with them)."""
    found = []
    for event in workflow.get_events():
        definition = event.event_definition
        if isinstance(definition, _Message):
            found.append({"name": definition.name, "payload": spiff.json_safe(event.payload),
                          "correlations": spiff.json_safe(event.correlations or {})})
    return found


def waits(waiting_tasks) -> list[list]:
    """What the waiting tasks wait for: sorted [message name, correlations expected] pairs, no
    repeats. The correlations are those of the task's workflow when its message has correlation
    properties (as MessageEventDefinition.catches reads them), else {} (any message of that name)."""
    found = []
    for task in waiting_tasks:
        for definition in _definitions(task.task_spec):
            if not isinstance(definition, _Message):
                continue
            expected = spiff.json_safe(task.workflow.correlations or {}) if definition.correlation_properties else {}
            item = [definition.name, expected]
            if item not in found:
                found.append(item)
    return sorted(found, key=lambda item: json.dumps(item, sort_keys=True))


def correlates(expected: dict, sent: dict) -> bool:
    """Whether a message sent with correlations `sent` reaches a wait expecting `expected`:
    SpiffWorkflow's rule (MessageEventDefinition.catches) on stored values. A wait that expects
    nothing (no correlation properties, or none known yet) takes any message of its name; else
    one correlation key of the message must carry the values the wait expects under that key."""
    if not expected:
        return True
    return any(sent.get(key) == expected.get(key) for key in sent)


def event_of(name: str, payload, correlations: dict) -> BpmnEvent:
    """The SpiffWorkflow event a stored message is caught as (a message definition is equal to
    another of the same name: what the receiver's own definition then reads is the payload)."""
    return BpmnEvent(MessageEventDefinition(name), payload=payload, correlations=correlations)


def catch(workflow, name: str, payload, correlations: dict) -> int:
    """Let `workflow` catch a stored message; how many of its tasks caught it. What the receiver's
    model raises while catching (a correlation expression) is raised naming the task that waits for
    the message, so the case's error says where."""
    try:
        return workflow.event_manager.catch(event_of(name, payload, correlations), internal=False)
    except SQLAlchemyError:
        raise
    except Exception as exc:
        task = next((t for t in list(workflow.event_manager.tasks.values())
                     if any(isinstance(d, _Message) and d.name == name for d in _definitions(t.task_spec))), None)
        raise WorkflowTaskException(f"al recibir el mensaje «{name}»: {exc}", task=task, exception=exc) from exc


def fire_start(name: str, event: BpmnEvent):
    """`prepare` for Engine.start_in: the start event that catches message `name` catches `event`
    (its payload goes where the diagram says, messageVariable); the process's other start events
    are cancelled (they start cases of their own)."""
    def prepare(workflow):
        starts = [t for t in workflow.get_tasks() if t.parent is not None and t.parent.task_spec.name == "Start"]
        chosen = next((t for t in starts if any(isinstance(d, _Message) and d.name == name
                                                  for d in _definitions(t.task_spec))), None)
        for task in starts:
            if task is not chosen:
                task.cancel()
        if chosen is not None:
            definition = next(d for d in _definitions(chosen.task_spec) if isinstance(d, _Message) and d.name == name)
            definition.catch(chosen, event)
    return prepare


def start_names(compiled) -> set[str]:
    """The message names the start events of a process catch (its own start events, not those
    of its subprocesses)."""
    names = set()
    for spec in compiled.spec.start.outputs:
        names.update(d.name for d in _definitions(spec) if isinstance(d, _Message))
    return names


# -- in a step (the case's own transaction) --------------------------------------------------

def take_pending(s, case, workflow, settled, dialect: str, now, settle):
    """Pending messages of other cases that this case's workflow now waits for (a wait it did not
    have at its previous step), caught one by one, the workflow settled after each (`settle()` gives
    the new OpenTasks). Returns the OpenTasks left. Messages locked by a delivery in progress are
    skipped (that delivery will find this case when the step commits)."""
    checked = [list(w) for w in (case.message_waits or [])]
    for _ in range(MAX_TAKEN):
        current = waits(settled.waiting)
        new = [w for w in current if w not in checked]
        if not new:
            return settled
        checked = current
        names = sorted({w[0] for w in new})
        found = s.execute(select(CaseMessage.id, CaseMessage.name, CaseMessage.correlations)
                          .where(CaseMessage.status == "pending", CaseMessage.name.in_(names),
                                 CaseMessage.sender_case_id != case.id).order_by(CaseMessage.id)).all()
        for message_id, name, sent in found:
            if not any(w[0] == name and correlates(w[1], sent or {}) for w in new):
                continue
            query = select(CaseMessage).where(CaseMessage.id == message_id, CaseMessage.status == "pending")
            if dialect == "postgresql":  # only the message taken is locked; one a delivery holds is skipped
                query = query.with_for_update(skip_locked=True)
            message = s.scalar(query)
            if message is None:
                continue
            if not catch(workflow, message.name, message.payload, message.correlations or {}):
                continue
            message.status, message.receiver_case_id, message.delivered_at = "delivered", case.id, now
            message.attempts += 1
            received(s, case.id, message, now)
            settled = settle()
            checked = []  # after a catch every wait may take a kept message (a loop waits again for the same)
            break
        else:
            return settled
    return settled


def received(s, case_id, message, now) -> None:
    from engine.cases.steps import event  # steps imports this module
    event(s, case_id, now, ACTOR, "message_received", name=f"Mensaje «{message.name}» recibido",
          detail={"mensaje": message.id, "de_caso": message.sender_case_id, "nombre": message.name})


def store(s, case, sent: list[dict], current: list[list], now) -> bool:
    """Write what the step threw (`sent`) and, if it changed, what the case waits for (`current`).
    Returns whether messages were written (then the engine delivers them after the commit). Nothing
    to do: no statement."""
    if current != (case.message_waits or []):  # a wait kept from the last step keeps its row (and its `since`)
        kept, gone = [], []
        if case.message_waits:
            for row in s.execute(_WAITS_OF, {"case_id": case.id}):
                (kept if [row.message_name, row.correlations] in current else gone).append(row)
        if gone:
            s.execute(_DELETE_WAIT_ROWS, {"ids": [row.id for row in gone]})
        stored = [[row.message_name, row.correlations] for row in kept]
        added = [w for w in current if w not in stored]
        if added:
            s.execute(_INSERT_WAITS, [{"case_id": case.id, "message_name": name, "correlations": expected,
                                       "since": now} for name, expected in added])
    if not sent:
        return False
    s.execute(_INSERT_MESSAGES, [{"name": m["name"], "payload": m["payload"], "correlations": m["correlations"],
                                  "sender_case_id": case.id, "sent_at": now, "status": "pending", "attempts": 0,
                                  "receiver_case_id": None, "delivered_at": None} for m in sent])
    return True


# -- between cases (the Engine's verbs) -----------------------------------------------------

class MessageVerbs:
    """Mixed into engine.cases.engine.Engine (whose transaction, locked, _load, _compiled,
    _advance and start_in they use)."""

    def messages_sent(self, sender_case_id: int, clock=None) -> None:
        """After a commit that wrote messages of `sender_case_id`: deliver them now, each in its own
        transaction, and what those deliveries send in turn (at most MAX_CHAIN; the worker does the
        rest), on the sender's `clock`. Never raises: a failed delivery stays pending for the worker."""
        courier = self.__dict__.setdefault("_courier", threading.local())  # per engine and thread
        if getattr(courier, "queue", None) is not None:  # inside a delivery: the outer loop goes on
            courier.queue.append(sender_case_id)
            return
        courier.queue, done = deque([sender_case_id]), 0
        try:
            while courier.queue and done < MAX_CHAIN:
                sender = courier.queue.popleft()
                with self.Session() as s:
                    ids = s.scalars(select(CaseMessage.id).where(CaseMessage.sender_case_id == sender,
                                                                 CaseMessage.status == "pending",
                                                                 CaseMessage.attempts == 0)
                                    .order_by(CaseMessage.id)).all()
                for message_id in ids:
                    done += 1
                    self._deliver_quietly(message_id, clock)
        finally:
            courier.queue = None

    def _deliver_quietly(self, message_id, clock=None) -> None:
        try:
            self.deliver_message(message_id, clock)
        except Exception:  # noqa: BLE001 - the sender's step is committed; the worker delivers it later
            log.exception("mensaje %s: no se pudo entregar ahora; lo entregará el worker", message_id)

    def deliver_message(self, message_id: int, clock=None) -> int | None:
        """Deliver one pending message, in one transaction (on `clock`, default the engine's): the id
        of the case that received it (an open case or one it started), or None (nobody waits for it:
        it stays pending)."""
        with self.transaction(clock) as s:
            query = select(CaseMessage).where(CaseMessage.id == message_id, CaseMessage.status == "pending")
            message = s.scalar(self.locked(query, skip_locked=True))
            if message is None:
                return None  # delivered already, or another worker has it in hand
            message.attempts += 1
            now = (clock or self.clock).now()
            receiver, locked_any = self._to_waiting_case(s, message, now)
            if receiver is None:
                receiver = self._to_new_case(s, message, now)
            if receiver is None:
                if message.attempts == 1 and not locked_any:  # (a history row locks its case: see above)
                    s.add(CaseEvent(case_id=message.sender_case_id, at=now, actor=ACTOR, kind="message_waiting",
                                    name=f"Mensaje «{message.name}»: ningún caso lo espera; queda guardado hasta "
                                         "que uno lo espere", detail={"mensaje": message.id, "nombre": message.name}))
                return None
            s.execute(_DELIVERED, {"b_id": message.id, "receiver": receiver, "at": now})
            return receiver

    def _to_waiting_case(self, s, message, now) -> tuple[int | None, bool]:
        """The open case that caught `message` (None if none did), and whether a case was locked."""
        candidates = s.execute(
            select(WaitingMessage.case_id, WaitingMessage.correlations)
            .join(Case, Case.id == WaitingMessage.case_id)
            .where(WaitingMessage.message_name == message.name, WaitingMessage.case_id != message.sender_case_id,
                   Case.status == "active")
            .order_by(WaitingMessage.since, WaitingMessage.id)).all()
        tried = set()
        for case_id, expected in candidates:
            if case_id in tried or not correlates(expected or {}, message.correlations or {}):
                continue
            tried.add(case_id)
            case, compiled, workflow = self._load(s, case_id, for_update=True)
            if case.status != "active":
                continue
            try:
                caught = catch(workflow, message.name, message.payload, message.correlations or {})
            except WorkflowTaskException as exc:  # noqa: BLE001 - the receiver's model (a correlation expression) failed
                # the case goes to error with the model's reason; the message stays for another receiver
                # (or for this case, once an analyst has fixed and retried it)
                self._advance(s, case, compiled, workflow, ACTOR, now=now, failure=exc)
                continue
            if not caught:
                continue  # (this workflow object is dropped: the next load reads the stored one)
            received(s, case.id, message, now)
            message.status = "delivered"  # before the step: its own look for pending messages skips it
            self._advance(s, case, compiled, workflow, ACTOR, now=now)
            return case.id, True
        return None, bool(tried)

    def _to_new_case(self, s, message, now) -> int | None:
        process = self._message_start_process(s, message.name)
        if process is None:
            return None
        sender = s.get(Case, message.sender_case_id)
        event = event_of(message.name, message.payload, message.correlations or {})
        message.status = "delivered"
        case_id = self.start_in(s, process, {}, actor=ACTOR, prepare=fire_start(message.name, event), origin=sender,
                                on_start=lambda new_id: received(s, new_id, message, now))
        return case_id

    def _message_start_process(self, s, name: str) -> str | None:
        """The deployed process (latest version; the first by key if several) whose start event
        catches message `name`."""
        latest = select(ModelVersion.key, func.max(ModelVersion.version).label("version")) \
            .where(ModelVersion.kind == "process").group_by(ModelVersion.key).subquery()
        found = s.execute(select(ModelVersion.id, ModelVersion.key)
                          .join(latest, (ModelVersion.key == latest.c.key) & (ModelVersion.version == latest.c.version))
                          .order_by(ModelVersion.key)).all()
        known = self.__dict__.setdefault("_message_starts", {})  # version id -> names (ids are per database)
        for version_id, key in found:
            if version_id not in known:
                try:
                    known[version_id] = frozenset(start_names(self._compiled(s, version_id)))
                except Exception:  # noqa: BLE001 - a version that no longer builds starts nothing
                    log.exception("proceso %s: no se pudo leer sus eventos de inicio", key)
                    known[version_id] = frozenset()
            if name in known[version_id]:
                return key
        return None

    def deliver_messages(self, limit: int = 50) -> int:
        """The worker's job: deliver pending messages never tried (a crash after the sender's commit)
        and those an open case now waits for with matching correlations (`correlates` on the stored
        waits, so the messages nobody can take yet never crowd out the others). Returns how many it
        moved on: delivered, or tried for the first time (0: nothing left to do now)."""
        waited = select(WaitingMessage.id).join(Case, Case.id == WaitingMessage.case_id) \
            .where(WaitingMessage.message_name == CaseMessage.name,
                   WaitingMessage.case_id != CaseMessage.sender_case_id, Case.status == "active").exists()
        with self.Session() as s:
            pending = s.execute(select(CaseMessage.id, CaseMessage.name, CaseMessage.correlations,
                                       CaseMessage.attempts, CaseMessage.sender_case_id)
                                .where(CaseMessage.status == "pending", or_(CaseMessage.attempts == 0, waited))
                                .order_by(CaseMessage.id)).all()
            names = sorted({m.name for m in pending if m.attempts})
            expected: dict[str, list] = {}
            if names:
                for case_id, name, wanted in s.execute(
                        select(WaitingMessage.case_id, WaitingMessage.message_name, WaitingMessage.correlations)
                        .join(Case, Case.id == WaitingMessage.case_id)
                        .where(WaitingMessage.message_name.in_(names), Case.status == "active")):
                    expected.setdefault(name, []).append((case_id, wanted or {}))
        due = [m for m in pending if not m.attempts or any(
            case_id != m.sender_case_id and correlates(wanted, m.correlations or {})
            for case_id, wanted in expected.get(m.name, ()))][:limit]
        moved = 0
        for message in due:
            try:
                if self.deliver_message(message.id) is not None or not message.attempts:
                    moved += 1
            except Conflict:
                continue  # the receiver moved meanwhile: the next round tries again
            except OperationalError:
                raise  # the database itself is failing: the worker retries the whole round later
            except Exception:  # noqa: BLE001 - one bad message must not hold back the others
                log.exception("mensaje %s: no se pudo entregar; se reintentará", message.id)
        return moved

    def messages(self, case_id: int | None = None, status: str | None = None, limit: int = 200) -> list[dict]:
        """Messages between cases, newest first: those a case sent or received, or all."""
        from engine.basics.clock import iso_utc

        query = select(CaseMessage).order_by(CaseMessage.id.desc()).limit(limit)
        if case_id is not None:
            query = query.where(or_(CaseMessage.sender_case_id == case_id, CaseMessage.receiver_case_id == case_id))
        if status is not None:
            query = query.where(CaseMessage.status == status)
        with self.Session() as s:
            return [{"id": m.id, "name": m.name, "payload": m.payload, "correlations": m.correlations,
                     "sender_case_id": m.sender_case_id, "receiver_case_id": m.receiver_case_id, "status": m.status,
                     "attempts": m.attempts, "sent_at": iso_utc(m.sent_at), "delivered_at": iso_utc(m.delivered_at)}
                    for m in s.scalars(query)]
