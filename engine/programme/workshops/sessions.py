"""Workshop sessions (talleres; SPEC §6, manual §4.1): scheduling a session of a catalogue
workshop in a region (or national, or online), listing, reading and cancelling sessions. Part
of `engine.programme.workshops`, which re-exports the public names.

Times come in and go out as aware datetimes in UTC; a naive datetime is read in the
programme's time zone (`LOCAL_TZ`). A session is *open to* a region when it is that region's,
national (no region) or online.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, or_, select
from sqlalchemy import case as sql_case

from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, FormError, NotFound
from engine.domain.regions import is_region
from engine.domain.roles import PYME
from engine.store.schema import Company, OutboxMessage, Workshop, WorkshopRegistration, WorkshopSession

MIN_CAPACITY, MAX_CAPACITY = 1, 500
MAX_PLACE = 300
ATTENDANCE_OPENS = timedelta(hours=2)  # attendance may be taken from 2 hours before the start
LOCAL_TZ = ZoneInfo("America/Santiago")
REGION_HELP = "use un código ISO 3166-2:CL, p. ej. CL-RM"


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
        return session_dict(row, workshop, 0, 0, now)


def session_dict(row: WorkshopSession, workshop: Workshop, registered: int, attended: int, now) -> dict:
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
        return [session_dict(row, workshop, *counts.get(row.id, (0, 0)), now) for row, workshop in rows]


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
        return session_dict(row, workshop, *_counts(s, [row.id]).get(row.id, (0, 0)), now)


def lock_session(engine, s, session_id) -> WorkshopSession:
    """The session row, locked until the transaction ends on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    row = s.scalar(engine.locked(select(WorkshopSession).where(WorkshopSession.id == session_id)))
    if row is None:
        raise NotFound(f"no existe la sesión de taller {session_id}")
    return row


def cancel_session(engine, session_id: int, by: str) -> dict:
    """Cancel a session that has not started; registered companies get a message in the outbox."""
    now = engine.now()
    with engine.transaction() as s:
        row = lock_session(engine, s, session_id)
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
                destinatario=PYME, to_address=company.contacto_email, created_at=now,
                asunto=f"Sesión cancelada: {workshop.name}",
                mensaje=f"Lamentamos informar que la sesión de «{workshop.name}» del {when} fue cancelada. "
                        "Puede inscribirse en otra fecha desde su página del portal Centros Pyme Exporta."))
        return session_dict(row, workshop, *_counts(s, [row.id]).get(row.id, (0, 0)), now)
