"""The analysts' page that lists the audit of access to companies' personal data (/auditoria/, issue 8);
the rows are written by webapp/shared/access_record.py and engine/programme/audit.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from engine.domain import roles
from engine.programme import audit
from webapp.shared.access_record import ACTIONS, SUBJECTS
from webapp.shared.context import current_engine
from webapp.shared.guards import require

bp = Blueprint("audit", __name__, url_prefix="/auditoria")
PER_PAGE = 100
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
    rows = audit.recent(current_engine(), actor=actor, subject=subject, subject_id=subject_id,
                        since=since and _start_of(since), before=until and _start_of(until + timedelta(days=1)),
                        limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    people = audit.people(current_engine())
    args = {k: v for k, v in request.args.items() if k != "pagina" and v}
    return render_template("audit/index.html", rows=rows[:PER_PAGE], more=len(rows) > PER_PAGE, page=page,
                           people=people, subjects=SUBJECTS, actions=ACTIONS, errors=errors, args=args), \
        (400 if errors else 200)
