"""Server-side forms from JSON Schema: field descriptors for the templates, and the
posted form turned back into typed JSON for the engine (which validates it).

Names of nested fields are dotted paths (`respuestas.idiomas`, `exportacion.monto_usd`),
the same paths the engine uses for its error messages.

Besides JSON Schema a form may say how it is shown (what SpiffArena's UI schemas become at deploy,
engine/models/foreign_forms.py): `x-order` (field order of an object, `*` for the rest), `x-widget`
(a control, when it suits the field's type), `x-help` (a note under the control), `x-placeholder`;
a `"readOnly": true` field shows the case's value and is never sent.
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
    widget: str  # text, textarea, number, date, datetime, email, rut, checkbox, radio, select, checkboxes,
    #              lines, group, hidden
    required: bool = False
    help: str = ""
    hint: str = ""  # x-help: a note under the control
    readonly: bool = False
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


_SUITS = {  # x-widget -> the types (or "options": a field with options) it can show
    "text": ("string",), "textarea": ("string",), "date": ("string",), "datetime": ("string",),
    "email": ("string",), "hidden": ("string", "integer", "number", "boolean", "options"), "checkbox": ("boolean",),
    "radio": ("options",), "select": ("options",), "checkboxes": ("array",),
}


def _chosen_widget(name: str, schema: dict) -> tuple[str, dict]:
    """The widget `x-widget` asks for when it suits the field, else the one its type gives."""
    widget, attrs = _widget(name, schema)
    wanted = schema.get("x-widget")
    kind = "options" if _options(schema) else schema.get("type")
    if isinstance(wanted, str) and kind in _SUITS.get(wanted, ()) and widget not in ("group", "lines"):
        widget = wanted
    placeholder = schema.get("x-placeholder")
    if isinstance(placeholder, str) and placeholder and widget not in ("group", "radio", "checkboxes", "checkbox"):
        attrs = dict(attrs, placeholder=placeholder)
    return widget, attrs


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


def ordered(schema: dict) -> list:
    """The (name, schema) of an object's properties in its `x-order` (`*`: the others, in their
    order; names it does not list go at the end)."""
    props = schema.get("properties", {})
    order = schema.get("x-order")
    if not isinstance(order, list):
        return list(props.items())
    listed = [n for n in dict.fromkeys(order) if isinstance(n, str) and n in props]
    rest = [n for n in props if n not in listed]
    names = []
    for item in dict.fromkeys(order):
        if item == "*":
            names.extend(rest)
        elif item in listed:
            names.append(item)
    names.extend(n for n in rest if n not in names)
    return [(n, props[n]) for n in names]


_DEFAULT_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
_JSON_TYPES = {**_DEFAULT_TYPES, "array": list, "object": dict}


def _of_type(value, kind, types=_JSON_TYPES) -> bool:
    """Whether `value` may be shown in a field of JSON Schema type `kind` (a form shows a value of
    another type nowhere: a text in a checkbox list would tick the wrong boxes; True is no number)."""
    expected = types.get(kind)
    if value is None or expected is None:
        return False
    return isinstance(value, expected) and (kind == "boolean" or not isinstance(value, bool))


def _default(prop: dict):
    """The schema's default when it is a scalar of the field's type (a form may carry a default of
    another type: it is then not shown)."""
    value = prop.get("default")
    return value if _of_type(value, prop.get("type"), _DEFAULT_TYPES) else None


def _case_value(case_data: dict, source):
    """The value at `source` (a case variable, or a dotted path into one) in the case's data, or None."""
    value = case_data
    for part in source.split(".") if isinstance(source, str) else ():
        value = value.get(part) if isinstance(value, dict) else None
    return None if value is case_data else value


def fields(schema: dict, values: dict | None = None, errors: dict | None = None, prefix: str = "",
           context: dict | None = None, defaults: bool = False, case_data: dict | None = None) -> list[Field]:
    """The fields of `schema` with `values` (what was typed or drafted) and `errors`; a read-only field
    shows its value in `context` (the case's data); with `defaults`, an empty field shows the value of
    the case variable its `x-default-from` names, else the schema's default (a form opened for the
    first time)."""
    values, errors = values or {}, errors or {}
    context = context if isinstance(context, dict) else {}
    case_data = context if case_data is None else case_data
    required = set(schema.get("required", []))
    result = []
    for name, prop in ordered(schema):
        path = f"{prefix}{name}"
        widget, attrs = _chosen_widget(path, prop)
        readonly = prop.get("readOnly") is True and widget != "group"
        value = context.get(name) if readonly else values.get(name)
        if value is None and defaults and not readonly:
            value = _case_value(case_data, prop.get("x-default-from"))
            if not _of_type(value, prop.get("type")):
                value = _default(prop)
        hint = prop.get("x-help")
        item = Field(name=path, label=prop.get("title", name), widget=widget,
                     required=name in required and not readonly, help=prop.get("description", ""),
                     hint=hint if isinstance(hint, str) else "", readonly=readonly, value=value,
                     error=errors.get(path), attrs=attrs, dimension=prop.get("x-dimension"))
        if widget == "group":
            given = values.get(name) if isinstance(values.get(name), dict) else value
            item.children = fields(prop, given if isinstance(given, dict) else {}, errors, prefix=f"{path}.",
                                   context=context.get(name), defaults=defaults, case_data=case_data)
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
        if prop.get("readOnly") is True:
            continue  # shown with the case's value, never sent
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
            if raw == "":
                continue  # a hidden field with no value
            if raw is not None:
                data[name] = raw in ("1", "true", "True", "on", "si", "sí")
            elif path + "__present" in form:
                data[name] = False
        else:
            raw = form.get(path, "").strip()
            if raw != "":
                data[name] = _convert(prop, raw)
    return data
