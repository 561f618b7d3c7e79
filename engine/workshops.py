"""Workshops (talleres; SPEC §6, thesis §3.1.2, manual §4.1): the catalogue, sessions in a
region (or national), registration online by the company or by an executive, attendance
taken on the day, and the consolidated attendance export with RUT and razón social.

Plain functions over the engine's transactions and clock (no Flask). Times come in and go
out as aware datetimes in UTC; a naive datetime, and a whole day in the export filters,
are read in the programme's time zone (`LOCAL_TZ`).

A session is *open to* a region when it is that region's, national (no region) or online.
Registrations for the last seat are serialized: on PostgreSQL the session row is locked
(`FOR UPDATE`), on SQLite every write transaction of the engine starts with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError

from .clock import as_utc
from .db import serialize_setup
from .errors import Conflict, NotFound
from .forms import FormError
from .schema import Company, OutboxMessage, Workshop, WorkshopRegistration, WorkshopSession
from .services.regions import is_region
from .services.rut import normalize_rut

CATALOGUE = Path(__file__).parent / "services" / "data" / "talleres.json"
STAGES = ("introduccion", "intermedia", "profundizacion")
MIN_CAPACITY, MAX_CAPACITY = 1, 500
MAX_PLACE = 300
MAX_RAZON_SOCIAL = 200
ATTENDANCE_OPENS = timedelta(hours=2)  # attendance may be taken from 2 hours before the start
LOCAL_TZ = ZoneInfo("America/Santiago")
PORTAL_ACTOR = "pyme"
REGION_HELP = "use un código ISO 3166-2:CL, p. ej. CL-RM"


# -- catalogue --------------------------------------------------------------------------

def load_catalogue(path: str | Path = CATALOGUE) -> list[dict]:
    """The workshops of the catalogue file, checked (ValueError in Spanish if malformed)."""
    with open(path, encoding="utf-8") as handle:
        items = json.load(handle).get("talleres")
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: falta la lista «talleres»")
    keys = set()
    for item in items:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key or len(key) > 60 or key in keys:
            raise ValueError(f"{path}: cada taller necesita una clave «key» única (máx. 60 caracteres)")
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ValueError(f"{path}: el taller «{key}» no tiene nombre")
        if item.get("stage") is not None and item["stage"] not in STAGES:
            raise ValueError(f"{path}: el taller «{key}» tiene una etapa desconocida «{item['stage']}»")
        keys.add(key)
    return items


def seed_catalogue(engine, path: str | Path = CATALOGUE) -> dict:
    """Bring the `workshops` table in step with the catalogue file (idempotent).

    New keys are added, changed names, descriptions and stages are updated, and a workshop
    no longer in the file (or marked `"active": false`) stops being offered; its past
    sessions and attendance are kept.
    """
    items = load_catalogue(path)
    created = updated = 0
    with engine.transaction() as s:
        serialize_setup(s)  # several machines may load it at once as they start (`cpe db upgrade`)
        existing = {w.key: w for w in s.scalars(select(Workshop))}
        for position, item in enumerate(items, 1):
            fields = {"name": item["name"].strip(), "description": (item.get("description") or "").strip(),
                      "stage": item.get("stage"), "position": position, "active": item.get("active", True) is True}
            workshop = existing.pop(item["key"], None)
            if workshop is None:
                s.add(Workshop(key=item["key"], **fields))
                created += 1
            elif any(getattr(workshop, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(workshop, name, value)
                updated += 1
        for workshop in existing.values():
            if workshop.active:
                workshop.active = False
                updated += 1
    return {"created": created, "updated": updated, "total": len(items)}


def catalogue(engine, active_only: bool = True) -> list[dict]:
    with engine.Session() as s:
        query = select(Workshop).order_by(Workshop.position, Workshop.id)
        if active_only:
            query = query.where(Workshop.active.is_(True))
        return [{"key": w.key, "name": w.name, "description": w.description, "stage": w.stage, "active": w.active}
                for w in s.scalars(query)]


# -- sessions ---------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read in the programme's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def local_day_start(day: date) -> datetime:
    """Midnight of `day` in the programme's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def open_to(region: str | None):
    """SQL condition: sessions a company of `region` may attend (its region's, national, online)."""
    condition = or_(WorkshopSession.region.is_(None), WorkshopSession.online.is_(True))
    return or_(condition, WorkshopSession.region == region) if region else condition


def is_open_to(session: dict, region: str | None) -> bool:
    return session["region"] is None or session["online"] or (region is not None and session["region"] == region)


def create_session(engine, workshop_key, starts_at, place, capacity, region=None, online=False,
                   created_by="sistema") -> dict:
    """Schedule a session of a catalogue workshop. Raises FormError (a ValueError) whose
    `errors` maps `taller`, `region`, `fecha`, `lugar` and `cupo` to Spanish messages."""
    errors = {}
    now = engine.now()
    region = region or None
    if region is not None and not is_region(region):
        errors["region"] = f"Región desconocida «{region}» ({REGION_HELP})."
    if not isinstance(starts_at, datetime):
        errors["fecha"] = "Indique la fecha y la hora de la sesión."
    elif _utc(starts_at) <= now:
        errors["fecha"] = "La fecha de la sesión debe ser futura."
    place = place.strip() if isinstance(place, str) else ""
    if not place:
        errors["lugar"] = "Indique el lugar de la sesión (o el enlace, si es en línea)."
    elif len(place) > MAX_PLACE:
        errors["lugar"] = f"El lugar no puede superar los {MAX_PLACE} caracteres."
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        errors["cupo"] = f"El cupo debe ser un número entero entre {MIN_CAPACITY} y {MAX_CAPACITY}."
    with engine.transaction() as s:
        workshop = s.scalar(select(Workshop).where(Workshop.key == workshop_key)) \
            if isinstance(workshop_key, str) and workshop_key else None
        if not workshop_key:
            errors["taller"] = "Elija un taller del catálogo."
        elif workshop is None:
            errors["taller"] = f"Taller desconocido «{workshop_key}»."
        elif not workshop.active:
            errors["taller"] = f"El taller «{workshop.name}» ya no se ofrece."
        if errors:
            raise FormError(errors)
        row = WorkshopSession(workshop_id=workshop.id, region=region, starts_at=_utc(starts_at), place=place,
                              online=bool(online), capacity=capacity, cancelled=False, created_by=created_by,
                              created_at=now)
        s.add(row)
        s.flush()
        return _session_dict(row, workshop, 0, 0, now)


def _session_dict(row: WorkshopSession, workshop: Workshop, registered: int, attended: int, now) -> dict:
    starts_at = as_utc(row.starts_at)
    started = starts_at <= now
    if row.cancelled:
        state = "cancelled"
    elif started:
        state = "held"
    elif registered >= row.capacity:
        state = "full"
    else:
        state = "open"
    return {
        "id": row.id, "workshop_key": workshop.key, "workshop": workshop.name, "description": workshop.description,
        "stage": workshop.stage, "region": row.region, "starts_at": starts_at, "place": row.place,
        "online": row.online, "capacity": row.capacity, "registered": registered, "attended": attended,
        "seats_left": max(0, row.capacity - registered), "cancelled": row.cancelled, "started": started,
        "attendance_open": not row.cancelled and now >= starts_at - ATTENDANCE_OPENS, "state": state,
        "created_by": row.created_by,
    }


def _counts(s, session_ids) -> dict[int, tuple[int, int]]:
    if not session_ids:
        return {}
    rows = s.execute(select(WorkshopRegistration.session_id, func.count(WorkshopRegistration.id),
                            func.sum(sql_case((WorkshopRegistration.attended.is_(True), 1), else_=0)).cast(Integer))
                     .where(WorkshopRegistration.session_id.in_(session_ids))
                     .group_by(WorkshopRegistration.session_id))
    return {session_id: (registered, attended or 0) for session_id, registered, attended in rows}


def list_sessions(engine, region: str | None = None, start: datetime | None = None, end: datetime | None = None,
                  include_cancelled: bool = True, newest_first: bool = False, limit: int = 200) -> list[dict]:
    """Sessions starting in [start, end), open to `region` if given (else all), by date."""
    now = engine.now()
    with engine.Session() as s:
        query = select(WorkshopSession, Workshop).join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        if region is not None:
            query = query.where(open_to(region))
        if start is not None:
            query = query.where(WorkshopSession.starts_at >= _utc(start))
        if end is not None:
            query = query.where(WorkshopSession.starts_at < _utc(end))
        if not include_cancelled:
            query = query.where(WorkshopSession.cancelled.is_(False))
        order = WorkshopSession.starts_at.desc() if newest_first else WorkshopSession.starts_at
        rows = s.execute(query.order_by(order, WorkshopSession.id).limit(limit)).all()
        counts = _counts(s, [row.id for row, _w in rows])
        return [_session_dict(row, workshop, *counts.get(row.id, (0, 0)), now) for row, workshop in rows]


def upcoming(engine, region: str | None = None, include_cancelled: bool = False, limit: int = 200) -> list[dict]:
    """Sessions that have not started yet, soonest first (for a region: the ones open to it)."""
    return list_sessions(engine, region, start=engine.now() + timedelta(microseconds=1),
                         include_cancelled=include_cancelled, limit=limit)


def get_session(engine, session_id: int) -> dict:
    now = engine.now()
    with engine.Session() as s:
        row = s.get(WorkshopSession, session_id)
        if row is None:
            raise NotFound(f"no existe la sesión de taller {session_id}")
        workshop = s.get(Workshop, row.workshop_id)
        return _session_dict(row, workshop, *_counts(s, [row.id]).get(row.id, (0, 0)), now)


def _lock_session(engine, s, session_id) -> WorkshopSession:
    """The session row, locked until the transaction ends on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    row = s.scalar(engine.locked(select(WorkshopSession).where(WorkshopSession.id == session_id)))
    if row is None:
        raise NotFound(f"no existe la sesión de taller {session_id}")
    return row


def cancel_session(engine, session_id: int, by: str) -> dict:
    """Cancel a session that has not started; registered companies get a message in the outbox."""
    now = engine.now()
    with engine.transaction() as s:
        row = _lock_session(engine, s, session_id)
        if row.cancelled:
            raise Conflict("La sesión ya estaba cancelada.")
        if as_utc(row.starts_at) <= now:
            raise Conflict("La sesión ya comenzó: no se puede cancelar.")
        row.cancelled = True
        workshop = s.get(Workshop, row.workshop_id)
        when = as_utc(row.starts_at).astimezone(LOCAL_TZ).strftime("%d-%m-%Y %H:%M")
        for company in s.scalars(select(Company).join(WorkshopRegistration,
                                                      WorkshopRegistration.company_id == Company.id)
                                 .where(WorkshopRegistration.session_id == session_id)):
            s.add(OutboxMessage(
                destinatario="pyme", to_address=company.contacto_email, created_at=now,
                asunto=f"Sesión cancelada: {workshop.name}",
                mensaje=f"Lamentamos informar que la sesión de «{workshop.name}» del {when} fue cancelada. "
                        "Puede inscribirse en otra fecha desde su página del portal Centros Pyme Exporta."))
        return _session_dict(row, workshop, *_counts(s, [row.id]).get(row.id, (0, 0)), now)


# -- registrations ------------------------------------------------------------------------

def find_company(engine, rut: str) -> dict | None:
    """The registered company with this RUT (ValueError if the RUT is invalid), or None."""
    rut = normalize_rut(rut)
    with engine.Session() as s:
        company = s.scalar(select(Company).where(Company.rut == rut))
        return _company_dict(company) if company else None


def _company_dict(company: Company) -> dict:
    return {"id": company.id, "rut": company.rut, "razon_social": company.razon_social, "region": company.region}


def register(engine, session_id: int, company_id: int, by: str, *, self_service: bool = False,
             walk_in: bool = False) -> dict:
    """Register a company in a session (one transaction).

    Refused (Conflict) when the session is cancelled, has started, already has the company
    or has no seats left. `self_service` (the company itself, in the portal) also refuses a
    session not open to the company's region. `walk_in` records a company that came without
    registering, once attendance can be taken: it is marked present and takes no seat check.
    """
    now = engine.now()
    with engine.transaction() as s:
        row = _lock_session(engine, s, session_id)
        company = s.get(Company, company_id)
        if company is None:
            raise NotFound("La empresa no está registrada en el programa.")
        starts_at = as_utc(row.starts_at)
        if row.cancelled:
            raise Conflict("La sesión fue cancelada.")
        if walk_in:
            if now < starts_at - ATTENDANCE_OPENS:
                raise Conflict("La asistencia se registra desde dos horas antes del inicio de la sesión.")
        elif starts_at <= now:
            raise Conflict("La sesión ya comenzó: no admite inscripciones.")
        if self_service and not (row.region is None or row.online or row.region == company.region):
            raise Conflict("Esta sesión no está abierta a empresas de su región.")
        existing = s.scalar(select(WorkshopRegistration).where(WorkshopRegistration.session_id == session_id,
                                                               WorkshopRegistration.company_id == company_id))
        if existing is not None:
            if not walk_in:
                raise Conflict("La empresa ya está inscrita en esta sesión.")
            if existing.attended and existing.marked_at is not None:
                raise Conflict("La empresa ya figura como presente en esta sesión.")
            existing.attended, existing.marked_by, existing.marked_at = True, by, now
            return _registration_dict(existing, company)
        if not walk_in:
            taken = s.scalar(select(func.count(WorkshopRegistration.id))
                             .where(WorkshopRegistration.session_id == session_id))
            if taken >= row.capacity:
                raise Conflict("No quedan cupos en esta sesión.")
        registration = WorkshopRegistration(session_id=session_id, company_id=company_id, registered_at=now,
                                            registered_by=by, attended=walk_in, marked_by=by if walk_in else None,
                                            marked_at=now if walk_in else None)
        s.add(registration)
        try:
            s.flush()
        except IntegrityError:  # a concurrent registration of the same company (the lock makes it rare)
            raise Conflict("La empresa ya está inscrita en esta sesión.") from None
        return _registration_dict(registration, company)


def register_rut(engine, session_id: int, rut: str, by: str, razon_social: str | None = None,
                 region: str | None = None, walk_in: bool = False) -> dict:
    """Register the company with this RUT (executives, from the session page).

    A company not yet in the program is added with its RUT and razón social (manual §4.1:
    attendees who did not register are recorded with both); its region is `region`, or the
    session's. Without a razón social an unknown RUT is refused.
    """
    rut = normalize_rut(rut)
    razon_social = (razon_social or "").strip()
    if len(razon_social) > MAX_RAZON_SOCIAL:
        raise ValueError(f"La razón social no puede superar los {MAX_RAZON_SOCIAL} caracteres.")
    if region is not None and not is_region(region):
        raise ValueError(f"Región desconocida «{region}» ({REGION_HELP}).")
    company = find_company(engine, rut)
    if company is None:
        if not razon_social:
            raise NotFound(f"No hay una empresa registrada con RUT {rut}: indique su razón social para agregarla.")
        now = engine.now()
        with engine.transaction() as s:
            session_region = s.scalar(select(WorkshopSession.region).where(WorkshopSession.id == session_id))
            created = Company(rut=rut, razon_social=razon_social, region=region or session_region, origen="taller",
                              created_at=now, updated_at=now)
            s.add(created)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict("Otra persona registró esta empresa al mismo tiempo; intente de nuevo.") from None
            company = _company_dict(created)
    return register(engine, session_id, company["id"], by, walk_in=walk_in)


def _registration_dict(registration: WorkshopRegistration, company: Company) -> dict:
    return {
        "id": registration.id, "session_id": registration.session_id, "company_id": company.id,
        "rut": company.rut, "razon_social": company.razon_social, "region": company.region,
        "registered_at": as_utc(registration.registered_at), "registered_by": registration.registered_by,
        "attended": registration.attended if registration.marked_at is not None else None,
        "marked_by": registration.marked_by, "marked_at": as_utc(registration.marked_at),
    }


def unregister(engine, session_id: int, company_id: int) -> None:
    """Remove a registration before the session starts (the seat is freed)."""
    now = engine.now()
    with engine.transaction() as s:
        row = _lock_session(engine, s, session_id)
        registration = s.scalar(select(WorkshopRegistration).where(
            WorkshopRegistration.session_id == session_id, WorkshopRegistration.company_id == company_id))
        if registration is None:
            raise NotFound("La empresa no está inscrita en esta sesión.")
        if as_utc(row.starts_at) <= now:
            raise Conflict("La sesión ya comenzó: la inscripción no se puede anular.")
        s.delete(registration)


# -- attendance ---------------------------------------------------------------------------

def mark_attendance(engine, session_id: int, present, by: str) -> dict:
    """Record who attended: the companies in `present` (ids) attended, the other registered
    ones did not. Allowed from two hours before the start; re-saving only stamps changes."""
    try:
        present = {int(company_id) for company_id in present}
    except (TypeError, ValueError):
        raise ValueError("La lista de asistentes no es válida.") from None
    now = engine.now()
    with engine.transaction() as s:
        row = _lock_session(engine, s, session_id)
        if row.cancelled:
            raise Conflict("La sesión fue cancelada.")
        if now < as_utc(row.starts_at) - ATTENDANCE_OPENS:
            raise Conflict("La asistencia se registra desde dos horas antes del inicio de la sesión.")
        registrations = s.scalars(select(WorkshopRegistration)
                                  .where(WorkshopRegistration.session_id == session_id)).all()
        if present - {r.company_id for r in registrations}:
            raise ValueError("Hay empresas marcadas que no están inscritas en esta sesión.")
        changed = 0
        for registration in registrations:
            attended = registration.company_id in present
            if registration.marked_at is None or registration.attended != attended:
                registration.attended, registration.marked_by, registration.marked_at = attended, by, now
                changed += 1
        return {"registered": len(registrations), "present": len(present), "changed": changed}


def attendance_sheet(engine, session_id: int) -> dict:
    """The session and its registered companies (by razón social) with their attendance."""
    session = get_session(engine, session_id)
    with engine.Session() as s:
        rows = s.execute(select(WorkshopRegistration, Company)
                         .join(Company, Company.id == WorkshopRegistration.company_id)
                         .where(WorkshopRegistration.session_id == session_id)
                         .order_by(Company.razon_social, Company.id)).all()
        return {"session": session, "rows": [_registration_dict(r, c) for r, c in rows]}


def company_workshops(engine, company_id: int) -> list[dict]:
    """The company's registrations, newest session first, each with a `status`:
    `registered` (upcoming), `attended`, `absent`, `pending` (held, attendance not taken yet)
    or `cancelled` (the session was cancelled)."""
    now = engine.now()
    with engine.Session() as s:
        rows = s.execute(select(WorkshopRegistration, WorkshopSession, Workshop)
                         .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
                         .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
                         .where(WorkshopRegistration.company_id == company_id)
                         .order_by(WorkshopSession.starts_at.desc())).all()
        result = []
        for registration, row, workshop in rows:
            session = _session_dict(row, workshop, 0, 0, now)
            if row.cancelled:
                status = "cancelled"
            elif not session["started"]:
                status = "registered"
            elif registration.marked_at is None:
                status = "pending"
            else:
                status = "attended" if registration.attended else "absent"
            result.append({"session": session, "status": status, "registered_by": registration.registered_by,
                           "registered_at": as_utc(registration.registered_at),
                           "can_cancel": status == "registered"})
        return result


def sessions_for_company(engine, company_id: int) -> list[dict]:
    """Upcoming sessions open to the company (its region, national, online), each with
    `registered`: whether the company is already in."""
    with engine.Session() as s:
        company = s.get(Company, company_id)
        if company is None:
            raise NotFound("empresa desconocida")
        region = company.region
        mine = set(s.scalars(select(WorkshopRegistration.session_id)
                             .where(WorkshopRegistration.company_id == company_id)))
    sessions = upcoming(engine, region=region) if region else \
        [session for session in upcoming(engine) if is_open_to(session, None)]
    return [dict(session, registered=session["id"] in mine) for session in sessions]


def attended_workshops(session, company_id: int, workshop_key: str | None = None) -> int:
    """How many sessions (of one workshop, if given) the company attended, in an open session."""
    query = select(func.count(WorkshopRegistration.id)).join(
        WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id).where(
        WorkshopRegistration.company_id == company_id, WorkshopRegistration.attended.is_(True),
        WorkshopSession.cancelled.is_(False))
    if workshop_key is not None:
        query = query.join(Workshop, Workshop.id == WorkshopSession.workshop_id).where(Workshop.key == workshop_key)
    return session.scalar(query) or 0


# -- the consolidated export ------------------------------------------------------------

EXPORT_COLUMNS = ("rut", "razon_social", "region", "taller", "starts_at", "place", "attended")


def attendance_rows(engine, region: str | None = None, date_from: date | None = None, date_to: date | None = None,
                    session_id: int | None = None) -> list[dict]:
    """One row per registration in sessions that were not cancelled (manual §4.1), by date.

    `region` keeps the sessions of that region and the registrations of its companies in
    national or online sessions; `date_from` and `date_to` are whole days (inclusive) in the
    programme's time zone. `attended` is None while attendance has not been taken.
    """
    if region is not None and not is_region(region):
        raise ValueError(f"Región desconocida «{region}» ({REGION_HELP}).")
    for value in (date_from, date_to):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise ValueError("Las fechas del filtro deben ser días (AAAA-MM-DD).")
    if date_from and date_to and date_from > date_to:
        raise ValueError("La fecha «desde» no puede ser posterior a la fecha «hasta».")
    with engine.Session() as s:
        query = (select(WorkshopRegistration, WorkshopSession, Workshop, Company)
                 .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
                 .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
                 .join(Company, Company.id == WorkshopRegistration.company_id)
                 .where(WorkshopSession.cancelled.is_(False)))
        if region is not None:
            query = query.where(or_(WorkshopSession.region == region, Company.region == region))
        if date_from is not None:
            query = query.where(WorkshopSession.starts_at >= local_day_start(date_from))
        if date_to is not None:
            query = query.where(WorkshopSession.starts_at < local_day_start(date_to + timedelta(days=1)))
        if session_id is not None:
            query = query.where(WorkshopSession.id == session_id)
        rows = s.execute(query.order_by(WorkshopSession.starts_at, WorkshopSession.id, Company.razon_social,
                                        Company.id)).all()
        return [{
            "rut": company.rut, "razon_social": company.razon_social, "region": company.region or row.region,
            "taller": workshop.name, "taller_key": workshop.key, "session_id": row.id,
            "session_region": row.region, "online": row.online, "place": row.place,
            "starts_at": as_utc(row.starts_at),
            "attended": registration.attended if registration.marked_at is not None else None,
            "registered_by": registration.registered_by,
        } for registration, row, workshop, company in rows]
