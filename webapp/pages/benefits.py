"""Beneficios: the monthly lists of companies entitled to a partner's benefit (manual §8, the
Correos de Chile discount), as the process `correos_mensual` extracted them, by period and region.

Who may do what (checked on every request):
- regional heads see and download their region's lists;
- analysts see every region and download each list or a period's consolidated file (what is
  sent to Correos de Chile);
- executives and companies have no access (the lists hold personal data of contacts).
Every download is recorded in the personal-data audit and shown next to the list.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.cases import scheduler
from engine.domain import roles
from engine.domain.regions import REGIONS, is_region
from engine.programme import benefits
from webapp.shared import spreadsheets
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.guards import require

bp = Blueprint("beneficios", __name__, url_prefix="/beneficios")

FORMATS = ("xlsx", "csv")
PROCESS = "correos_mensual"
PERSON_KINDS = {"juridica": _l("Jurídica"), "natural": _l("Natural")}
BENEFIT_NAMES = {"correos_chile": _l("Correos de Chile")}


@bp.get("/")
@require(roles.SEE_BENEFITS)
def index():
    region = roles.region_scope(current_user)
    if region is None:
        chosen = request.args.get("region") or None
        region = chosen if is_region(chosen) else None
    periods = benefits.listing(current_engine(), region=region)
    schedule = next((t for t in scheduler.listing(current_engine()) if t["process_id"] == PROCESS), None)
    return render_template("benefits/index.html", periods=periods, region=region, regions=REGIONS,
                           schedule=schedule, consolidated=roles.may(current_user, roles.ALL_REGIONS),
                           benefit_names=BENEFIT_NAMES)


@bp.get("/<int:extract_id>.<fmt>")
@require(roles.SEE_BENEFITS)
def download(extract_id, fmt):
    if fmt not in FORMATS:
        abort(404)
    item = benefits.get(current_engine(), extract_id)
    if item is None:
        abort(404)
    region = roles.region_scope(current_user)
    if region is not None and item["region"] != region:
        abort(403)
    name = f"{item['beneficio']}-{item['periodo']}-{item['region']}.{fmt}"
    record_access("download", "benefit_extract", extract_id,
                  {"formato": fmt, "archivo": name, "filas": len(item["filas"]), "periodo": item["periodo"],
                   "region": item["region"]})
    return _file(item["filas"], fmt, name, item["periodo"])


@bp.get("/<beneficio>/<periodo>/consolidado.<fmt>")
@require(roles.SEE_BENEFITS)
def consolidated(beneficio, periodo, fmt):
    """Every region's list of one period in one file (analysts: the file sent to the partner)."""
    if not roles.may(current_user, roles.ALL_REGIONS):
        abort(403)
    if fmt not in FORMATS or beneficio not in benefits.BENEFITS:
        abort(404)
    items = [e for p in benefits.listing(current_engine(), beneficio=beneficio) if p["periodo"] == periodo
             for e in p["extractos"]]
    if not items:
        abort(404)
    rows = [row for e in items for row in benefits.get(current_engine(), e["id"])["filas"]]
    name = f"{beneficio}-{periodo}-consolidado.{fmt}"
    for e in items:
        record_access("download", "benefit_extract", e["id"],
                      {"formato": fmt, "archivo": name, "filas": e["empresas"], "periodo": periodo,
                       "region": e["region"], "consolidado": True})
    return _file(rows, fmt, name, periodo)


# -- files ----------------------------------------------------------------------------------

def _table(rows: list[dict]) -> list[list]:
    answers = {True: _("Sí"), False: _("No"), None: ""}
    header = [_("RUT"), _("Razón social"), _("Tipo de persona"), _("Región"), _("Comuna"), _("Rubro"),
              _("Contacto"), _("Correo electrónico"), _("Teléfono"), _("Segmento"),
              _("Autoriza traspaso de datos")]
    kind = lambda r: str(PERSON_KINDS.get(r.get("tipo_persona"), r.get("tipo_persona") or ""))  # noqa: E731
    body = [[r.get("rut"), r.get("razon_social"), kind(r),
             REGIONS.get(r.get("region"), r.get("region") or ""), r.get("comuna") or "", r.get("rubro") or "",
             r.get("contacto_nombre") or "", r.get("contacto_email") or "", r.get("contacto_telefono") or "",
             r.get("segmento") or "", answers.get(r.get("consentimiento_datos"), "")] for r in rows]
    return [header, *body]


def _file(rows: list[dict], fmt: str, name: str, periodo: str) -> Response:
    table = _table(rows)
    if fmt == "csv":
        body, mimetype = spreadsheets.csv(table), "text/csv; charset=utf-8"
    else:
        body, mimetype = _xlsx(table, periodo), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _xlsx(table: list[list], periodo: str) -> bytes:
    return spreadsheets.xlsx(table, periodo, (14, 38, 16, 30, 18, 18, 26, 30, 16, 12, 14))


@bp.app_template_filter("periodo_mes")
def period_name(value: str) -> str:
    """'2026-04' as 'abril de 2026' (in the user's language)."""
    from datetime import date

    from flask_babel import format_date

    try:
        year, month = (int(part) for part in value.split("-"))
        return format_date(date(year, month, 1), "MMMM y")
    except (ValueError, AttributeError):
        return value
