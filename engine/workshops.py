"""Workshops (talleres; SPEC §6, thesis §3.1.2, manual §4.1): the catalogue, sessions in a
region (or national), registration online by the company or by an executive, attendance
taken on the day, and the consolidated attendance export with RUT and razón social.

This module holds the export and gives every public name of the workshops from one place;
the rest lives in `workshop_catalogue` (the catalogue file and table), `workshop_sessions`
(scheduling, listing and cancelling sessions) and `workshop_registrations` (registrations,
attendance and a company's workshops).

Plain functions over the engine's transactions and clock (no Flask). Times come in and go
out as aware datetimes in UTC; a naive datetime, and a whole day in the export filters,
are read in the programme's time zone (`LOCAL_TZ`).

A session is *open to* a region when it is that region's, national (no region) or online.
Registrations for the last seat are serialized: on PostgreSQL the session row is locked
(`FOR UPDATE`), on SQLite every write transaction of the engine starts with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from engine.basics.clock import as_utc
from engine.domain.regions import is_region
from engine.store.schema import Company, Workshop, WorkshopRegistration, WorkshopSession
from engine.workshop_catalogue import CATALOGUE, STAGES, catalogue, load_catalogue, seed_catalogue
from engine.workshop_registrations import (
    MAX_RAZON_SOCIAL,
    PORTAL_ACTOR,
    attendance_sheet,
    attended_workshops,
    company_workshops,
    find_company,
    mark_attendance,
    register,
    register_rut,
    sessions_for_company,
    unregister,
)
from engine.workshop_sessions import (
    ATTENDANCE_OPENS,
    LOCAL_TZ,
    MAX_CAPACITY,
    MAX_PLACE,
    MIN_CAPACITY,
    REGION_HELP,
    cancel_session,
    create_session,
    get_session,
    is_open_to,
    list_sessions,
    local_day_start,
    open_to,
    upcoming,
)

__all__ = [
    "CATALOGUE", "STAGES", "MIN_CAPACITY", "MAX_CAPACITY", "MAX_PLACE", "MAX_RAZON_SOCIAL", "ATTENDANCE_OPENS",
    "LOCAL_TZ", "PORTAL_ACTOR", "REGION_HELP", "EXPORT_COLUMNS",
    "load_catalogue", "seed_catalogue", "catalogue",
    "local_day_start", "open_to", "is_open_to", "create_session", "list_sessions", "upcoming", "get_session",
    "cancel_session",
    "find_company", "register", "register_rut", "unregister",
    "mark_attendance", "attendance_sheet", "company_workshops", "sessions_for_company", "attended_workshops",
    "attendance_rows",
]


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
