"""What is wrong with a form being edited, in Spanish and pointing at the place: JSON syntax
(line and column), the JSON Schema draft 2020-12 meta-schema (the path of the offending key),
then the project's own form rules (engine.models.forms.load_form)."""

from __future__ import annotations

import json
import re

from flask_babel import gettext as _
from jsonschema import Draft202012Validator

from engine.models.forms import FormStructureError, json_depth_problem, load_form

MAX_PROBLEMS = 10
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)
_JSON_MESSAGES = (
    ("Expecting ',' delimiter", "falta una coma entre dos elementos"),
    ("Expecting ':' delimiter", "faltan los dos puntos (:) después del nombre"),
    ("Expecting property name enclosed in double quotes",
     "se esperaba un nombre entre comillas dobles (¿sobra una coma antes de '}'?)"),
    ("Expecting value", "se esperaba un valor (texto entre comillas, número, true, false, null, {…} o […])"),
    ("Unterminated string", "un texto no tiene comillas de cierre"),
    ("Invalid control character", "hay un salto de línea o tabulación dentro de un texto (use \\n)"),
    ("Invalid \\escape", "secuencia de escape no válida (use \\\\ para una barra invertida)"),
    ("Extra data", "hay contenido después del cierre del formulario"),
)
_TYPES = {"object": "un objeto {…}", "array": "una lista […]", "string": "un texto entre comillas",
          "number": "un número", "integer": "un número entero", "boolean": "true o false"}


def _json_message(msg: str) -> str:
    for prefix, text in _JSON_MESSAGES:
        if msg.startswith(prefix):
            return text
    return msg


def _path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return " › ".join(parts) if parts else _("raíz")


def _schema_message(error) -> str:
    kind, value = error.validator, error.validator_value
    key = error.absolute_path[-1] if error.absolute_path else None
    if kind == "type":
        kinds = value if isinstance(value, list) else [value]
        return _("debe ser %(what)s", what=" o ".join(_TYPES.get(k, k) for k in kinds))
    if key == "type" and kind in ("anyOf", "enum"):
        return _("tipo desconocido %(value)s: use string, number, integer, boolean, object o array",
                 value=json.dumps(error.instance, ensure_ascii=False))
    if kind == "minimum":
        return _("debe ser mayor o igual a %(n)s", n=value)
    if kind == "uniqueItems":
        return _("tiene elementos repetidos")
    if kind == "minItems":
        return _("debe tener al menos %(n)s elemento(s)", n=value)
    if kind == "format" and value == "regex":
        return _("no es una expresión regular válida")
    return error.message


def _locate(text: str, path) -> dict:
    """Line and column of the last key of `path` (found key by key, in order), if it is there."""
    pos, found = 0, None
    for part in path:
        if not isinstance(part, str):
            continue
        match = re.compile(re.escape(json.dumps(part, ensure_ascii=False)) + r"\s*:").search(text, pos)
        if not match:
            break
        pos = found = match.start()
    if found is None:
        return {}
    line = text.count("\n", 0, found) + 1
    return {"line": line, "column": found - (text.rfind("\n", 0, found) + 1) + 1}


def form_problems(text: str) -> tuple[dict | None, list[dict]]:
    """(schema, []) when the form can be deployed and shown; (None, problems) otherwise."""
    if json_depth_problem(text):  # before parsing: Python's json recurses
        return None, [{"text": _("El JSON anida demasiados niveles.")}]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [{"text": _("JSON mal formado en la línea %(line)s, columna %(col)s: %(msg)s",
                                 line=exc.lineno, col=exc.colno, msg=_json_message(exc.msg)),
                       "line": exc.lineno, "column": exc.colno}]
    except RecursionError:
        return None, [{"text": _("El JSON anida demasiados niveles.")}]
    if not isinstance(schema, dict):
        return None, [{"text": _('El formulario debe ser un objeto JSON Schema: { "type": "object", … }')}]
    try:
        load_form(text)  # the project's rules, with the meta-schema check (once, when all is well)
    except FormStructureError as exc:  # refused before any JSON Schema processing: so is the meta-schema's
        return None, [{"text": _("Regla de los formularios: %(msg)s", msg=str(exc))}]
    except ValueError as exc:
        try:
            errors = sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
        except RecursionError:
            return None, [{"text": _("El JSON anida demasiados niveles.")}]
        if errors:  # every meta-schema error, each pointing at its key
            return None, [dict({"text": _("JSON Schema no válido en %(path)s: %(msg)s", path=_path(e),
                                          msg=_schema_message(e))}, **_locate(text, list(e.absolute_path)))
                          for e in errors[:MAX_PROBLEMS]]
        return None, [{"text": _("Regla de los formularios: %(msg)s", msg=str(exc))}]
    return schema, []
