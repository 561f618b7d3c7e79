"""Talleres: sessions of the workshop catalogue, registrations, attendance taken on a tablet and
the consolidated attendance export (SPEC §6, manual §4.1).

Who may do what (checked here, on every request):
- everyone logged in sees the sessions open to their region (analysts: all) and exports the
  attendance of their region (analysts: any region);
- executives CPE, regional heads and analysts create sessions, regional users only in their
  region; they manage the sessions of their region (analysts: all): registrations, attendance,
  cancelling;
- they may also register the companies of their region in national and online sessions.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine.basics.errors import Conflict, FormError, NotFound
from engine.domain import roles
from engine.domain.regions import REGIONS, SHORT_NAMES, is_region
from engine.programme import workshops
from webapp.shared import spreadsheets
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure

bp = Blueprint("workshops", __name__, url_prefix="/talleres")

RECENT_DAYS = 30
EXPORT_FORMATS = ("xlsx", "csv")
STAGE_LABELS = {"introduccion": _l("Etapa de introducción"), "intermedia": _l("Etapa intermedia"),
                "profundizacion": _l("Etapa de profundización")}
STATE_LABELS = {"open": _l("Con cupos"), "full": _l("Completa"), "held": _l("Realizada"),
                "cancelled": _l("Cancelada")}
STATUS_LABELS = {"registered": _l("Inscrita"), "attended": _l("Asistió"), "absent": _l("No asistió"),
                 "pending": _l("Asistencia por confirmar"), "cancelled": _l("Sesión cancelada")}


# -- permissions ------------------------------------------------------------------------

def may_create() -> bool:
    return roles.may(current_user, roles.MANAGE_WORKSHOPS)


def may_manage(session: dict) -> bool:
    """Registrations of every company, attendance and cancelling: the session's region (analysts: all)."""
    if not roles.may(current_user, roles.MANAGE_WORKSHOPS):
        return False
    return current_user.region is None or current_user.region == session["region"]


def may_see(session: dict) -> bool:
    return current_user.region is None or workshops.is_open_to(session, current_user.region)


def may_register_for(session: dict, company_region: str | None) -> bool:
    """Whether the user may register (or unregister) a company of `company_region` in `session`."""
    if may_manage(session):
        return True
    return (roles.may(current_user, roles.MANAGE_WORKSHOPS) and current_user.region is not None
            and workshops.is_open_to(session, current_user.region) and company_region == current_user.region)


def _session_or_404(session_id: int) -> dict:
    session = workshops.get_session(current_engine(), session_id)  # NotFound: 404
    if not may_see(session):
        abort(403)
    return session


# -- template helpers -------------------------------------------------------------------

@bp.app_template_filter("region_nombre")
def region_name(code):
    return REGIONS.get(code, code) if code else _("Nacional")


@bp.app_template_filter("region_corta")
def region_short(code):
    """The region's everyday name (Metropolitana, Biobío…), for tables and tags."""
    return SHORT_NAMES.get(code, code) if code else _("Nacional")


@bp.app_template_filter("taller_fecha")
def session_date(moment):
    """A session's start in the reader's language and the programme's time zone."""
    return _("%(date)s, %(time)s h", date=format_date(moment, "full"), time=format_time(moment, "HH:mm"))


@bp.app_context_processor
def labels():
    return {"workshop_stages": STAGE_LABELS, "workshop_states": STATE_LABELS, "workshop_statuses": STATUS_LABELS}


def _local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("La fecha «%(value)s» no es válida (use AAAA-MM-DD).", value=value[:20])) from None


# -- pages ------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    region = current_user.region
    if region is None:
        region = request.args.get("region") or None
        region = region if is_region(region) else None
    now = current_engine().now()
    upcoming = workshops.upcoming(current_engine(), region, include_cancelled=True)
    recent = workshops.list_sessions(current_engine(), region, start=now - timedelta(days=RECENT_DAYS), end=now,
                                     newest_first=True)
    return render_template("workshops/index.html", upcoming=upcoming, recent=recent, region=region,
                           regions=REGIONS, catalogue=workshops.catalogue(current_engine()), may_create=may_create(),
                           may_manage=may_manage)


@bp.route("/nueva", methods=["GET", "POST"])
@login_required
def create():
    if not may_create():
        abort(403)
    values = {"region": current_user.region or "", "cupo": "25", "hora": "10:00"}
    errors = {}
    if request.method == "POST":
        form = request.form
        values = {name: form.get(name, "").strip()[:300] for name in ("taller", "fecha", "hora", "region", "lugar",
                                                                      "cupo")}
        values["en_linea"] = form.get("en_linea") == "1"
        region = values["region"] or None
        if current_user.region is not None and region != current_user.region:
            abort(403)  # a regional user schedules sessions of their own region only
        starts_at = None
        try:
            day = date.fromisoformat(values["fecha"])
        except ValueError:
            errors["fecha"] = _("Indique la fecha de la sesión (AAAA-MM-DD).")
        else:
            try:
                hour = datetime.strptime(values["hora"], "%H:%M").time()
            except ValueError:
                errors["hora"] = _("Indique la hora de inicio (HH:MM).")
            else:
                starts_at = datetime.combine(day, hour, tzinfo=_local_zone())
        try:
            capacity = int(values["cupo"])
        except ValueError:
            capacity = None
        try:
            session = workshops.create_session(current_engine(), values["taller"], starts_at, values["lugar"], capacity,
                                               region=region, online=values["en_linea"],
                                               created_by=current_user.username)
        except FormError as exc:
            errors = {**exc.errors, **errors}
            if "hora" in errors and errors.get("fecha") == "Indique la fecha y la hora de la sesión.":
                del errors["fecha"]
        if not errors:
            flash(_("Sesión programada. Las empresas de la región ya pueden inscribirse desde el portal."), "success")
            return redirect(url_for(".detail", session_id=session["id"]))
        flash(_("Revise los campos marcados."), "error")
    return render_template("workshops/new.html", values=values, errors=errors, regions=REGIONS,
                           catalogue=workshops.catalogue(current_engine())), (422 if errors else 200)


@bp.get("/<int:session_id>")
@login_required
def detail(session_id):
    session = _session_or_404(session_id)
    sheet = workshops.attendance_sheet(current_engine(), session_id)
    manage = may_manage(session)
    rows = sheet["rows"] if manage else [r for r in sheet["rows"] if r["region"] == current_user.region]
    open_for_registration = not session["cancelled"] and not session["started"]
    can_register = open_for_registration and (manage or may_register_for(session, current_user.region))
    return render_template("workshops/detail.html", session=sheet["session"], rows=rows, manage=manage,
                           can_register=can_register, hidden=len(sheet["rows"]) - len(rows),
                           may_unregister=lambda row: open_for_registration and may_register_for(session,
                                                                                                 row["region"]))


@bp.post("/<int:session_id>/inscribir")
@login_required
def register(session_id):
    session = _session_or_404(session_id)
    if not roles.may(current_user, roles.MANAGE_WORKSHOPS):
        abort(403)
    walk_in = request.form.get("llegada") == "1"
    back = url_for(".attendance", session_id=session_id) if walk_in else url_for(".detail", session_id=session_id)
    rut, razon_social = request.form.get("rut", "")[:20], request.form.get("razon_social", "")[:300]
    try:
        company = workshops.find_company(current_engine(), rut)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(back)
    # a company not yet registered takes the session's region (in a national session, the user's)
    region = company["region"] if company else (session["region"] or current_user.region)
    if not may_register_for(session, region) or (walk_in and not may_manage(session)):
        abort(403)
    with back_on_failure(back, ValueError, Conflict, NotFound):
        added = workshops.register_rut(current_engine(), session_id, rut, current_user.username,
                                       razon_social=razon_social, region=region, walk_in=walk_in)
    if walk_in:
        flash(_("%(name)s quedó registrada como presente.", name=added["razon_social"]), "success")
    else:
        flash(_("%(name)s quedó inscrita en la sesión.", name=added["razon_social"]), "success")
    return redirect(back)


@bp.post("/<int:session_id>/inscripciones/<int:company_id>/anular")
@login_required
def unregister(session_id, company_id):
    session = _session_or_404(session_id)
    row = next((r for r in workshops.attendance_sheet(current_engine(), session_id)["rows"]
                if r["company_id"] == company_id), None)
    if row is None:
        abort(404)
    if not may_register_for(session, row["region"]):
        abort(403)
    with back_on_failure(url_for(".detail", session_id=session_id), Conflict, NotFound):
        workshops.unregister(current_engine(), session_id, company_id)
    flash(_("Se anuló la inscripción de %(name)s.", name=row["razon_social"]), "success")
    return redirect(url_for(".detail", session_id=session_id))


@bp.post("/<int:session_id>/cancelar")
@login_required
def cancel(session_id):
    session = _session_or_404(session_id)
    if not may_manage(session):
        abort(403)
    with back_on_failure(url_for(".detail", session_id=session_id), Conflict):
        workshops.cancel_session(current_engine(), session_id, current_user.username)
    flash(_("Sesión cancelada. Avisamos por correo a las empresas inscritas."), "success")
    return redirect(url_for(".detail", session_id=session_id))


@bp.route("/<int:session_id>/asistencia", methods=["GET", "POST"])
@login_required
def attendance(session_id):
    """The page an executive carries on a tablet: one big checkbox per registered company."""
    session = _session_or_404(session_id)
    if not may_manage(session):
        abort(403)
    if request.method == "POST":
        back = url_for(".attendance", session_id=session_id)
        with back_on_failure(back, ValueError, Conflict):
            result = workshops.mark_attendance(current_engine(), session_id, request.form.getlist("presente"),
                                               current_user.username)
        flash(_("Asistencia guardada: %(present)s de %(total)s empresas presentes.", present=result["present"],
                total=result["registered"]), "success")
        return redirect(back)
    sheet = workshops.attendance_sheet(current_engine(), session_id)
    return render_template("workshops/attendance.html", session=sheet["session"], rows=sheet["rows"],
                           taken=any(r["attended"] is not None for r in sheet["rows"]))


# -- the consolidated export ------------------------------------------------------------

@bp.get("/asistencia.<fmt>")
@login_required
def export(fmt):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    region = current_user.region  # a regional user exports their region only
    if region is None:
        region = request.args.get("region") or None
    try:
        date_from, date_to = _day(request.args.get("desde")), _day(request.args.get("hasta"))
        session_id = request.args.get("sesion", type=int)
        rows = workshops.attendance_rows(current_engine(), region=region, date_from=date_from, date_to=date_to,
                                         session_id=session_id)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    parts = ("asistencia-talleres", region or "todas", session_id and f"sesion-{session_id}",
             date_from and date_from.isoformat(), date_to and date_to.isoformat())
    name = "-".join(part for part in parts if part)
    table = _table(rows)
    record_access("export", "attendance", session_id, {"archivo": f"{name}.{fmt}", "filas": len(rows)})
    if fmt == "csv":
        body = spreadsheets.csv(table, {datetime: lambda moment: moment.strftime("%Y-%m-%d %H:%M")})
        mimetype = "text/csv; charset=utf-8"
    else:
        body = _xlsx(table)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})


def _table(rows: list[dict]) -> list[list]:
    """Header and rows of the export: dates in local time, attendance as Sí / No / blank."""
    zone = _local_zone()
    answers = {True: _("Sí"), False: _("No"), None: ""}
    header = [_("RUT"), _("Razón social"), _("Región"), _("Taller"), _("Fecha"), _("Lugar"), _("Asistió")]
    body = [[r["rut"], r["razon_social"], REGIONS.get(r["region"], r["region"] or ""), r["taller"],
             r["starts_at"].astimezone(zone).replace(tzinfo=None),
             _("En línea: %(place)s", place=r["place"]) if r["online"] else r["place"], answers[r["attended"]]]
            for r in rows]
    return [header, *body]


def _xlsx(table: list[list]) -> bytes:
    return spreadsheets.xlsx(table, _("Asistencia"), (14, 38, 30, 44, 17, 40, 9), {datetime: "DD-MM-YYYY HH:MM"})
