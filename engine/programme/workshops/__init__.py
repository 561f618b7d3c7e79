"""Workshops (talleres; SPEC §6, thesis §3.1.2, manual §4.1): the catalogue, sessions in a
region (or national), registration online by the company or by an executive, attendance
taken on the day, and the consolidated attendance export with RUT and razón social.

This package gives every public name of the workshops from one place; they live in `catalogue`
(the catalogue file and table), `sessions` (scheduling, listing and cancelling sessions),
`registrations` (registrations, enrolment from a process, attendance and a company's workshops) and `attendance_export`
(the consolidated export).

Plain functions over the engine's transactions and clock (no Flask). Times come in and go
out as aware datetimes in UTC; a naive datetime, and a whole day in the export filters,
are read in the programme's time zone (`LOCAL_TZ`).

A session is *open to* a region when it is that region's, national (no region) or online.
Registrations for the last seat are serialized: on PostgreSQL the session row is locked
(`FOR UPDATE`), on SQLite every write transaction of the engine starts with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from engine.programme.workshops.attendance_export import EXPORT_COLUMNS, attendance_rows
from engine.programme.workshops.catalogue import CATALOGUE, STAGES, catalogue, load_catalogue, seed_catalogue
from engine.programme.workshops.registrations import (
    MAX_RAZON_SOCIAL,
    PORTAL_ACTOR,
    attendance_sheet,
    attended_workshops,
    company_workshops,
    enrol_next_sessions,
    find_company,
    mark_attendance,
    register,
    register_rut,
    sessions_for_company,
    unregister,
)
from engine.programme.workshops.sessions import (
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
    "enrol_next_sessions", "mark_attendance", "attendance_sheet", "company_workshops", "sessions_for_company",
    "attended_workshops",
    "attendance_rows",
]
