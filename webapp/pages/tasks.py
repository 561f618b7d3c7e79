"""A task's form, rendered on the server from its JSON Schema and completed through the engine."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.basics.errors import Conflict, FormError, ValueRefused
from engine.cases.drafts import load_draft, save_draft
from engine.programme import workshops
from webapp.shared import formrender
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure, field_errors
from webapp.shared.guards import can_work, task_or_404

bp = Blueprint("tasks", __name__)


@bp.route("/tareas/<task_id>", methods=["GET", "POST"])
@login_required
def form(task_id):
    task = task_or_404(task_id)
    if task["state"] != "ready":
        flash(_("La tarea «%(name)s» ya no está disponible: fue completada o cancelada.", name=task["name"]),
              "error")
        return redirect(url_for("inbox.index"))
    if not can_work(task):
        abort(403)
    schema = task["form"] or {"type": "object", "properties": {}}
    values, errors, restored, status, first = {}, {}, None, 200, False
    if request.method == "POST" and request.form.get("accion") == "borrador":
        values = formrender.parse(schema, request.form)  # kept as typed: a draft is not validated
        try:
            with back_on_failure(url_for("inbox.index"), Conflict):
                draft = save_draft(current_engine(), task_id, _draft_owner(), values)
        except ValueError as exc:
            flash(_("No se guardó el borrador: %(reason)s", reason=str(exc)), "error")
            status = 422
        else:
            flash(_("Borrador guardado a las %(time)s. Al volver a abrir la tarea lo encontrará tal como lo dejó.",
                    time=format_datetime(draft["updated_at"], "HH:mm")), "success")
    elif request.method == "POST":
        values = formrender.parse(schema, request.form)
        try:
            with back_on_failure(url_for("inbox.index"), Conflict):
                current_engine().complete(task_id, values, user=current_user.username)
        except (FormError, ValueRefused) as exc:  # ValueRefused: e.g. a 30-digit number
            errors, status = field_errors(exc), 422
        else:
            flash(_("Tarea «%(name)s» completada.", name=task["name"]), "success")
            return redirect(url_for("cases.detail", case_id=task["case_id"]))
    else:
        draft = load_draft(current_engine(), task_id, _draft_owner())
        if draft is not None:
            values, restored = draft["data"], draft["updated_at"]
        first = draft is None  # a form opened for the first time shows its defaults
    case = current_engine().case(task["case_id"])
    record_access("view", "task", task_id, {"pagina": "tarea", "caso": task["case_id"]})
    return render_template("tasks/form.html", task=task, case=case, schema=schema, restored=restored,
                           fields=formrender.fields(schema, values, errors, context=case["data"], defaults=first),
                           errors=errors, sessions=_workshop_sessions(schema, case)), status


def _workshop_sessions(schema: dict, case: dict) -> list | None:
    """The upcoming workshop sessions open to the case's region, when the form lets the executive
    choose workshops of the catalogue (a field with `"x-catalogo": "talleres"`, as the Capacitación
    task's): the company is enrolled in the next session of each workshop chosen."""
    properties = schema.get("properties") or {}
    if not any(isinstance(p, dict) and p.get("x-catalogo") == "talleres" for p in properties.values()):
        return None
    return workshops.upcoming(current_engine(), region=case["region"], limit=50)


def _draft_owner() -> str:
    """Whose draft this is: an executive's own username (the company portal uses "pyme")."""
    return current_user.username
