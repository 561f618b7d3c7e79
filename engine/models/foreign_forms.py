"""Forms that other modelers write, turned into forms of ours at deploy.

- Camunda Modeler's generated task forms (`camunda:formData` on a user task) become a JSON Schema,
  stored and pinned like any form (its key: `<process id>.<task id>`, its file: the diagram); as in
  Camunda, a field left empty is stored as null (`"x-vacios-nulos": true`, engine/models/forms.py), so a
  condition or decision table that reads an optional field does not fail on it.
- SpiffArena's forms (`formJsonSchemaFilename` / `formUiSchemaFilename`): the JSON Schema is adapted
  where our rules need it, and the UI schema's order, widgets and help texts become our annotations
  (`x-order`, `x-widget`, `x-help`, `x-placeholder`; `ui:description`/`ui:title` set `description`/
  `title`; `ui:readonly` sets `readOnly`).
- A user task with no form gets the built-in confirmation form (an optional comment).

The mapping is documented in the README ("Formularios de otros modeladores"). Every refusal is a
Spanish message naming the task or the file and the field.
"""

from __future__ import annotations

import hashlib
import json
import re

from engine.models.forms import FIELD_NAME, NULLS, WIDGETS, json_depth_problem

CAMUNDA_NS = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn")
MAX_KEY = 120  # model_versions.key
MAX_OPTIONS = 500  # values of one enum field
MAX_LABEL = 500
MAX_UI_BYTES = 256 * 1024

CONFIRM_FORM_KEY = "cpe:confirmar"  # ":" cannot appear in a diagram id: no generated key takes it
CONFIRM_FORM = {
    "title": "Confirmar",
    "type": "object",
    "additionalProperties": False,
    "x-confirmacion": True,
    "properties": {
        "comentario": {"type": "string", "title": "Comentario (opcional)", "maxLength": 2000,
                       "x-widget": "textarea"},
    },
}

_UI_WIDGETS = {w: w for w in WIDGETS} | {"alt-date": "date", "alt-datetime": "datetime"}
_CAMUNDA_TYPES = {"string": {"type": "string"}, "long": {"type": "integer"}, "boolean": {"type": "boolean"},
                  "date": {"type": "string", "format": "date"}, "enum": {"type": "string"}}


class ForeignFormError(ValueError):
    """A foreign form that cannot be turned into one of ours (Spanish message)."""


def camunda_form_data(task):
    """The task's `camunda:formData` element (or None)."""
    for ns in CAMUNDA_NS:
        found = task.find(f"{{http://www.omg.org/spec/BPMN/20100524/MODEL}}extensionElements/{{{ns}}}formData")
        if found is not None:
            return found
    return None


def camunda_form_key(task):
    for ns in CAMUNDA_NS:
        if task.get(f"{{{ns}}}formKey") or task.get(f"{{{ns}}}formRef"):
            return task.get(f"{{{ns}}}formKey") or task.get(f"{{{ns}}}formRef")
    return None


def generated_key(process_id: str, task_id: str) -> str:
    """The key of the form generated from a task's formData (a long pair of ids is shortened with a hash)."""
    key = f"{process_id}.{task_id}"
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{task_id[:MAX_KEY - 14]}.{digest}"


def _local(node) -> str:
    tag = node.tag if isinstance(node.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _children(node, name):
    return [c for c in node if _local(c) == name]


def formdata_schema(task, title: str) -> tuple[dict, list[str]]:
    """The JSON Schema of a task's camunda:formData, and warnings (what is ignored). Raises
    ForeignFormError (Spanish, naming the field) for what cannot be turned into a form."""
    form_data = camunda_form_data(task)
    properties, required, warnings = {}, [], []
    fields = _children(form_data, "formField")
    if not fields:
        raise ForeignFormError("camunda:formData no tiene campos (camunda:formField)")
    for node in fields:
        ident = node.get("id") or ""
        shown = json.dumps(ident[:80], ensure_ascii=False)
        if not FIELD_NAME.match(ident):
            raise ForeignFormError(f"el campo {shown} de camunda:formData no tiene un id válido: use letras sin "
                                   "tildes, números y _ (sin espacios ni puntos, hasta 64 caracteres)")
        if ident in properties:
            raise ForeignFormError(f"el campo «{ident}» de camunda:formData está repetido")
        kind = node.get("type") or "string"
        if kind not in _CAMUNDA_TYPES:
            raise ForeignFormError(f"el campo «{ident}» tiene el tipo «{kind[:40]}», que no se admite (use string, "
                                   "long, boolean, date o enum)")
        label = node.get("label") or ident
        if len(label) > MAX_LABEL:
            raise ForeignFormError(f"la etiqueta del campo «{ident}» tiene más de {MAX_LABEL} caracteres")
        prop = dict(_CAMUNDA_TYPES[kind], title=label)
        if kind == "enum":
            prop["oneOf"] = _enum_options(node, ident)
        readonly = False
        for validation in _children(node, "validation"):
            for constraint in _children(validation, "constraint"):
                name, config = constraint.get("name") or "", constraint.get("config")
                if name == "required":
                    required.append(ident)
                elif name == "readonly":
                    readonly = True
                elif name in ("minlength", "maxlength") and kind == "string":
                    prop["minLength" if name == "minlength" else "maxLength"] = _whole(config, ident, name)
                elif name in ("min", "max") and kind == "long":
                    prop["minimum" if name == "min" else "maximum"] = _whole(config, ident, name, negative=True)
                else:
                    warnings.append(f"campo «{ident}»: se ignora la restricción «{name[:40]}» (no se aplica a un "
                                    f"campo {kind})")
        if readonly:
            prop["readOnly"] = True
        default = node.get("defaultValue")
        if default is not None and not readonly:
            value = _default(default, kind, prop, ident)
            if value is None:
                warnings.append(f"campo «{ident}»: se ignora el valor por defecto (no es un valor del campo)")
            else:
                prop["default"] = value
        properties[ident] = prop
    # Camunda stores every field of a generated form, null when left empty: conditions and tables read them
    schema = {"title": title, "type": "object", "properties": properties, NULLS: True}
    required = [r for r in dict.fromkeys(required) if not properties[r].get("readOnly")]
    if required:
        schema["required"] = required
    return schema, warnings


def _enum_options(node, ident) -> list:
    values = _children(node, "value")
    if not values:
        raise ForeignFormError(f"el campo «{ident}» es de tipo enum y no tiene valores (camunda:value)")
    if len(values) > MAX_OPTIONS:
        raise ForeignFormError(f"el campo «{ident}» tiene {len(values)} valores y el máximo es {MAX_OPTIONS}")
    options, seen = [], set()
    for value in values:
        const = value.get("id") or ""
        if not const or len(const) > MAX_LABEL:
            raise ForeignFormError(f"un valor del campo «{ident}» no tiene id o es demasiado largo")
        if const in seen:
            raise ForeignFormError(f"el campo «{ident}» repite el valor «{const[:80]}»")
        seen.add(const)
        name = value.get("name") or const
        if len(name) > MAX_LABEL:
            raise ForeignFormError(f"el nombre de un valor del campo «{ident}» tiene más de {MAX_LABEL} caracteres")
        options.append({"const": const, "title": name})
    return options


def _whole(config, ident, name, negative=False) -> int:
    text = (config or "").strip()
    if not re.fullmatch(r"-?\d{1,15}" if negative else r"\d{1,15}", text):
        raise ForeignFormError(f"el campo «{ident}»: la restricción {name} necesita un número entero"
                               f"{'' if negative else ' no negativo'} (config=\"{text[:40]}\")")
    return int(text)


def _default(text, kind, prop, ident):
    """A defaultValue as the field's value, or None (an expression `${…}`, or not a value of the field)."""
    if "${" in text or "#{" in text:
        return None
    if kind == "long":
        return int(text) if re.fullmatch(r"-?\d{1,15}", text.strip()) else None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.strip().lower())
    if kind == "enum":
        return text if any(o["const"] == text for o in prop["oneOf"]) else None
    if kind == "date":
        found = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text.strip())  # Camunda's default pattern dd/MM/yyyy
        if found:
            return f"{found[3]}-{found[2]}-{found[1]}"
        return text.strip() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()) else None
    return text


# -- SpiffArena ---------------------------------------------------------------------------------

SPIFFARENA_METADATA = ("process_model.json", "process_group.json")
UI_NAME = re.compile(r"(?i)(ui[-_ ]?schema|[-_]ui)\.json$")


def read_json(text: str, what: str):
    """A JSON document, or ForeignFormError (Spanish) naming `what`."""
    deep = json_depth_problem(text)
    if deep:
        raise ForeignFormError(deep.replace("del formulario", f"de {what}"))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ForeignFormError(f"{what}: JSON mal formado en la línea {exc.lineno}, columna {exc.colno}") from None


def looks_like_ui_schema(value) -> bool:
    """A JSON object whose keys are all `ui:…` or, below them, objects of such keys (a SpiffArena/RJSF UI
    schema), as opposed to a JSON Schema."""
    if not isinstance(value, dict) or not value:
        return False
    pending = [value]
    while pending:
        node = pending.pop()
        for key, sub in node.items():
            if key.startswith("ui:"):
                continue
            if not isinstance(sub, dict) or key in ("type", "properties", "title", "$schema"):
                return False
            pending.append(sub)
    return True


def adapt_schema(schema: dict) -> tuple[dict, list[str]]:
    """A SpiffArena (react-jsonschema-form) JSON Schema as our rules want it: the root gets `"type":
    "object"` if it lists properties without it, and `enum` with `enumNames` becomes `oneOf` options with
    titles. What our server-side forms cannot do is refused (ForeignFormError, naming the field): options
    read from task data (`options_from_task_data_var`), fields that appear under conditions
    (`dependencies`), file uploads (`"format": "data-url"`). Returns the schema (a copy if anything
    changed) and what was changed."""
    changes = []
    _refuse_task_data_options(schema)
    result = dict(schema)
    if "type" not in result and isinstance(result.get("properties"), dict):
        result["type"] = "object"
        changes.append('se agregó "type": "object" a la raíz')
    pending = [(result, "")]
    while pending:
        node, path = pending.pop()
        if "dependencies" in node:
            raise ForeignFormError(f"{_at(path)}los campos que aparecen según otra respuesta («dependencies») no se "
                                   "admiten: use campos opcionales o una tarea aparte")
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        for name, prop in list(props.items()):
            where = f"{path}.{name}" if path else str(name)
            if not isinstance(prop, dict):
                continue
            if prop.get("format") == "data-url":
                raise ForeignFormError(f"campo «{where}»: los archivos adjuntos (\"format\": \"data-url\") no se "
                                       "admiten en los formularios")
            names = prop.get("enumNames")
            if names is not None:
                values = prop.get("enum")
                if not isinstance(values, list) or not isinstance(names, list) or len(values) != len(names):
                    raise ForeignFormError(f"campo «{where}»: \"enumNames\" debe tener un nombre por cada valor de "
                                           '"enum"')
                prop = {k: v for k, v in prop.items() if k not in ("enum", "enumNames")}
                prop["oneOf"] = [{"const": v, "title": str(n)} for v, n in zip(values, names, strict=True)]
                props[name] = prop
                changes.append(f"campo «{where}»: \"enum\" con \"enumNames\" pasó a \"oneOf\" con títulos")
            if prop.get("type") == "object" or isinstance(prop.get("properties"), dict):
                props[name] = prop = dict(prop)
                pending.append((prop, where))
        node["properties"] = dict(props)
    return result, changes


_TASK_DATA_OPTIONS = "options_from_task_data_var:"


def _refuse_task_data_options(schema: dict) -> None:
    """SpiffArena's options read from the task's data (`"anyOf": ["options_from_task_data_var:…"]`,
    anywhere in the document, `definitions` included): refused, naming where."""
    pending = [(schema, ())]
    while pending:
        node, path = pending.pop()
        if isinstance(node, list):
            pending.extend((v, (*path, i)) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key in ("anyOf", "oneOf"):
            choices = node.get(key)
            if isinstance(choices, list) and any(isinstance(c, str) and c.startswith(_TASK_DATA_OPTIONS)
                                                 for c in choices):
                names = [str(p) for i, p in enumerate(path) if i and path[i - 1] in ("properties", "definitions",
                                                                                     "$defs")]
                where = f"campo «{'.'.join(names)}»: " if names else ""
                raise ForeignFormError(f"{where}las opciones tomadas de los datos de la tarea "
                                       "(options_from_task_data_var) no se admiten: liste las opciones en el "
                                       'formulario ("enum" u "oneOf" con "const" y "title")')
        pending.extend((v, (*path, k)) for k, v in node.items())


def _at(path):
    return f"campo «{path}»: " if path else ""


def merge_ui_schema(schema: dict, ui: dict) -> tuple[dict, list[str]]:
    """`schema` with the UI schema's order, widgets and help texts as our annotations; returns it and
    warnings (what is ignored). Raises ForeignFormError when `ui` is not a UI schema."""
    if not isinstance(ui, dict):
        raise ForeignFormError("el esquema de interfaz debe ser un objeto JSON")
    warnings = []
    result = json.loads(json.dumps(schema))
    pending = [(result, ui, "")]
    while pending:
        node, hints, path = pending.pop()
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        order = hints.get("ui:order")
        if order is not None:
            if not isinstance(order, list) or not all(isinstance(o, str) for o in order):
                raise ForeignFormError(f"{_at(path)}«ui:order» debe ser una lista de nombres de campos")
            known = [o for o in order if o in props or o == "*"]
            unknown = [o for o in order if o not in known]
            if unknown:
                warnings.append(f"{_at(path)}«ui:order» nombra campos que el formulario no tiene: "
                                + ", ".join(u[:60] for u in unknown[:5]))
            node["x-order"] = list(dict.fromkeys(known))
        for name, sub in hints.items():
            if name.startswith("ui:"):
                continue
            where = f"{path}.{name}" if path else name
            if name not in props or not isinstance(props[name], dict):
                warnings.append(f"el esquema de interfaz describe el campo «{where[:80]}», que el formulario no tiene")
                continue
            if not isinstance(sub, dict):
                raise ForeignFormError(f"campo «{where}»: su entrada del esquema de interfaz debe ser un objeto")
            prop = props[name]
            warnings.extend(_field_hints(prop, sub, where))
            if isinstance(prop.get("properties"), dict):
                pending.append((prop, sub, where))
    return result, warnings


def _field_hints(prop, hints, where) -> list[str]:
    warnings = []
    for key, value in hints.items():
        if not key.startswith("ui:"):
            continue
        if key in ("ui:help", "ui:description", "ui:placeholder", "ui:title", "ui:widget"):
            if not isinstance(value, str):
                raise ForeignFormError(f"campo «{where}»: «{key}» debe ser un texto")
            if len(value) > MAX_LABEL * 4:
                raise ForeignFormError(f"campo «{where}»: «{key}» es demasiado largo")
        if key == "ui:widget":
            widget = _UI_WIDGETS.get(value)
            if widget is None:
                warnings.append(f"campo «{where}»: el control «{value[:40]}» no se admite; se usa el predeterminado")
            else:
                prop["x-widget"] = widget
        elif key == "ui:help" and value.strip():
            prop["x-help"] = value.strip()
        elif key == "ui:placeholder" and value.strip():
            prop["x-placeholder"] = value.strip()
        elif key == "ui:description" and value.strip():
            prop["description"] = value.strip()
        elif key == "ui:title" and value.strip():
            prop["title"] = value.strip()
        elif key in ("ui:readonly", "ui:disabled") and value is True:
            prop["readOnly"] = True
    return warnings
