"""The outbox (engine.programme.outbox): every message the programme wrote, its delivery state
(pending, sent, failed, no address) and its text, for analysts (/correo/). In development, with
no CPE_SMTP_URL, nothing is sent and this is where the mail is read (portal links included); with
SMTP configured, a working portal link is masked on the page. The list, each message opened and
each retry leave an audit row."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.basics.errors import Conflict, NotFound
from engine.domain import roles
from engine.programme import outbox
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure
from webapp.shared.guards import require

bp = Blueprint("correo", __name__, url_prefix="/correo")
PER_PAGE = 100
STATUS_LABELS = {"pending": _l("Pendiente"), "sent": _l("Enviado"), "failed": _l("Fallido"),
                 "sin_direccion": _l("Sin dirección")}
assert set(STATUS_LABELS) == set(outbox.STATUSES)


@bp.get("/")
@require(roles.SEE_OUTBOX)
def index():
    errors: dict[str, str] = {}
    status = request.args.get("estado") or None
    if status is not None and status not in STATUS_LABELS:
        errors["estado"] = _("Estado desconocido: se muestran todos los mensajes.")
        status = None
    page = max(1, min(request.args.get("pagina", 1, type=int), 10_000))
    rows = outbox.messages(current_engine(), status=status, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    args = {"estado": status} if status else {}
    record_access("view", "outbox", None, {"pagina": "correo", "estado": status or "todos", "pagina_n": page})
    return render_template("outbox/index.html", rows=rows[:PER_PAGE], more=len(rows) > PER_PAGE, page=page,
                           status=status, counts=outbox.counts(current_engine()), labels=STATUS_LABELS,
                           errors=errors, args=args, mail_sent=current_app.config["MAIL_SENT"]), \
        (400 if errors else 200)


@bp.get("/<int:message_id>")
@require(roles.SEE_OUTBOX)
def detail(message_id: int):
    # with SMTP configured a working portal link goes only to the company's mailbox, never on a page
    message = outbox.message(current_engine(), message_id, hide_links=current_app.config["MAIL_SENT"])
    if message is None:
        abort(404)
    record_access("view", "outbox", message_id, {"pagina": "correo", **({"caso": message["case_id"]}
                                                                         if message["case_id"] else {})})
    return render_template("outbox/detail.html", message=message, labels=STATUS_LABELS,
                           mail_sent=current_app.config["MAIL_SENT"])


@bp.post("/<int:message_id>/reintentar")
@require(roles.SEE_OUTBOX)
def retry(message_id: int):
    """A failed message goes back to pending with its attempts from zero (after fixing the cause)."""
    back = url_for(".detail", message_id=message_id)
    try:
        with back_on_failure(back, Conflict):
            outbox.retry(current_engine(), message_id, by=current_user.username)
    except NotFound:
        abort(404)
    record_access("view", "outbox", message_id, {"pagina": "correo", "accion": "reintentar"})
    flash(_("El mensaje volverá a enviarse en la próxima ronda de cpe worker."), "success")
    return redirect(back)
