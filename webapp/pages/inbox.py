"""Bandeja: the tasks offered to me (my role and region) and the ones assigned to me."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.basics.errors import Conflict, Forbidden, NotFound
from engine.cases.queries import InboxFilters, inbox
from engine.domain.regions import REGIONS
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure
from webapp.shared.redirects import safe_next

bp = Blueprint("inbox", __name__)
DUE_ARGS = {"vencidas": "overdue", "por_vencer": "soon", "sin_plazo": "none"}
ORDER_ARGS = {"antiguas": "oldest", "recientes": "newest", "plazo": "due"}


def _filters() -> InboxFilters:
    args = request.args
    return InboxFilters(
        process=args.get("proceso") or None, name=args.get("tarea") or None,
        region=(args.get("region") or None) if current_user.region is None else None,
        segmento=args.get("segmento") or None,
        version=args.get("version", type=int) or None,
        due=DUE_ARGS.get(args.get("plazo")),
        scope=args.get("ver") if args.get("ver") in ("mine", "pool") else "all",
        order=ORDER_ARGS.get(args.get("orden"), "oldest"))


@bp.get("/bandeja")
@login_required
def index():
    page = max(1, request.args.get("pagina", 1, type=int))
    result = inbox(current_engine(), current_user.username, _filters(), page=page)
    return render_template("inbox/index.html", page=result, filters=_filters(), regions=REGIONS,
                           args=request.args.to_dict())


@bp.post("/tareas/<task_id>/tomar")
@login_required
def claim(task_id):
    back = safe_next(request.form.get("next")) or url_for(".index")
    _act(lambda: current_engine().claim(task_id, current_user.username),
         _("Tarea tomada: ahora está en «Mis tareas»."), back)
    return redirect(back)


@bp.post("/tareas/<task_id>/liberar")
@login_required
def release(task_id):
    _act(lambda: current_engine().release(task_id, current_user.username),
         _("Tarea liberada: vuelve al pool de la región."), url_for(".index"))
    return redirect(url_for(".index"))


def _act(action, success, back):
    with back_on_failure(back, Conflict, Forbidden, NotFound):
        action()
    flash(success, "success")

