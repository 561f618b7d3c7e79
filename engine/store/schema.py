"""Database tables.

Everything a list, inbox or dashboard needs lives in plain indexed columns, so that
those pages never deserialize a workflow (the serialized state is only read to act on
one case).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(40), index=True)
    region: Mapped[str | None] = mapped_column(String(10), index=True)
    rubros: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelVersion(Base):
    """One deployed version of a process (BPMN), a decision (DMN) or a form (JSON Schema).

    A process version pins, in `dependencies`, the exact form and decision versions that
    were current when it was deployed, so a running case never changes under its feet.
    """

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("kind", "key", "version", name="uq_model_version"),
        Index("ix_model_versions_kind_key_checksum", "kind", "key", "checksum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # process | decision | form
    key: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300))
    checksum: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    dependencies: Mapped[dict] = mapped_column(JSON, default=dict)
    author: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (
        # The case search matches a substring of either column: no index can seek that, but
        # scanning this small covering index is much cheaper than scanning the table.
        Index("ix_companies_search", "razon_social", "rut"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rut: Mapped[str] = mapped_column(String(20), unique=True)
    razon_social: Mapped[str] = mapped_column(String(200))
    tipo_persona: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(10), index=True)
    comuna: Mapped[str | None] = mapped_column(String(100))
    rubro: Mapped[str | None] = mapped_column(String(60), index=True)
    productos: Mapped[str | None] = mapped_column(Text)
    tipo_oferta: Mapped[str | None] = mapped_column(String(20))
    ventas_uf: Mapped[float | None] = mapped_column(Float)
    empleados: Mapped[int | None] = mapped_column(Integer)
    contacto_nombre: Mapped[str | None] = mapped_column(String(200))
    contacto_email: Mapped[str | None] = mapped_column(String(200))
    contacto_telefono: Mapped[str | None] = mapped_column(String(40))
    liderada_por_mujer: Mapped[bool | None] = mapped_column(Boolean)
    consentimiento_datos: Mapped[bool | None] = mapped_column(Boolean)
    origen: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tpe(Base):
    """The company's single Test de Potencialidad Exportadora (manual §5: one per company)."""

    __tablename__ = "tpe"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), unique=True)
    form_key: Mapped[str] = mapped_column(String(120))
    form_version: Mapped[int] = mapped_column(Integer)
    respuestas: Mapped[dict] = mapped_column(JSON)
    puntaje: Mapped[float] = mapped_column(Float)
    dimensiones: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer, default=1)


class TpeHistory(Base):
    """Every answer or update of a company's TPE: what was answered, when (`submitted_at`, the
    engine's clock) and by whom (`submitted_by`: the user who completed the task, `pyme` for the
    company in its portal; None for rows older than revision 0013)."""

    __tablename__ = "tpe_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    revision: Mapped[int] = mapped_column(Integer)
    form_key: Mapped[str] = mapped_column(String(120))
    form_version: Mapped[int] = mapped_column(Integer)
    respuestas: Mapped[dict] = mapped_column(JSON)
    puntaje: Mapped[float] = mapped_column(Float)
    dimensiones: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(120))


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_next_timer", "status", "next_timer_at"),
        # a region's cases by status; with the columns the dashboard reads after them, its
        # regional aggregates read this index only (engine/programme/indicators.py, engine/programme/dashboard.py)
        Index("ix_cases_region_status", "region", "status", "created_at", "ejecutivo", "rubro", "segmento",
              "resultado", "company_id", "ended_at"),
        # a company's cases, and within a region (the case search of a regional executive); the
        # columns after them cover the dashboard's reads of every region and of companies with
        # several cases
        Index("ix_cases_company_region", "company_id", "region", "created_at", "ejecutivo", "rubro", "segmento",
              "resultado", "status"),
        # the indicators and dashboard aggregate only these columns: an index-only scan instead
        # of a scan of the wide table (engine/programme/indicators.py, engine/programme/dashboard.py)
        Index("ix_cases_indicators", "created_at", "region", "ejecutivo", "rubro", "segmento", "resultado",
              "status", "company_id", "id"),
        # the open cases of each executive, already grouped (the dashboard's load chart, the
        # assignment of an executive in engine/programme/operators.py), with no read of the table
        Index("ix_cases_executive_load", "status", "ejecutivo", "region", "rubro"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(120), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # active | completed | error | cancelled
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    region: Mapped[str | None] = mapped_column(String(10))
    rubro: Mapped[str | None] = mapped_column(String(60))
    segmento: Mapped[str | None] = mapped_column(String(20), index=True)
    resultado: Mapped[str | None] = mapped_column(String(20), index=True)
    puntaje_final: Mapped[float | None] = mapped_column(Float)
    ejecutivo: Mapped[str | None] = mapped_column(String(80), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the messages its workflow waits for, [[name, correlations], …] as `waiting_messages` holds them
    # (NULL: none): a step compares its new waits with these and writes that table only on a change
    message_waits: Mapped[list | None] = mapped_column(JSON)

    # Optimistic locking: a flush that finds another lock_version raises StaleDataError,
    # so two transactions acting on one case cannot both win.
    __mapper_args__ = {"version_id_col": lock_version}


class CaseMessage(Base):
    """A BPMN message a case threw that its own workflow did not catch (engine/cases/messages.py):
    written in the sender's step, then delivered to one other case waiting for it with matching
    correlations, or to a new case of a process whose start event catches it. `status`: pending →
    delivered; a message nobody waits for stays pending until a case waits for it."""

    __tablename__ = "case_messages"
    __table_args__ = (Index("ix_case_messages_pending", "status", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict | list | None] = mapped_column(JSON)
    correlations: Mapped[dict] = mapped_column(JSON, default=dict)
    sender_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    receiver_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WaitingMessage(Base):
    """A message an open case's workflow waits for (a catch event, receive task, boundary event or
    message start event), with the correlations it expects: kept in step with the case by each step
    (engine/cases/steps.py), read to find the receiver of a message by its name."""

    __tablename__ = "waiting_messages"
    __table_args__ = (Index("ix_waiting_messages_name", "message_name", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(300))
    correlations: Mapped[dict] = mapped_column(JSON, default=dict)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseState(Base):
    """A case's serialized workflow (SpiffWorkflow state, ~10 kB of JSON), apart from `cases` so
    that scans of the cases (lists, indicators, dashboard) never read it; the engine reads it only
    to act on one case and writes it with each step (engine/cases/engine.py, engine/cases/steps.py)."""

    __tablename__ = "case_states"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    workflow: Mapped[dict] = mapped_column(JSON)


class TaskRow(Base):
    """The inbox index: one row per human task, kept in step with the workflow."""

    __tablename__ = "tasks"
    __table_args__ = (
        # Covering indexes for the inbox (engine/cases/queries.py), which reads two disjoint sets: the
        # tasks assigned to someone and the pool offered to a role in a region, filtered or sorted
        # by due date, name or case (case_id). `id` is in them because on SQLite an index holds
        # the rowid, not this text key.
        Index("ix_tasks_mine", "assignee", "state", "created_at", "id", "due_at", "name", "case_id"),
        Index("ix_tasks_pool", "state", "assignee", "lane", "region", "created_at", "id", "due_at", "name",
              "case_id"),
        Index("ix_tasks_due", "state", "due_at", "assignee", "lane", "region", "created_at", "id", "name",
              "case_id"),
        # the newest completed tasks of an element (engine/simulate/history.py), index-only
        Index("ix_tasks_history", "bpmn_id", "state", "completed_at", "created_at", "case_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(40))
    form_key: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(10))
    assignee: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))  # ready | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[str | None] = mapped_column(String(80))


class CaseEvent(Base):
    """Append-only history of a case: the audit trail and the source of the analytics."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    bpmn_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(300))
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Derivation(Base):
    __tablename__ = "derivations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    motivo: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(10))
    institucion: Mapped[str] = mapped_column(String(300))
    contacto: Mapped[str] = mapped_column(String(300))
    direccion: Mapped[str] = mapped_column(String(300))
    fecha: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Activity(Base):
    """An activity in the company's SRA record (manual §3.3, §9)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    tipo: Mapped[str] = mapped_column(String(60))
    detalle: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_FAILED, OUTBOX_NO_ADDRESS = "pending", "sent", "failed", "sin_direccion"


def _outbox_status(context) -> str:
    """A new message without an address is never attempted (a documented state, not an error)."""
    return OUTBOX_PENDING if (context.get_current_parameters().get("to_address") or "").strip() \
        else OUTBOX_NO_ADDRESS


def _outbox_due(context):
    """A new pending message is due at once (at its creation, the engine's clock)."""
    parameters = context.get_current_parameters()
    return parameters.get("created_at") if (parameters.get("to_address") or "").strip() else None


class OutboxMessage(Base):
    """A message to send (engine/programme/outbox.py delivers them from `cpe worker`).

    `status`: pending → sent, or failed after the last attempt; sin_direccion when there is no
    address. A worker claims a due pending message (claimed_by, claimed_at; next_attempt_at moves
    to the end of the claim's lease), sends it and marks it sent; a failed attempt sets
    last_error (a short reason in Spanish) and the next attempt after a growing pause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    destinatario: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str | None] = mapped_column(String(300))
    asunto: Mapped[str] = mapped_column(String(300))
    mensaje: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=_outbox_status)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=_outbox_due)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))


class PortalLink(Base):
    """The company's private page is reached through a secret link (SPEC §7). Only the
    token's SHA-256 is stored; a link expires and can be sent again to the company's email."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A personal token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    """A note between executives on a case (append-only, like the history)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskDraft(Base):
    """A half-filled form (long forms such as the TPE), one per task and person."""

    __tablename__ = "task_drafts"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Workshop(Base):
    """A workshop of the training catalogue (thesis §3.1.2; seeded from engine/programme/workshops/talleres.json)."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str | None] = mapped_column(String(20))  # introduccion | intermedia | profundizacion
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkshopSession(Base):
    """One date of a workshop: in a region, or national (region NULL); in person or online."""

    __tablename__ = "workshop_sessions"
    __table_args__ = (Index("ix_workshop_sessions_starts_region", "starts_at", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(10))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(300))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkshopRegistration(Base):
    """A company registered in a session (online by the company, or by an executive) and,
    once the session is held, whether it attended (manual §4.1)."""

    __tablename__ = "workshop_registrations"
    __table_args__ = (UniqueConstraint("session_id", "company_id", name="uq_workshop_registration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("workshop_sessions.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(String(80))  # "pyme" or a username
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    marked_by: Mapped[str | None] = mapped_column(String(80))
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One login attempt, kept for a day: the lockout per username and per client address
    (engine/accounts/logins.py) counts the recent failures here, so every web process sees them."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class SegmentChange(Base):
    """The company's state (segment) over time: one row each time a case's `segmento` changes
    (written by the engine after every step), so the registry shows the path and the
    indicators count who moved up a segment without reading case data."""

    __tablename__ = "segment_changes"
    __table_args__ = (Index("ix_segment_changes_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    desde: Mapped[str | None] = mapped_column(String(20))
    hacia: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CompanyExport(Base):
    """An export the company reported (country, date, amount, product), registered by the
    process itself (operator `registrar_exportacion`)."""

    __tablename__ = "company_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    pais: Mapped[str] = mapped_column(String(80))
    fecha: Mapped[str] = mapped_column(String(10))  # ISO date, as the form gives it
    monto_usd: Mapped[float] = mapped_column(Float)
    producto: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class BenefitExtract(Base):
    """A benefit extract (e.g. the Correos de Chile discount list, manual §8) produced by a
    process for one region and period; the rows are kept as produced, so a download later
    gives exactly what the process extracted."""

    __tablename__ = "benefit_extracts"
    __table_args__ = (UniqueConstraint("beneficio", "periodo", "region", name="uq_benefit_extract"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficio: Mapped[str] = mapped_column(String(40))
    periodo: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    region: Mapped[str] = mapped_column(String(10), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    filas: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataAccess(Base):
    """Who viewed or exported personal data, and when (audit; engine/programme/audit.py)."""

    __tablename__ = "data_access_log"
    __table_args__ = (Index("ix_data_access_subject", "subject", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(20))  # view | export | download
    subject: Mapped[str] = mapped_column(String(40))  # company | registry | benefit_extract | attendance | ...
    subject_id: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class TimerStart(Base):
    """A deployed process whose start event is a timer (engine/cases/scheduler.py): when it next
    starts a case. The worker locks this row to start each occurrence exactly once."""

    __tablename__ = "timer_starts"
    __table_args__ = (UniqueConstraint("process_key", "bpmn_id", name="uq_timer_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(120))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    kind: Mapped[str] = mapped_column(String(10))  # date | duration | cycle
    expression: Mapped[str] = mapped_column(String(300))  # the evaluated ISO 8601 value
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    remaining: Mapped[int | None] = mapped_column(Integer)  # occurrences left (None: unbounded)
    fired: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_case_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TimerStartRun(Base):
    """One occurrence of a timer start and the case it started (unique: never two cases for
    the same occurrence, whatever the number of workers)."""

    __tablename__ = "timer_start_runs"
    __table_args__ = (UniqueConstraint("timer_start_id", "occurrence", name="uq_timer_start_run"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    timer_start_id: Mapped[int] = mapped_column(ForeignKey("timer_starts.id"))
    occurrence: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
