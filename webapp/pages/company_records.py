"""The programme registry (registro CPE, SPEC §6): the searchable list of companies of the user's
region (every region for analysts), one company's record with its timeline, and the export of the
filtered list as XLSX or CSV. Every record shown and every export is audited."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine.domain import roles
from engine.domain.regions import REGIONS, is_region
from engine.programme import audit, company_records
from webapp.shared import spreadsheets
from webapp.shared.access_record import ACTIONS, record_access
from webapp.shared.context import current_engine
from webapp.shared.filters import RESULTS, SEGMENTS

bp = Blueprint("registro", __name__, url_prefix="/registro")
EXPORT_FORMATS = ("xlsx", "csv")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATES = {"en_programa": _l("En programa"), "egresada": _l("Egresada")}
EVENTS = {"ingreso": _l("Ingreso al programa"), "segmento": _l("Cambio de segmento"),
          "actividad": _l("Actividad SRA"), "taller": _l("Asistió a taller"), "derivacion": _l("Derivación"),
          "exportacion": _l("Exportación"), "egreso": _l("Egreso")}
RECENT_ACCESSES = 20
ARGS = {"q": "q", "region": "region", "rubro": "rubro", "segmento": "segmento", "ejecutivo": "ejecutivo",
        "estado": "estado"}


def _require_access():
    if not roles.may(current_user, roles.SEE_REGISTRY):
        abort(403)
    company_records.scope_region(current_user)  # Forbidden: 403


def _filters() -> tuple[company_records.RegistryFilters, dict, list[str]]:
    """The filters of the query string, checked: unknown values are dropped with a message."""
    args = {key: (request.args.get(name) or "").strip()[:company_records.MAX_SEARCH] for key, name in ARGS.items()}
    errors = []
    if args["region"] and not is_region(args["region"]):
        errors.append(_("La región «%(value)s» no existe (use un código como CL-RM).", value=args["region"]))
        args["region"] = ""
    if args["estado"] and args["estado"] not in STATES:
        errors.append(_("El estado «%(value)s» no existe.", value=args["estado"]))
        args["estado"] = ""
    if args["segmento"] and args["segmento"] not in SEGMENTS:
        errors.append(_("El segmento «%(value)s» no existe.", value=args["segmento"]))
        args["segmento"] = ""
    if not roles.may(current_user, roles.ALL_REGIONS):
        args["region"] = ""  # a regional user sees their region only
    filters = company_records.RegistryFilters(**{k: v or None for k, v in args.items()})
    return filters, {k: v for k, v in args.items() if v}, errors


@bp.get("/")
@login_required
def index():
    _require_access()
    filters, args, errors = _filters()
    page = max(1, min(request.args.get("pagina", 1, type=int), 100_000))
    result = company_records.search(current_engine(), current_user, filters, page=page)
    options = company_records.options(current_engine(), current_user)
    return render_template("registro/index.html", page=result, args=args, errors=errors, options=options,
                           regions=REGIONS, states=STATES), (400 if errors else 200)


@bp.get("/<int:company_id>")
@login_required
def detail(company_id):
    _require_access()
    record = company_records.company_record(current_engine(), current_user, company_id)  # NotFound: 404
    record_access("view", "company", company_id, {"pagina": "registro"})
    accesses = []
    if roles.may(current_user, roles.SEE_AUDIT):
        accesses = audit.recent(current_engine(), subject="company", subject_id=company_id, limit=RECENT_ACCESSES)
    return render_template("registro/detail.html", c=record, regions=REGIONS, states=STATES, events=EVENTS,
                           accesses=accesses, actions=ACTIONS)


@bp.get("/exportar.<fmt>")
@login_required
def export(fmt):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    _require_access()
    filters, args, errors = _filters()
    if errors:
        return Response("\n".join(errors), status=400, mimetype="text/plain")
    rows = company_records.export_rows(current_engine(), current_user, filters)
    scope = company_records.scope_region(current_user) or filters.region or "todas"
    name = f"registro-cpe-{scope}-{current_engine().now().date().isoformat()}.{fmt}"
    record_access("export", "registry", None, {"archivo": name, "filas": len(rows), "filtros": args})
    body, mimetype = (to_csv(rows), "text/csv; charset=utf-8") if fmt == "csv" else (to_xlsx(rows), XLSX_MIME)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# -- the export file (also used by `cpe export registro`) --------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "America/Santiago")


def table(rows: list[dict]) -> list[list]:
    """Header and one row per company: RUT, razón social, region, rubro, segment, executive,
    entry and exit dates (local days) and exit reason."""
    zone = _zone()

    def day(moment):
        return moment.astimezone(zone).date() if moment else None

    header = [_("RUT"), _("Razón social"), _("Región"), _("Rubro"), _("Segmento"), _("Ejecutivo"),
              _("Fecha de ingreso"), _("Estado"), _("Fecha de egreso"), _("Motivo de egreso")]
    body = [[r["rut"], r["razon_social"], REGIONS.get(r["region"], r["region"] or ""), r["rubro"] or "",
             str(SEGMENTS.get(r["segmento"], r["segmento"] or "")), r["ejecutivo"] or "", day(r["ingreso"]),
             str(STATES.get(r["estado"], _("Sin ingreso"))), day(r["egreso"]),
             str(RESULTS.get(r["motivo_egreso"], r["motivo_egreso"] or ""))] for r in rows]
    return [header, *body]


def to_csv(rows: list[dict]) -> str:
    return spreadsheets.csv(table(rows), {date: lambda day: day.isoformat()})


def to_xlsx(rows: list[dict]) -> bytes:
    return spreadsheets.xlsx(table(rows), _("Registro CPE"), (14, 40, 30, 22, 12, 18, 16, 14, 16, 18),
                             {date: "DD-MM-YYYY"})
