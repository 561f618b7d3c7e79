"""Forms: JSON Schema (draft 2020-12) definitions of user tasks, validated with jsonschema.

Validation messages are in Spanish and name the field, so the web form and the CLI can
show them as they are. Values with `"format": "rut"` are normalised (76.086.428-5).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .services.rut import is_valid_rut, normalize_rut
from .values import RESERVED_KEYS

MAX_FORM_BYTES = 512 * 1024
MAX_SUBMISSION_BYTES = 256 * 1024
MAX_FORM_DEPTH = 8  # nested groups (objects inside objects)
MAX_FORM_FIELDS = 400
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # names become dotted paths: no dots or spaces

FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("rut")(lambda value: not isinstance(value, str) or is_valid_rut(value))


class FormError(ValueError):
    """A submission that does not satisfy its form; `errors` maps field path → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))


def load_form(content: str | bytes) -> dict:
    """Parse and check a form definition; raise ValueError with a Spanish message."""
    if isinstance(content, bytes):
        if len(content) > MAX_FORM_BYTES:
            raise ValueError("el formulario supera el tamaño máximo (512 KB)")
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("el formulario no está codificado en UTF-8") from None
    if len(content) > MAX_FORM_BYTES:
        raise ValueError("el formulario supera el tamaño máximo (512 KB)")
    try:
        schema = json.loads(content)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"JSON mal formado: {exc}") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValueError('el formulario debe ser un objeto JSON Schema con "type": "object"')
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"JSON Schema inválido: {exc.message}") from None
    _check_fields(schema)
    return schema


def _check_fields(schema: dict) -> None:
    """The web form is built from `properties`: bounded nesting and size, names usable as paths."""
    count = 0
    pending = [(schema, 0, "")]
    while pending:
        node, depth, path = pending.pop()
        if depth > MAX_FORM_DEPTH:
            raise ValueError(f"el formulario anida más de {MAX_FORM_DEPTH} grupos (en {path})")
        for name, prop in (node.get("properties") or {}).items():
            count += 1
            if count > MAX_FORM_FIELDS:
                raise ValueError(f"el formulario tiene más de {MAX_FORM_FIELDS} campos")
            where = f"{path}.{name}" if path else name
            if name in RESERVED_KEYS:
                raise ValueError(f"el nombre de campo «{where}» está reservado por el motor: use otro")
            if not FIELD_NAME.match(name):
                raise ValueError(f"el nombre de campo «{where}» no es válido: use letras sin tildes, números y _ "
                                 "(sin espacios ni puntos)")
            if not isinstance(prop, dict):
                raise ValueError(f"el campo «{where}» debe ser un objeto JSON Schema ({{\"type\": …}})")
            choices = [prop.get("items"), *(prop.get("oneOf") or [])]
            items = prop.get("items")
            if prop.get("type") == "array" and not isinstance(items, dict):
                raise ValueError(f"la lista «{where}» necesita \"items\" con el esquema de cada elemento")
            if any(c is not None and not isinstance(c, dict) for c in choices) or (
                    isinstance(items, dict) and not all(isinstance(o, dict) for o in items.get("oneOf") or [])):
                raise ValueError(f"las opciones de «{where}» deben ser objetos (p. ej. {{\"const\": …, "
                                 "\"title\": …})")
            if prop.get("type") == "object":
                pending.append((prop, depth + 1, where))


def _label(schema: dict, path) -> str:
    node, labels = schema, []
    for part in path:
        if isinstance(part, int):
            labels.append(str(part + 1))
            node = node.get("items", {}) if isinstance(node, dict) else {}
            continue
        node = node.get("properties", {}).get(part, {}) if isinstance(node, dict) else {}
        labels.append(node.get("title", part) if isinstance(node, dict) else part)
    return " › ".join(labels)


def _message(error, schema) -> tuple[str, str]:
    path = list(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = path + [missing]
        return ".".join(map(str, path)), "Este campo es obligatorio."
    messages = {
        "type": "Tipo de dato no válido.",
        "minimum": f"Debe ser mayor o igual a {value}.",
        "maximum": f"Debe ser menor o igual a {value}.",
        "exclusiveMinimum": f"Debe ser mayor que {value}.",
        "exclusiveMaximum": f"Debe ser menor que {value}.",
        "minLength": f"Debe tener al menos {value} caracteres.",
        "maxLength": f"Debe tener como máximo {value} caracteres.",
        "minItems": f"Seleccione al menos {value} opción(es).",
        "maxItems": f"Puede indicar como máximo {value} elementos.",
        "uniqueItems": "Hay elementos repetidos.",
        "pattern": "El formato no es válido.",
        "enum": "Seleccione una de las opciones.",
        "oneOf": "Seleccione una de las opciones.",
        "const": "Valor no permitido.",
        "additionalProperties": "Contiene campos no permitidos.",
    }
    if kind == "format":
        text = {
            "rut": "RUT inválido: revise el dígito verificador.",
            "date": "Fecha no válida (AAAA-MM-DD).",
            "email": "Correo electrónico no válido.",
        }.get(value, f"Formato {value} no válido.")
    elif kind == "type":
        expected = {"integer": "un número entero", "number": "un número", "string": "un texto",
                    "boolean": "sí o no", "object": "un objeto", "array": "una lista"}
        text = f"Debe ser {expected.get(value, value)}."
    else:
        text = messages.get(kind, error.message)
    return ".".join(map(str, path)), text


def _normalise(schema: dict, data):
    if not isinstance(schema, dict):
        return data
    if schema.get("format") == "rut" and isinstance(data, str):
        return normalize_rut(data)
    if isinstance(data, dict):
        props = schema.get("properties", {})
        return {k: _normalise(props.get(k, {}), v) for k, v in data.items()}
    if isinstance(data, list):
        return [_normalise(schema.get("items", {}), v) for v in data]
    return data


_ANNOTATIONS = {"title", "description"}


def _constant_choices(choices) -> list | None:
    """The values of a `oneOf` whose options are only distinct constants with annotations
    (`{"const": …, "title": …, "x-points": …}`, how forms list their options), else None."""
    if not isinstance(choices, list) or not choices:
        return None
    values, seen = [], set()
    for option in choices:
        if not isinstance(option, dict) or "const" not in option or \
                any(k != "const" and k not in _ANNOTATIONS and not k.startswith("x-") for k in option):
            return None
        value = option["const"]
        if value is not None and not isinstance(value, (str, int, bool)) or isinstance(value, float):
            return None
        key = (type(value), value)  # True and 1 differ for JSON Schema, as they do here
        if key in seen:
            return None  # a repeated constant makes oneOf refuse it: not the same as an enum
        seen.add(key)
        values.append(value)
    return values


def _for_validation(node):
    """The schema the validator runs: the same, except that a `oneOf` of constants becomes the
    equivalent `enum` (same accepted values, same message «Seleccione una de las opciones.»),
    which jsonschema checks without building a validator per option."""
    if isinstance(node, list):
        return [_for_validation(v) for v in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        values = _constant_choices(value) if key == "oneOf" and "enum" not in node else None
        if values is not None:
            result["enum"] = values
        elif key in ("const", "enum", "default", "examples") or key.startswith("x-"):
            result[key] = value  # values, not schemas
        else:
            result[key] = _for_validation(value)
    return result


@dataclass
class Form:
    key: str
    version: int
    schema: dict

    def __post_init__(self):
        # compiled once per form version (Form objects live in the spec cache, runtime.SpecCache)
        self._validator = Draft202012Validator(_for_validation(self.schema), format_checker=FORMAT_CHECKER)

    def validate(self, data) -> dict:
        """Return the normalised data, or raise FormError with a message per field."""
        if not isinstance(data, dict):
            raise FormError({"": "Los datos del formulario deben ser un objeto."})
        if len(json.dumps(data, default=str)) > MAX_SUBMISSION_BYTES:
            raise FormError({"": "El envío supera el tamaño máximo permitido."})
        errors: dict[str, str] = {}
        for error in sorted(self._validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            field, text = _message(error, self.schema)
            label = _label(self.schema, field.split(".")) if field else ""
            errors.setdefault(field, f"{label}: {text}" if label else text)
        if errors:
            raise FormError(errors)
        return _normalise(self.schema, data)

    @property
    def title(self) -> str:
        return self.schema.get("title", self.key)
