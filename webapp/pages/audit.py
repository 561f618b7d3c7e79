"""Audit of access to companies' personal data (issue 8): the rows the pages, the API and the
exports write, and the analysts' page that lists them (/auditoria/)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.domain import roles
from engine.programme import audit
from webapp.shared.guards import engine, require

bp = Blueprint("audit", __name__, url_prefix="/auditoria")
PER_PAGE = 100
SUBJECTS = {"case": _l("Caso"), "task": _l("Tarea"), "attendance": _l("Asistencia a talleres"),
            "backup": _l("Copia de seguridad"), "company": _l("Empresa"), "registry": _l("Registro CPE"),
            "benefit_extract": _l("Extracto de beneficios")}
ACTIONS = {"view": _l("Vio"), "export": _l("Exportó"), "download": _l("Descargó")}


def record_access(action: str, subject: str, subject_id=None, detail: dict | None = None,
                  actor: str | None = None) -> None:
    """One audit row for what the current request shows or exports; `actor` defaults to the
    logged-in person, or the API token's owner. The client address goes in the detail."""
    if actor is None:
        api_user = g.get("api_user") if has_request_context() else None
        actor = api_user.username if api_user is not None else current_user.username
    detail = dict(detail or {})
    if has_request_context():
        detail.setdefault("ip", request.remote_addr)
        detail.setdefault("via", "api" if request.blueprint == "api" else "web")
    eng = engine()
    with eng.transaction() as session:
        audit.record(session, actor=actor, action=action, subject=subject, subject_id=subject_id,
                     detail=detail, now=eng.now())


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _day(name: str, errors: dict) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("La fecha «%(value)s» no es válida (use AAAA-MM-DD).", value=value[:20])
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=_zone())


@bp.get("/")
@require(roles.SEE_AUDIT)
def index():
    errors: dict[str, str] = {}
    actor = (request.args.get("actor") or "").strip()[:80] or None
    subject = request.args.get("objeto") or None
    if subject is not None and subject not in SUBJECTS:
        errors["objeto"] = _("Tipo de dato desconocido.")
        subject = None
    subject_id = (request.args.get("id") or "").strip()[:80] or None
    since, until = _day("desde", errors), _day("hasta", errors)
    page = max(1, min(request.args.get("pagina", 1, type=int), 10_000))
    with engine().Session() as session:
        rows = audit.entries(session, actor=actor, subject=subject, subject_id=subject_id,
                             since=since and _start_of(since),
                             before=until and _start_of(until + timedelta(days=1)),
                             limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
        people = audit.actors(session)
    args = {k: v for k, v in request.args.items() if k != "pagina" and v}
    return render_template("audit/index.html", rows=rows[:PER_PAGE], more=len(rows) > PER_PAGE, page=page,
                           people=people, subjects=SUBJECTS, actions=ACTIONS, errors=errors, args=args), \
        (400 if errors else 200)
