"""Workshop registrations and attendance (talleres; SPEC §6, manual §4.1): registration
online by the company or by an executive (walk-ins included), attendance taken on the day,
and each company's workshops. Part of `engine.programme.workshops`, which re-exports the public names.

Registrations for the last seat are serialized: on PostgreSQL the session row is locked
(`FOR UPDATE`), on SQLite every write transaction of the engine starts with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, NotFound
from engine.domain.regions import is_region
from engine.domain.roles import PYME
from engine.domain.rut import normalize_rut
from engine.programme.workshops.sessions import (
    ATTENDANCE_OPENS,
    LOCAL_TZ,
    REGION_HELP,
    get_session,
    is_open_to,
    lock_session,
    open_to,
    session_dict,
    upcoming,
)
from engine.store.db import locking
from engine.store.schema import Company, Workshop, WorkshopRegistration, WorkshopSession

MAX_RAZON_SOCIAL = 200
PORTAL_ACTOR = PYME  # registered_by of a registration the company made in its portal


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
        row = lock_session(engine, s, session_id)
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
            if _seats_taken(s, session_id) >= row.capacity:
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


def _seats_taken(session, session_id: int) -> int:
    """The registrations of a workshop session (each takes a seat)."""
    return session.scalar(select(func.count(WorkshopRegistration.id))
                          .where(WorkshopRegistration.session_id == session_id))


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
        row = lock_session(engine, s, session_id)
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
        row = lock_session(engine, s, session_id)
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
            session = session_dict(row, workshop, 0, 0, now)
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


def enrol_next_sessions(session, company_id: int, workshop_keys, now, by: str) -> dict:
    """Enrol a company in the next session of each workshop of `workshop_keys` (catalogue keys),
    inside the caller's open database session: what the Capacitación task of a diagram does through
    the `inscribir_taller` operator (manual §4.1: training before any promotion action).

    For each workshop, a registration the company already has in an upcoming session is kept;
    otherwise the soonest upcoming, not cancelled session open to the company's region (its region's,
    national or online) with a seat left takes it. A workshop with no such session is listed in
    `sin_sesion`. The session rows are locked as `register` locks them (engine.store.db.locking).
    Raises ValueError (Spanish) for an unknown
    or withdrawn workshop, or a company not in the programme."""
    company = session.get(Company, company_id) if company_id is not None else None
    if company is None:
        raise ValueError("el caso no tiene una empresa registrada a la que inscribir")
    dialect = session.get_bind().dialect.name
    enrolled, missing = [], []
    for key in dict.fromkeys(workshop_keys):  # each workshop once, in the given order
        workshop = session.scalar(select(Workshop).where(Workshop.key == key))
        if workshop is None:
            raise ValueError(f"taller desconocido «{key}»: use una clave del catálogo de talleres")
        if not workshop.active:
            raise ValueError(f"el taller «{workshop.name}» ya no se ofrece")
        upcoming_rows = select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.cancelled.is_(False),
            WorkshopSession.starts_at > now, open_to(company.region)).order_by(WorkshopSession.starts_at,
                                                                                WorkshopSession.id)
        row = session.scalar(upcoming_rows.join(
            WorkshopRegistration, WorkshopRegistration.session_id == WorkshopSession.id).where(
            WorkshopRegistration.company_id == company.id).limit(1))
        if row is None:
            for candidate in session.scalars(upcoming_rows.limit(50)).all():
                candidate = session.scalar(locking(select(WorkshopSession).where(WorkshopSession.id == candidate.id),
                                                   dialect))
                if _seats_taken(session, candidate.id) < candidate.capacity:
                    session.add(WorkshopRegistration(session_id=candidate.id, company_id=company.id,
                                                     registered_at=now, registered_by=by, attended=False))
                    session.flush()
                    row = candidate
                    break
        if row is None:
            missing.append(key)
            continue
        starts_at = as_utc(row.starts_at)
        enrolled.append({"taller": key, "nombre": workshop.name, "sesion_id": row.id,
                         "fecha": starts_at.isoformat(), "lugar": row.place, "en_linea": bool(row.online)})
    last = max((item["fecha"] for item in enrolled), default=None)
    return {"inscripciones": enrolled, "sin_sesion": missing, "ultima_sesion": last,
            "resumen": "; ".join(f"{item['nombre']} ({_local(item['fecha'])}, {item['lugar']})" for item in enrolled)}


def _local(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(LOCAL_TZ).strftime("%d-%m-%Y %H:%M")
