"""Server-side forms from JSON Schema: field descriptors for the templates, and the
posted form turned back into typed JSON for the engine (which validates it).

Names of nested fields are dotted paths (`respuestas.idiomas`, `exportacion.monto_usd`),
the same paths the engine uses for its error messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LONG_TEXT = 300
LONG_NAMES = ("brechas", "observaciones", "comentario", "detalle", "nota", "acciones")


@dataclass
class Field:
    name: str  # dotted path
    label: str
    widget: str  # text, textarea, number, date, email, rut, checkbox, radio, select, checkboxes, lines, group
    required: bool = False
    help: str = ""
    value: object = None
    error: str | None = None
    options: list = field(default_factory=list)  # [(value, label)]
    attrs: dict = field(default_factory=dict)
    children: list = field(default_factory=list)
    dimension: str | None = None

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _options(schema: dict) -> list:
    if "oneOf" in schema and all("const" in o for o in schema["oneOf"]):
        return [(o["const"], o.get("title", str(o["const"]))) for o in schema["oneOf"]]
    if "enum" in schema:
        return [(v, str(v)) for v in schema["enum"]]
    return []


def _widget(name: str, schema: dict) -> tuple[str, dict]:
    kind = schema.get("type")
    options = _options(schema)
    if kind == "object":
        return "group", {}
    if kind == "array":
        items = schema.get("items", {})
        return ("checkboxes", {}) if _options(items) else ("lines", {})
    if options:
        return ("radio" if len(options) <= 5 else "select"), {}
    if kind == "boolean":
        return "checkbox", {}
    if kind in ("number", "integer"):
        attrs = {"step": "1" if kind == "integer" else "any"}
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in schema:
                attrs[attr] = schema[key]
        return "number", attrs
    fmt = schema.get("format")
    if fmt in ("date", "email"):
        return fmt, {}
    if fmt == "rut":
        return "rut", {"placeholder": "12.345.678-9"}
    attrs = {"maxlength": schema["maxLength"]} if "maxLength" in schema else {}
    if "pattern" in schema:
        attrs["pattern"] = schema["pattern"]
    long = schema.get("maxLength", 10**6) > LONG_TEXT and name.split(".")[-1].startswith(LONG_NAMES)
    return ("textarea" if long else "text"), attrs


def fields(schema: dict, values: dict | None = None, errors: dict | None = None, prefix: str = "") -> list[Field]:
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    result = []
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        widget, attrs = _widget(path, prop)
        item = Field(name=path, label=prop.get("title", name), widget=widget, required=name in required,
                     help=prop.get("description", ""), value=values.get(name), error=errors.get(path),
                     attrs=attrs, dimension=prop.get("x-dimension"))
        if widget == "group":
            item.children = fields(prop, values.get(name) or {}, errors, prefix=f"{path}.")
        elif widget == "checkboxes":
            item.options = _options(prop.get("items", {}))
        else:
            item.options = _options(prop)
        result.append(item)
    return result


def _convert(schema: dict, raw: str):
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw  # the engine reports "Debe ser un número entero."
    if kind == "number":
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return raw
        if not math.isfinite(number):  # "nan", "inf", "1e400": not a number a form may take
            return raw  # the engine reports "Debe ser un número."
        return int(number) if number.is_integer() and "." not in raw and "," not in raw else number
    return raw


def refused_errors(exc) -> dict:
    """A ValueRefused (engine.basics.case_values) as the form's errors: its message under the field it names
    (the first part of its path), so the page shows it where the value was typed and in the list."""
    field = exc.path.split("[", 1)[0]
    return {field: str(exc)}


def parse(schema: dict, form, prefix: str = "") -> dict:
    """The posted form (a MultiDict) as JSON shaped by the schema; empty optional fields are left out."""
    data = {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        kind = prop.get("type")
        if kind == "object":
            nested = parse(prop, form, prefix=f"{path}.")
            if nested or name in required:  # so each missing answer gets its own message
                data[name] = nested
        elif kind == "array":
            if _options(prop.get("items", {})):
                chosen = [v for v in form.getlist(path) if v]
            else:
                chosen = [line.strip() for line in form.get(path, "").splitlines() if line.strip()]
            if chosen:
                data[name] = chosen
        elif kind == "boolean":
            raw = form.get(path)
            if raw is not None:
                data[name] = raw in ("1", "true", "on", "si", "sí")
            elif path + "__present" in form:
                data[name] = False
        else:
            raw = form.get(path, "").strip()
            if raw != "":
                data[name] = _convert(prop, raw)
    return data
