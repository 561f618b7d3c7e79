"""Forms: JSON Schema (draft 2020-12) definitions of user tasks, validated with jsonschema.

Validation messages are in Spanish and name the field, so the web form and the CLI can
show them as they are. Values with `"format": "rut"` are normalised (76.086.428-5).

A form is hostile input (an analyst may deploy anything): before jsonschema ever sees it,
`check_structure` walks it once, without recursion, and refuses what could fetch, loop or
blow up — `$ref` other than a JSON pointer inside the form (`#/…`), references to nothing,
reference cycles, more than MAX_SCHEMA_DEPTH levels of schemas (references followed), more
than MAX_SCHEMA_NODES schemas, and regular expressions RE2 cannot run. The validator resolves
references in a registry whose only resource is the form (nothing is ever retrieved) and
evaluates `pattern` and `patternProperties` with RE2, in time linear in the text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import unquote

import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import NoSuchResource

from engine.basics.case_values import RESERVED_KEYS
from engine.basics.errors import FormError
from engine.domain.rut import is_valid_rut, normalize_rut

MAX_FORM_BYTES = 512 * 1024
MAX_SUBMISSION_BYTES = 256 * 1024
MAX_FORM_DEPTH = 8  # nested groups (objects inside objects)
MAX_FORM_FIELDS = 400
MAX_JSON_DEPTH = 640  # nesting of the JSON text ([ and {), checked before parsing (Python's json recurses)
MAX_VALUE_DEPTH = 32  # nesting of values that are not schemas (const, enum, default, x-…)
MAX_SCHEMA_DEPTH = 32  # levels of schemas inside schemas, following $ref
MAX_SCHEMA_NODES = 5000  # schemas in the document
MAX_EXPANDED_NODES = 20000  # schemas once every $ref is followed (what one validation may visit)
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # names become dotted paths: no dots or spaces

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # its errors are reported to the analyst, in Spanish


def regex(pattern: str):
    """A form's regular expression compiled by RE2 (cached by the re2 module); raises re2.error."""
    return re2.compile(pattern, _RE2_OPTIONS)


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("rut")(lambda value: not isinstance(value, str) or is_valid_rut(value))
FORMAT_CHECKER.checks("regex", raises=re2.error)(lambda value: not isinstance(value, str) or bool(regex(value)))
# the meta-schema check of a form: patterns were already compiled by RE2 (check_structure)
_META_FORMATS = FormatChecker([name for name in Draft202012Validator.FORMAT_CHECKER.checkers if name != "regex"])


class FormStructureError(ValueError):
    """A form whose shape is refused before any JSON Schema processing (Spanish message)."""


def _refuse_retrieval(uri: str):
    raise NoSuchResource(ref=uri)


# the form is the only resource: a reference to anything else is never fetched (see check_structure)
REGISTRY = Registry(retrieve=_refuse_retrieval)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        compiled = regex(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


_ADDITIONAL = Draft202012Validator.VALIDATORS["additionalProperties"]


def _additional_properties(validator, additional, instance, schema):
    """jsonschema's own, except that names are matched against patternProperties with RE2."""
    if "patternProperties" not in schema:
        yield from _ADDITIONAL(validator, additional, instance, schema)
        return
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [regex(p) for p in schema["patternProperties"]]
    extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield ValidationError(f"{', '.join(map(repr, sorted(extras)))} do not match any of the regexes")


FormValidator = validators.extend(Draft202012Validator, validators={
    "pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties})


def json_depth_problem(text: str) -> str | None:
    """Why the JSON text nests too deep to be parsed safely (Python's json recurses), or None.
    Linear (RE2): strings are taken out, then the brackets are counted."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    deepest = max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)
    if deepest > MAX_JSON_DEPTH:
        return f"el JSON del formulario anida demasiados niveles (más de {MAX_JSON_DEPTH})"
    return None


_JSON_STRING = re2.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re2.compile(r"[^\[\]{}]+")

# keywords whose value is a schema, a list of schemas, a map of names to schemas
_SCHEMA_KEYWORDS = ("not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
                    "unevaluatedItems", "unevaluatedProperties", "contentSchema", "additionalItems")
_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_NOT_ALLOWED = ("$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor")


def _pointer(path: tuple) -> str:
    return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _where(field: str, path: tuple) -> str:
    return f"campo «{field}»" if field else f"en «{_pointer(path)}»"


def _regex_problem(pattern: str) -> str | None:
    try:
        regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
        shown = json.dumps(pattern, ensure_ascii=False)
        if reason.startswith("invalid perl operator: (?") or re.match(r"invalid escape sequence: \\[1-9k]", reason):
            return ("la expresión regular usa retroreferencias o lookaround, que no se permiten; reescríbala sin "
                    f"ellas (se evalúa con RE2, en tiempo lineal): {shown}")
        why = ("falta cerrar un paréntesis o corchete" if "missing" in reason or "unexpected )" in reason else
               "una repetición {n} no puede pasar de 1000" if "repetition size" in reason else
               "es demasiado grande" if "too large" in reason else "RE2 no reconoce su sintaxis")
        return f"la expresión regular no es válida ({why}): {shown}"
    return None


def _value_depth(value) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_VALUE_DEPTH:  # deeper than the limit is enough to know
            children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
            pending.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def check_structure(schema: dict) -> bool:
    """Refuse (FormStructureError, in Spanish, naming the field) a form that could fetch, loop or
    blow up; see the module's docstring. One iterative walk, then one iterative walk of the graph
    of schemas and references. Returns whether the form uses `$ref`."""
    nodes: dict[tuple, list] = {}  # schema position → [children positions, field]
    refs: list[tuple] = []  # (position, $ref, field)
    uses = set()
    pending = [(schema, (), 0, "")]
    while pending:
        node, path, depth, field = pending.pop()
        where = _where(field, path)
        if depth > MAX_SCHEMA_DEPTH:
            raise FormStructureError(f"{where}: anidamiento de más de {MAX_SCHEMA_DEPTH} niveles de esquemas")
        if len(nodes) >= MAX_SCHEMA_NODES:
            raise FormStructureError(f"el formulario es demasiado grande (más de {MAX_SCHEMA_NODES} esquemas)")
        children: list = []
        nodes[tuple(map(str, path))] = [children, field]
        if not isinstance(node, dict):
            continue
        for key in _NOT_ALLOWED:
            if key in node:
                raise FormStructureError(f'{where}: "{key}" no se permite; use "$ref" con un puntero "#/…" '
                                         "dentro del formulario")
        if "$id" in node and path:
            raise FormStructureError(f'{where}: "$id" solo se permite en la raíz del formulario')
        if "$ref" in node:
            refs.append((tuple(map(str, path)), node["$ref"], field))
        if isinstance(node.get("pattern"), str):
            problem = _regex_problem(node["pattern"])
            if problem:
                raise FormStructureError(f"{where}: {problem}")
        if isinstance(node.get("patternProperties"), dict):
            uses.add("patternProperties")
            for pattern in node["patternProperties"]:
                problem = _regex_problem(pattern)
                if problem:
                    raise FormStructureError(f"{where}: {problem}")
        if "unevaluatedProperties" in node:
            uses.add("unevaluatedProperties")
        found = []  # (path tail, value, field) of every value in a schema position
        for key, value in node.items():
            if key in _SCHEMA_KEYWORDS and isinstance(value, (dict, bool)):
                found.append(((key,), value, field))
            elif key in _LIST_KEYWORDS and isinstance(value, list):
                found.extend(((key, i), sub, field) for i, sub in enumerate(value))
            elif key in _MAP_KEYWORDS and isinstance(value, dict):
                for name, sub in value.items():
                    label = (f"{field}.{name}" if field else name) if key == "properties" else field
                    found.append(((key, name), sub, label))
            elif isinstance(value, (dict, list)) and _value_depth(value) > MAX_VALUE_DEPTH:
                raise FormStructureError(f'{where}: el valor de "{key}" anida más de {MAX_VALUE_DEPTH} niveles')
        for tail, sub, label in found:
            if isinstance(sub, (dict, bool)):
                child = path + tail
                children.append(tuple(map(str, child)))
                pending.append((sub, child, depth + 1, label))
            elif isinstance(sub, list) and _value_depth(sub) > MAX_VALUE_DEPTH:  # not a schema: the meta-schema
                raise FormStructureError(f"{where}: «{tail[0]}» anida más de {MAX_VALUE_DEPTH} niveles")  # says so
    if {"patternProperties", "unevaluatedProperties"} <= uses:
        raise FormStructureError('"patternProperties" y "unevaluatedProperties" no se pueden usar en el mismo '
                                 "formulario")
    for where_path, ref, field in refs:
        where = _where(field, where_path)
        shown = json.dumps(ref, ensure_ascii=False)
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise FormStructureError(f"{where}: la referencia $ref {shown} no se permite: las referencias se "
                                     'resuelven solo dentro del formulario, con un puntero "#/…"')
        target = tuple(t.replace("~1", "/").replace("~0", "~") for t in unquote(ref[2:]).split("/")) \
            if ref != "#" else ()
        if target not in nodes:
            raise FormStructureError(f"{where}: la referencia $ref {shown} no apunta a ningún esquema del "
                                     "formulario")
        nodes[where_path][0].append(target)
        nodes[where_path].append(ref)
    _check_graph(nodes)
    return bool(refs)


def _check_graph(nodes: dict) -> None:
    """Cycles, depth and size of the schemas once references are followed (iterative DFS)."""
    depth: dict[tuple, int] = {}  # levels below a schema, references followed
    size: dict[tuple, int] = {}  # schemas a validation may visit from it (capped)
    for start in [(), *nodes]:
        if start in depth:
            continue
        stack = [(start, 0, nodes[start][1])]
        active = {start}
        while stack:
            node, index, field = stack[-1]
            children = nodes[node][0]
            if index < len(children):
                stack[-1] = (node, index + 1, field)
                child = children[index]
                if child in active:
                    ref = nodes[node][2] if len(nodes[node]) > 2 else _pointer(child)
                    raise FormStructureError(f"{_where(field, node)}: referencia circular "
                                             f"($ref {json.dumps(ref, ensure_ascii=False)})")
                if child not in depth:
                    active.add(child)
                    stack.append((child, 0, nodes[child][1] or field))
                continue
            stack.pop()
            active.discard(node)
            depth[node] = 1 + max((depth[c] for c in children), default=-1)
            size[node] = min(1 + sum(size[c] for c in children), MAX_EXPANDED_NODES + 1)
    if depth[()] > MAX_SCHEMA_DEPTH:
        node, field = (), ""
        for _ in range(MAX_SCHEMA_DEPTH + 1):
            node = max(nodes[node][0], key=depth.__getitem__)
            field = nodes[node][1] or field
        raise FormStructureError(f"{_where(field, node)}: anidamiento de más de {MAX_SCHEMA_DEPTH} niveles de "
                                 "esquemas (siguiendo las referencias $ref)")
    if size[()] > MAX_EXPANDED_NODES:
        node, field = (), ""
        while nodes[node][0] and not field:
            node = max(nodes[node][0], key=size.__getitem__)
            field = nodes[node][1]
        raise FormStructureError(f"{_where(field, node)}: el formulario es demasiado grande: sus referencias "
                                 f"($ref) suman más de {MAX_EXPANDED_NODES} esquemas")


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
    deep = json_depth_problem(content)
    if deep:
        raise FormStructureError(deep)
    try:
        schema = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON mal formado en la línea {exc.lineno}, columna {exc.colno}") from None
    except RecursionError:  # not reachable after json_depth_problem; never a 500 all the same
        raise FormStructureError(f"el JSON del formulario anida demasiados niveles (más de {MAX_JSON_DEPTH})") \
            from None
    if not isinstance(schema, dict):
        raise ValueError('el formulario debe ser un objeto JSON Schema con "type": "object"')
    check_structure(schema)  # before jsonschema sees it: no reference out, no cycle, bounded depth and size
    if schema.get("type") != "object":
        raise ValueError('el formulario debe ser un objeto JSON Schema con "type": "object"')
    try:
        Draft202012Validator.check_schema(schema, format_checker=_META_FORMATS)
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
            _check_annotations(prop, where)
            if prop.get("type") == "object":
                pending.append((prop, depth + 1, where))
        order = node.get("x-order")
        if order is not None and (not isinstance(order, list) or not all(isinstance(o, str) for o in order)):
            raise ValueError(f"«x-order» {'de «' + path + '» ' if path else ''}debe ser una lista de nombres de "
                             "campos")


WIDGETS = ("text", "textarea", "radio", "select", "checkbox", "checkboxes", "date", "datetime", "email", "hidden")


DEFAULT_FROM = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}(?:\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,7}")
CATALOGUES = ("talleres",)


def _check_annotations(prop: dict, where: str) -> None:
    """What the web form reads besides JSON Schema: `x-widget` (one of WIDGETS), `x-help` and
    `x-placeholder` (texts), `x-default-from` (the case variable, or a dotted path into one, whose
    value the field shows when the form is first opened), `x-catalogo` (one of CATALOGUES: the task
    page lists what the programme offers of it, e.g. the upcoming workshop sessions open to the case's
    region)."""
    widget = prop.get("x-widget")
    if widget is not None and widget not in WIDGETS:
        raise ValueError(f"el campo «{where}» tiene un «x-widget» desconocido; use uno de: {', '.join(WIDGETS)}")
    if "x-catalogo" in prop and prop["x-catalogo"] not in CATALOGUES:
        raise ValueError(f"el campo «{where}» tiene un «x-catalogo» desconocido; use uno de: {', '.join(CATALOGUES)}")
    for key in ("x-help", "x-placeholder"):
        if key in prop and not isinstance(prop[key], str):
            raise ValueError(f"«{key}» del campo «{where}» debe ser un texto")
    source = prop.get("x-default-from")
    if source is not None and not (isinstance(source, str) and DEFAULT_FROM.fullmatch(source)):
        raise ValueError(f"«x-default-from» del campo «{where}» debe nombrar una variable del caso "
                         "(p. ej. \"institucion_sugerida\" o \"tpe.respuestas\")")


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
    props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    for key, value in node.items():
        if key == "required" and isinstance(value, list):  # a read-only field is shown, never sent
            value = [n for n in value if not (isinstance(props.get(n), dict) and props[n].get("readOnly") is True)]
        values = _constant_choices(value) if key == "oneOf" and "enum" not in node else None
        if values is not None:
            result["enum"] = values
        elif key in ("const", "enum", "default", "examples") or key.startswith("x-"):
            result[key] = value  # values, not schemas
        else:
            result[key] = _for_validation(value)
    return result


def _read_only_sent(schema: dict, data: dict) -> list[str]:
    """The paths of the fields marked `"readOnly": true` that `data` carries (a form shows them, with
    the case's value, and never sends them)."""
    found, pending = [], [(schema, data, "")]
    while pending:
        node, values, prefix = pending.pop()
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict) or name not in values:
                continue
            if prop.get("readOnly") is True:
                found.append(prefix + name)
            elif isinstance(prop.get("properties"), dict) and isinstance(values[name], dict):
                pending.append((prop, values[name], f"{prefix}{name}."))
    return sorted(found)


NULLS = "x-vacios-nulos"  # a form whose fields left empty are stored as null (Camunda's generated forms)


def _with_nulls(schema: dict, data: dict) -> dict:
    """`data` with each top-level field the answer leaves out as None when the form says so (`"x-vacios-nulos":
    true`: Camunda stores every field of a generated task form, null when empty, and its diagrams' conditions
    and decision tables read them). A read-only field is never written: it shows the case's value."""
    if schema.get(NULLS) is not True:
        return data
    found = dict(data)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in found and not (isinstance(prop, dict) and prop.get("readOnly") is True):
            found[name] = None
    return found


@dataclass
class Form:
    key: str
    version: int
    schema: dict

    def __post_init__(self):
        # compiled once per form version (Form objects live in the spec cache, spiff.SpecCache);
        # whatever built the schema, the structure is checked again: no validator for a hostile form
        uses_refs = check_structure(self.schema)
        schema = self.schema if uses_refs else _for_validation(self.schema)  # a $ref may point into a oneOf
        self._validator = FormValidator(schema, format_checker=FORMAT_CHECKER, registry=REGISTRY)

    def validate(self, data) -> dict:
        """Return the normalised data, or raise FormError with a message per field."""
        if not isinstance(data, dict):
            raise FormError({"": "Los datos del formulario deben ser un objeto."})
        if len(json.dumps(data, default=str)) > MAX_SUBMISSION_BYTES:
            raise FormError({"": "El envío supera el tamaño máximo permitido."})
        errors: dict[str, str] = {}
        for path in _read_only_sent(self.schema, data):
            errors[path] = f"{_label(self.schema, path.split('.'))}: Este campo es de solo lectura."
        for error in sorted(self._validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            field, text = _message(error, self.schema)
            label = _label(self.schema, field.split(".")) if field else ""
            errors.setdefault(field, f"{label}: {text}" if label else text)
        if errors:
            raise FormError(errors)
        return _with_nulls(self.schema, _normalise(self.schema, data))

    @property
    def title(self) -> str:
        return self.schema.get("title", self.key)
