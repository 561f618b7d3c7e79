"""The company portal (SPEC §7, thesis §3.2.2 and §5.2): a company registers and takes the
TPE online without an account, then follows its own case through a secret link.

Only the SHA-256 of a link's token is stored; a link expires, and a new one can be sent
to the company's registered email (never shown to whoever types a RUT). Anonymous input never
changes or reveals a registered company: registering a known RUT changes nothing, answers as
for an unknown one and only mails a fresh link to the email already on file; a returning
company starts its new case through its private link (`start_again`). The company's
stage is read from the SPEC §9 case variables (`puntaje_tpe`, `puntaje_entrevista`,
`segmento`, `resultado`) and the training check (`verificacion_capacitacion`, the result of the
`verificar_capacitacion` operator, or `capacitada` in versions before it), so a redesigned diagram
that keeps those names needs no change here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.basics.case_values import displayable
from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, NotFound
from engine.cases import scheduler
from engine.cases.rows import COMPANY_FIELDS
from engine.domain.roles import PYME
from engine.domain.rut import normalize_rut
from engine.store.schema import Activity, Case, CaseEvent, Company, Derivation, OutboxMessage, PortalLink, TaskRow, Tpe

LINK_DAYS = 180
PORTAL_ACTOR = PYME  # the company, in a case's history and as the lane of its own tasks
IN_PROGRESS = ("active", "error")
PUBLIC_EVENTS = ("case_started", "task_completed", "case_completed")
STAGES = ("registro", "tpe", "entrevista", "clasificacion", "capacitacion", "exportacion")
MAX_MESSAGES = 50  # the newest messages the company's page lists
# What the company reads of its diagnosis (thesis §5.2: "qué más necesita"): the gaps the executive
# wrote in the interview (forms/entrevista.json) and the strengthening plan agreed with it
# (forms/plan_fortalecimiento.json). Only these fields: `observaciones` of those forms (and of every
# other form) is the team's internal note and is never read here.
DIAGNOSIS_FIELDS = ("brechas", "brechas_priorizadas", "acciones", "fecha_revision")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")  # secrets.token_urlsafe(32)
REDACTED = "[enlace privado retirado]"
HIDDEN = "[enlace privado oculto: solo va por correo]"


def without_links(s, text: str, replacement: str = REDACTED) -> str:
    """`text` with every private link in it (a token whose SHA-256 is a stored link) replaced by
    REDACTED: once its message has left, the outbox keeps no working link (only the hash is kept).
    Pages showing a message not yet sent replace them by HIDDEN instead (the stored text keeps them)."""
    tokens = {_digest(token): token for token in _TOKEN.findall(text or "")}
    if not tokens:
        return text
    for digest in s.scalars(select(PortalLink.token_hash).where(PortalLink.token_hash.in_(list(tokens)))):
        text = text.replace(tokens[digest], replacement)
    return text


def _new_link(s, company_id, now) -> str:
    token = secrets.token_urlsafe(32)
    s.add(PortalLink(company_id=company_id, token_hash=_digest(token), created_at=now,
                     expires_at=now + timedelta(days=LINK_DAYS)))
    return token


def _queue_link(s, company, case_id, token, compose, now) -> None:
    asunto, mensaje = compose(token)
    s.add(OutboxMessage(case_id=case_id, destinatario=PYME, to_address=company.contacto_email,
                        asunto=asunto, mensaje=mensaje, created_at=now))


def _active_case(s, company_id):
    return s.scalar(select(Case).where(Case.company_id == company_id, Case.status.in_(IN_PROGRESS))
                    .order_by(Case.id.desc()))


def register(engine, process_id: str, data: dict, compose, compose_notice) -> None:
    """An anonymous registration: start a case for a new company and mail it a private link.

    Nothing tells a known RUT from an unknown one, neither the answer nor its timing nor its
    effects on the company: the start is run in both cases (validating the data and running the
    process as far as it goes, the same work), and for a RUT already registered it is rolled
    back: no company column changes, no case starts, and a fresh link goes only to the email
    already on file, in a notice that someone asked to register the company
    (`compose_notice(token)`). A new company gets its link by email (`compose(token)`), never in
    the answer. Both `compose` give `(asunto, mensaje)`. Raises ValueError (the RUT) or
    FormError (the data) the same way for both.
    """
    rut = normalize_rut(data.get("rut"))
    data = dict(data, rut=rut)
    for attempt in (1, 2):
        try:
            return _register(engine, process_id, data, compose, compose_notice)
        except IntegrityError:  # the same new RUT registered at the same moment: now it is known
            if attempt == 2:
                raise


def _register(engine, process_id, data, compose, compose_notice) -> None:
    now = engine.now()
    with engine.transaction() as s:
        company = s.scalar(select(Company).where(Company.rut == data["rut"]))
        rehearsal = s.begin_nested()
        case_id = engine.start_in(s, process_id, data, actor=PORTAL_ACTOR, prepare=scheduler.start_by_hand)
        if company is None:
            rehearsal.commit()
            company = s.get(Company, s.get(Case, case_id).company_id)
            _queue_link(s, company, case_id, _new_link(s, company.id, now), compose, now)
            return
        rehearsal.rollback()  # what the start wrote (company columns, case, history) is undone
        if company.contacto_email:
            _queue_link(s, company, _latest_case_id(s, company.id), _new_link(s, company.id, now),
                        compose_notice, now)


def _latest_case_id(s, company_id) -> int | None:
    case = _active_case(s, company_id) or s.scalar(
        select(Case).where(Case.company_id == company_id).order_by(Case.id.desc()))
    return case.id if case else None


def start_again(engine, process_id: str, company_id: int, data: dict) -> int:
    """A registered company starts a new case through its private link (e.g. it was derived
    elsewhere and has grown). Its RUT is the one on file; the data may update its record.
    Conflict if a case of the company is still in progress."""
    with engine.transaction() as s:
        company = s.scalar(engine.locked(select(Company).where(Company.id == company_id)))
        if company is None:
            raise NotFound("empresa desconocida")
        if _active_case(s, company_id) is not None:
            raise Conflict("Su empresa ya tiene un proceso en curso: siga sus próximos pasos en esta página.")
        return engine.start_in(s, process_id, dict(data, rut=company.rut), actor=PORTAL_ACTOR,
                               prepare=scheduler.start_by_hand)


def company_values(engine, company_id: int) -> dict:
    """The company's data on file, as start-form values (to fill in the form of a new case)."""
    with engine.Session() as s:
        company = s.get(Company, company_id)
        if company is None:
            raise NotFound("empresa desconocida")
        return {name: getattr(company, name) for name in COMPANY_FIELDS if getattr(company, name) is not None}


def send_link(engine, rut: str, compose) -> bool:
    """Email a new private link to the company with this RUT, if it is registered with an email."""
    try:
        rut = normalize_rut(rut)
    except ValueError:
        return False
    now = engine.now()
    with engine.transaction() as s:
        company = s.scalar(select(Company).where(Company.rut == rut))
        if company is None or not company.contacto_email:
            return False
        token = _new_link(s, company.id, now)
        _queue_link(s, company, _latest_case_id(s, company.id), token, compose, now)
        return True


def issue_link(engine, rut: str) -> str:
    """A new private link for a registered company, handed over directly (CLI, demo)."""
    rut = normalize_rut(rut)
    with engine.transaction() as s:
        company = s.scalar(select(Company).where(Company.rut == rut))
        if company is None:
            raise NotFound(f"no hay una empresa registrada con RUT {rut}")
        return _new_link(s, company.id, engine.now())


def company_for_token(engine, token: str) -> int | None:
    """The company a link opens, or None if the link is unknown or expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    now = engine.now()
    with engine.Session() as s:
        link = s.scalar(select(PortalLink).where(PortalLink.token_hash == _digest(token)))
        if link is None or as_utc(link.expires_at) <= now:
            return None
        company_id, stale = link.company_id, link.last_seen_at is None or \
            as_utc(link.last_seen_at) < now - timedelta(hours=1)
    if stale:
        with engine.transaction() as s:
            s.get(PortalLink, link.id).last_seen_at = now
    return company_id


def company_task(engine, company_id: int, task_id: str) -> dict:
    """A ready task of the company's own lane in one of its cases, as `Engine.task` gives it."""
    with engine.Session() as s:
        row = s.scalar(select(TaskRow).join(Case, Case.id == TaskRow.case_id)
                       .where(TaskRow.id == task_id, Case.company_id == company_id))
        if row is None or row.lane != PORTAL_ACTOR:
            raise NotFound("La tarea no existe o no corresponde a su empresa.")
        if row.state != "ready":
            raise Conflict("Esta etapa ya fue completada.")
    return engine.task(task_id)


def overview(engine, company_id: int) -> dict:
    """What the company's private page shows: its stage, next steps, history and TPE."""
    with engine.Session() as s:
        company = s.get(Company, company_id)
        if company is None:
            raise NotFound("empresa desconocida")
        cases = s.scalars(select(Case).where(Case.company_id == company_id).order_by(Case.id.desc())).all()
        current = cases[0] if cases else None
        tpe = s.scalar(select(Tpe).where(Tpe.company_id == company_id))
        case_ids = [c.id for c in cases]
        own_tasks, team_tasks = [], []
        history, derivations, activities, messages = [], [], [], []
        if case_ids:
            for t in s.scalars(select(TaskRow).where(TaskRow.case_id.in_(case_ids), TaskRow.state == "ready")
                               .order_by(TaskRow.created_at)):
                item = {"id": t.id, "name": t.name, "case_id": t.case_id, "form_id": t.form_key,
                        "due_at": as_utc(t.due_at)}
                (own_tasks if t.lane == PORTAL_ACTOR else team_tasks).append(item)
            history = [{"at": as_utc(e.at), "kind": e.kind, "name": e.name,
                        "by_company": e.actor == PORTAL_ACTOR,
                        "resultado": displayable((e.detail or {}).get("resultado"))}
                       for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids),
                                                                  CaseEvent.kind.in_(PUBLIC_EVENTS))
                                          .order_by(CaseEvent.id.desc()))]
            derivations = [{"institucion": d.institucion, "contacto": d.contacto, "direccion": d.direccion,
                            "fecha": d.fecha, "motivo": d.motivo}
                           for d in s.scalars(select(Derivation).where(Derivation.company_id == company_id)
                                              .order_by(Derivation.id.desc()))]
            activities = [{"tipo": a.tipo, "detalle": a.detalle, "at": as_utc(a.created_at)}
                          for a in s.scalars(select(Activity).where(Activity.company_id == company_id)
                                             .order_by(Activity.id.desc()))]
            messages = _messages(s, case_ids)
        data = displayable(dict(current.data or {})) if current else {}  # repaired if stored unchecked
        return {
            "company": {"rut": company.rut, "razon_social": company.razon_social, "region": company.region,
                        "rubro": company.rubro, "contacto_email": company.contacto_email},
            "case": {"id": current.id, "status": current.status, "segmento": current.segmento,
                     "resultado": current.resultado, "ejecutivo": current.ejecutivo,
                     "created_at": as_utc(current.created_at), "ended_at": as_utc(current.ended_at),
                     "next_timer_at": as_utc(current.next_timer_at)} if current else None,
            "stages": stages(data, current.status if current else None),
            "entrevista": {k: data[k] for k in ("fecha_entrevista", "hora_entrevista", "lugar_entrevista")
                           if data.get(k)},
            "own_tasks": own_tasks, "team_tasks": team_tasks, "history": history,
            "derivations": derivations, "activities": activities, "messages": messages,
            **diagnosis(data),
            "tpe": {"puntaje": tpe.puntaje, "dimensiones": tpe.dimensiones, "revision": tpe.revision,
                    "submitted_at": as_utc(tpe.submitted_at), "valid_until": as_utc(tpe.valid_until)}
            if tpe else None,
        }


def _messages(s, case_ids) -> list[dict]:
    """The messages the programme wrote to the company in its cases (the diagrams' `notificar` to
    "pyme": interview date, classification, derivation, reminders; its private-link emails), newest
    first. A working private link in them is hidden: it belongs to the company's mailbox only."""
    rows = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id.in_(case_ids),
                                                 OutboxMessage.destinatario == PYME)
                     .order_by(OutboxMessage.id.desc()).limit(MAX_MESSAGES))
    return [{"at": as_utc(m.created_at), "asunto": m.asunto, "mensaje": without_links(s, m.mensaje, HIDDEN),
             "sent_at": as_utc(m.sent_at)} for m in rows]


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def diagnosis(data: dict) -> dict:
    """The gaps found in the interview (`brechas`, None before the interview) and the strengthening
    plan (`plan`: prioritised gaps, agreed actions, review date; None until agreed), read only from
    DIAGNOSIS_FIELDS of the case variables."""
    own = {key: data.get(key) for key in DIAGNOSIS_FIELDS}
    actions = [a.strip() for a in own["acciones"] if _text(a)] if isinstance(own["acciones"], list) else []
    plan = None
    if _text(own["brechas_priorizadas"]) or actions:
        plan = {"brechas_priorizadas": _text(own["brechas_priorizadas"]), "acciones": actions,
                "fecha_revision": _day(own["fecha_revision"])}
    return {"brechas": _text(own["brechas"]), "plan": plan}


def _trained(check) -> bool:
    return isinstance(check, dict) and check.get("capacitada") is True


def stages(data: dict, status: str | None) -> list[dict]:
    """The export route as steps `done` / `current` / `todo` / `skipped`, from the case variables."""
    reached = {
        "registro": status is not None,
        "tpe": "puntaje_tpe" in data,
        "entrevista": "puntaje_entrevista" in data,
        "clasificacion": bool(data.get("segmento")),
        "capacitacion": bool(data.get("capacitada") or _trained(data.get("verificacion_capacitacion"))),
        "exportacion": data.get("resultado") == "exportadora",
    }
    ended = status in ("completed", "cancelled")
    result, current_marked = [], False
    for key in STAGES:
        if reached[key]:
            state = "done"
        elif ended:
            state = "skipped"
        elif not current_marked:
            state, current_marked = "current", True
        else:
            state = "todo"
        result.append({"key": key, "state": state})
    return result
