"""Property-based tests of every form in forms/ (issue 8, hostile input).

For each form, hypothesis-jsonschema generates submissions from its JSON Schema (RUTs from a
strategy of valid RUTs, since `format: rut` is ours): valid ones pass the form validation and
`Engine.complete` on a task that uses the form; invalid ones (wrong types, unknown fields,
huge strings, invalid RUTs) are refused with a Spanish message per field and change nothing
(the task stays ready, no history event, the case data as before).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sqlalchemy import func, select
from stdnum.cl import rut as stdnum_rut

from engine.basics.case_values import check as check_value
from engine.basics.errors import FormError, ValueRefused
from engine.models.forms import Form, load_form
from engine.store.schema import CaseEvent

from .jsonschema_compat import patch

patch()

FORMS = Path(__file__).resolve().parent.parent / "forms"
FORM_FILES = sorted(FORMS.glob("*.json"))
SCHEMAS = {path.stem: load_form(path.read_text(encoding="utf-8")) for path in FORM_FILES}
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
SPANISH = re.compile(r"(Este campo es obligatorio|Debe ser|Debe tener|Seleccione|Contiene campos no permitidos|"
                     r"RUT inválido|Fecha no válida|Correo electrónico no válido|El formato no es válido|"
                     r"Valor no permitido|Puede indicar|Hay elementos repetidos|El envío supera)")


def _rut_text(number: int, style: int) -> str:
    body = str(number)
    check = stdnum_rut.calc_check_digit(body)
    plain = body + check
    return [stdnum_rut.format(plain), f"{body}-{check}", plain][style]


RUTS = st.builds(_rut_text, st.integers(1_000_000, 99_999_999), st.integers(0, 2))
BAD_RUTS = st.builds(lambda n: f"{n}-{'0' if stdnum_rut.calc_check_digit(str(n)) != '0' else '1'}",
                     st.integers(1_000_000, 99_999_999)) | st.sampled_from(["", "abc", "12.345", "11.111.111-K"])


def sendable(schema):
    """The schema without its `"readOnly": true` fields: a form shows them with the case's value and never
    sends them (the engine refuses a submission that carries one)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    props = {k: sendable(v) for k, v in schema["properties"].items() if not (isinstance(v, dict) and v.get("readOnly"))}
    result = {**schema, "properties": props}
    if isinstance(schema.get("required"), list):
        result["required"] = [r for r in schema["required"] if r in props]
    return result


def valid(schema):
    """Submissions the schema accepts that are also plain JSON a case may hold (engine.basics.case_values: no NUL
    character, integers of at most 18 digits, …)."""
    return from_schema(sendable(schema), custom_formats={"rut": RUTS}, allow_x00=False).filter(_plain_json)


def _plain_json(value) -> bool:
    try:
        check_value(value)
    except ValueRefused:
        return False
    return True


def _paths(schema, prefix=()):
    """(path, property schema) of every property, nested objects included."""
    for name, prop in schema.get("properties", {}).items():
        yield prefix + (name,), prop
        if isinstance(prop, dict) and prop.get("type") == "object":
            yield from _paths(prop, prefix + (name,))


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def _typed(schema):
    return [(p, s) for p, s in _paths(sendable(schema))
            if isinstance(s, dict) and s.get("type") in ("string", "integer", "number", "boolean")]


def ways(schema) -> list[str]:
    """The ways a submission of this form can be spoiled: unknown field, wrong type, huge text, bad RUT."""
    typed = _typed(schema)
    found = ["unknown"] if schema.get("additionalProperties") is False else []
    if typed:
        found += ["type", "huge"] if any(s.get("type") == "string" for _, s in typed) else ["type"]
    if any(s.get("format") == "rut" for _, s in typed):
        found.append("rut")
    return found


@st.composite
def invalid(draw, schema, way=None):
    """A valid submission spoiled in one way (`way`, or one drawn) that the schema forbids."""
    data = draw(valid(schema))
    typed = _typed(schema)
    way = way or draw(st.sampled_from(ways(schema)))
    if way == "unknown":
        data[draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
            lambda k: k not in schema.get("properties", {})))] = draw(st.text(max_size=5))
    elif way == "type":
        path, prop = draw(st.sampled_from(typed))
        wrong = {"string": st.integers() | st.lists(st.integers(), max_size=2),
                 "integer": st.text(max_size=5) | st.floats(0.5, 10.5).filter(lambda x: x != int(x)),
                 "number": st.text(max_size=5) | st.booleans(), "boolean": st.text(max_size=5) | st.integers()}
        _set(data, path, draw(wrong[prop["type"]]))
    elif way == "huge":
        path, prop = draw(st.sampled_from([(p, s) for p, s in typed if s.get("type") == "string"]))
        _set(data, path, "x" * draw(st.sampled_from([300_000, 2_000_000])))
    else:
        path, _ = next((p, s) for p, s in typed if s.get("format") == "rut")
        _set(data, path, draw(BAD_RUTS))
    return data


def test_every_form_is_covered():
    assert len(SCHEMAS) == len(FORM_FILES) >= 11
    assert all({"unknown", "type", "huge"} <= set(ways(schema)) for schema in SCHEMAS.values())
    assert any("rut" in ways(schema) for schema in SCHEMAS.values())


@pytest.mark.parametrize("key", sorted(SCHEMAS))
def test_valid_submissions_are_accepted(key):
    form = Form(key, 1, SCHEMAS[key])

    @SETTINGS
    @given(valid(SCHEMAS[key]))
    def check(data):
        form.validate(data)
    check()


@pytest.mark.parametrize(("key", "way"), [(key, way) for key in sorted(SCHEMAS) for way in ways(SCHEMAS[key])])
def test_invalid_submissions_are_refused_in_spanish(key, way):
    form = Form(key, 1, SCHEMAS[key])

    @SETTINGS
    @given(invalid(SCHEMAS[key], way))
    def check(data):
        with pytest.raises(FormError) as refused:
            form.validate(data)
        assert refused.value.errors and all(SPANISH.search(m) for m in refused.value.errors.values()), \
            refused.value.errors
    check()


# -- through the engine: one deployed process per form, one user task using it ------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="prueba_{key}" name="Prueba {key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="ejecutivo_cpe" name="Ejecutivo CPE">
      <bpmn:flowNodeRef>Inicio</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_Form</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Fin</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_Form" name="Completar {key}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{key}.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Task_Form" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Form" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def per_form(engine):
    files = {path.name: path.read_bytes() for path in FORM_FILES}
    files.update({f"prueba_{key}.bpmn": BPMN.format(key=key).encode() for key in SCHEMAS})
    engine.deploy(sorted(files.items()), author="test", message="un proceso por formulario")
    return engine


def _events(engine, case_id) -> int:
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))


@pytest.mark.parametrize("key", sorted(SCHEMAS))
def test_the_engine_refuses_invalid_and_completes_valid_submissions(per_form, key):
    engine = per_form
    start = {"region": "CL-RM"}

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.data())
    def check(data):
        case_id = engine.start(f"prueba_{key}", dict(start))
        [task] = engine.ready_tasks(case_id=case_id)
        before = (engine.case(case_id)["data"], _events(engine, case_id))
        bad = data.draw(invalid(SCHEMAS[key]), label="invalid")
        with pytest.raises((FormError, ValueRefused)) as refused:  # ValueRefused: case_values, checked first
            engine.complete(task["id"], bad, user="eje.rm")
        messages = refused.value.errors.values() if isinstance(refused.value, FormError) else [str(refused.value)]
        assert all(SPANISH.search(m) for m in messages), messages
        assert engine.task(task["id"])["state"] == "ready"
        assert (engine.case(case_id)["data"], _events(engine, case_id)) == before
        good = data.draw(valid(SCHEMAS[key]), label="valid")
        assert engine.complete(task["id"], good, user="eje.rm")["status"] == "completed"
        stored = engine.case(case_id)["data"]
        assert set(good) <= set(stored)
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    check()


def test_a_huge_submission_is_refused_quickly():
    form = Form("registro_empresa", 1, SCHEMAS["registro_empresa"])
    with pytest.raises(FormError, match="El envío supera el tamaño máximo permitido"):
        form.validate({"razon_social": "x" * 1_000_000})


def test_schemas_are_json():
    for path in FORM_FILES:
        assert json.loads(path.read_text(encoding="utf-8"))["type"] == "object"
