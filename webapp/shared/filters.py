"""Template filters: dates in Chilean format, segment labels."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

SEGMENTS = {"rojo": _l("Rojo"), "amarillo": _l("Amarillo"), "verde": _l("Verde"), "rojo_oscuro": _l("Rojo oscuro")}
RESULTS = {"exportadora": _l("Exportadora"), "derivada": _l("Derivada"), "desercion": _l("Deserción"),
           "abandono": _l("Abandono")}
DIMENSIONS = {"gestion": _l("Gestión"), "mercado": _l("Mercado"), "comercio_exterior": _l("Comercio exterior"),
              "capacidad_productiva": _l("Capacidad productiva"), "calidad": _l("Calidad"),
              "innovacion": _l("Innovación"), "finanzas": _l("Finanzas"), "promocion": _l("Promoción")}
STATUSES = {"active": _l("Activo"), "completed": _l("Terminado"), "error": _l("Con error"),
            "cancelled": _l("Cancelado")}


def init_app(app):
    @app.template_filter("fecha")
    def fecha(value):
        if value is None:
            return "—"
        if isinstance(value, str):
            try:  # "AAAA-MM-DD" (a form's date) is a day; anything longer a moment
                value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
            except ValueError:
                return value
        if not isinstance(value, datetime):
            return format_date(value, "dd-MM-yyyy")
        return format_datetime(value, "dd-MM-yyyy HH:mm")

    @app.template_filter("segmento")
    def segmento(value):
        if not value:
            return Markup('<span class="badge">—</span>')
        label = SEGMENTS.get(value, value)
        return Markup('<span class="badge seg-{}">{}</span>').format(value, label)

    @app.template_filter("resultado")
    def resultado(value):
        return RESULTS.get(value, value) if value else "—"

    @app.template_filter("dimension")
    def dimension(value):
        return DIMENSIONS.get(value, str(value).replace("_", " ").capitalize())

    @app.template_filter("estado")
    def estado(value):
        return STATUSES.get(value, value)
