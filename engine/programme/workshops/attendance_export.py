"""The consolidated attendance export of the workshops (manual §4.1): one row per registration in
sessions that were not cancelled, with RUT and razón social."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from engine.basics.clock import as_utc
from engine.domain.regions import is_region
from engine.programme.workshops.sessions import REGION_HELP, local_day_start
from engine.store.schema import Company, Workshop, WorkshopRegistration, WorkshopSession

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
