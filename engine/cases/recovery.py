"""What happens after a step fails (SPEC §4, issue 8 point 3).

A failing operator, expression or script puts the case in the `error` state with the reason
(engine/cases/steps.py). From there:
- an analyst retries the step after fixing the cause (`retry`), or skips it (`skip`), giving
  the values the step would have produced; both are recorded in the case's history;
- a service task may ask for automatic retries in the diagram with the properties
  `reintentos` (how many, 1–10) and `espera_reintento` (ISO 8601 duration between them,
  default PT5M; read by engine/models/retry_policy.py): the failed case keeps `next_timer_at` at the
  next attempt and the worker retries it (`retry_due`), claiming cases with FOR UPDATE SKIP LOCKED
  like the timers.
"""

from __future__ import annotations

import logging

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from engine.basics import case_values
from engine.basics import clock as clockmod
from engine.basics.clock import iso_utc
from engine.basics.errors import Conflict, EngineError
from engine.models import spiff
from engine.models.retry_policy import retry_policy
from engine.store.schema import Case, CaseEvent

log = logging.getLogger(__name__)

MAX_SKIP_VALUES = 50


def schedule(case: Case, workflow, error: dict, previous: dict | None, now) -> None:
    """Called when a step fails: if the failed task asks for automatic retries and has attempts
    left, note the attempt in `error` and set the case's next_timer_at to the next one; otherwise
    the case waits for an analyst (no next_timer_at: its timers wait while it is in error)."""
    case.next_timer_at = None
    failed = workflow.get_tasks(state=TaskState.ERROR)
    if not failed:
        return
    try:
        policy = retry_policy(spiff.task_properties(failed[0]))
    except ValueError:
        policy = None  # deploy refuses bad values; an old version with one just gets no retries
    if policy is None:
        return
    retries, wait = policy
    same_step = previous and previous.get("bpmn_id") == error.get("bpmn_id")
    attempt = (previous.get("intento", 0) if same_step else 0) + 1
    error["intento"], error["reintentos"] = attempt, retries
    if attempt <= retries:
        case.next_timer_at = now + wait
        error["reintento_en"] = iso_utc(case.next_timer_at)


class RecoveryVerbs:
    """The Engine's verbs for a failed step (mixed into engine.cases.engine.Engine, whose transaction,
    _load and _advance they use): retry it, skip it, and the worker's automatic retries."""

    def retry(self, case_id, actor="sistema", due_before=None) -> dict:
        """Run again the step that failed (after the cause was fixed). With `due_before` it is the
        worker's automatic retry, which only happens if that retry is still due at that moment."""
        with self.transaction() as s:
            case, compiled, workflow = self._load(s, case_id, for_update=True)
            if case.status != "error":
                raise Conflict(f"El caso {case_id} no está en error.")
            automatic = due_before is not None
            if automatic and not (case.next_timer_at and clockmod.as_utc(case.next_timer_at) < due_before):
                raise Conflict(f"El reintento del caso {case_id} ya no está pendiente.")
            previous = dict(case.error or {})
            for task in workflow.get_tasks(state=TaskState.ERROR):
                task._set_state(TaskState.READY)
            s.add(CaseEvent(case_id=case.id, at=self.now(), actor=actor, kind="retry",
                            bpmn_id=previous.get("bpmn_id"), name=previous.get("name"),
                            detail={"automatico": automatic, "intento": previous.get("intento")}))
            self._advance(s, case, compiled, workflow, actor)
            return {"case_id": case.id, "status": case.status}

    def skip(self, case_id, actor, values: dict | None = None, reason: str = "") -> dict:
        """Complete the failed step without running it; `values` (e.g. the operator's result
        variable) are set in the case data first. Recorded with who and why."""
        values = values or {}
        if not isinstance(values, dict) or len(values) > MAX_SKIP_VALUES or \
                not all(isinstance(k, str) and k.isidentifier() and not k.startswith("_") for k in values):
            raise EngineError("los valores deben ser un objeto con nombres de variable válidos")
        case_values.check_fields(values)  # ValueRefused: NaN, lone surrogates, typename keys, …
        reason = (reason or "").strip()
        if not reason:
            raise EngineError("indique por qué se omite el paso")
        if len(reason) > 1000:
            raise EngineError("el motivo no puede superar 1000 caracteres")
        with self.transaction() as s:
            case, compiled, workflow = self._load(s, case_id, for_update=True)
            if case.status != "error":
                raise Conflict(f"El caso {case_id} no está en error.")
            failed = workflow.get_tasks(state=TaskState.ERROR)
            if not failed:
                raise Conflict(f"El caso {case_id} no tiene un paso fallido que omitir.")
            previous = dict(case.error or {})
            for task in failed:
                task.data.update(spiff.json_safe(values))
                task._set_state(TaskState.READY)
                task.complete()
            s.add(CaseEvent(case_id=case.id, at=self.now(), actor=actor, kind="step_skipped",
                            bpmn_id=previous.get("bpmn_id"), name=previous.get("name"),
                            detail={"motivo": reason, "valores": spiff.json_safe(values),
                                    "error": previous.get("message")}))
            self._advance(s, case, compiled, workflow, actor)
            return {"case_id": case.id, "status": case.status}

    def retry_due(self, now=None, limit=200) -> int:
        """Retry every failed case whose automatic retry is due; returns how many were retried.
        Each case is its own transaction; the due check is repeated under the case's row lock, so
        two workers never retry one attempt twice."""
        moment = clockmod.as_utc(now or self.now())
        with self.Session() as s:
            ids = s.scalars(select(Case.id).where(Case.status == "error", Case.next_timer_at < moment)
                            .order_by(Case.next_timer_at).limit(limit)).all()
        done = 0
        for case_id in ids:
            try:
                self.retry(case_id, actor="reintento automático", due_before=moment)
            except Conflict:
                continue
            except OperationalError:
                raise
            except Exception:  # noqa: BLE001 - one broken case must not hold back the others
                log.exception("caso %s: no se pudo reintentar su paso fallido", case_id)
                continue
            done += 1
        return done
