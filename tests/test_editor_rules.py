"""Deploy-time rules behind the decision and form editors: every DMN cell as the engine will run
it, the hit policies it implements, and the shape of a form the web renderer can show."""

from __future__ import annotations

import json

import pytest

from engine.models import dmn_validation
from engine.models.forms import load_form
from engine.models.validation import check_files


@pytest.mark.parametrize("text, ok", [
    (None, True), ("-", True), ("  -  ", True), ('"rojo"', True), ("True", True), ("< 35", True),
    (">= 65", True), ("35 <= ? < 65", True), ('in ["a", "b"]', True), ("'¿?'", True), ("!= 3", True),
    ("  ", False), ("< 35 y", False), ("rojo plan", False), ("__import__('os')", False),
    ("? .__class__", False), ("lambda: 1", False), ('"abierto', False),
])
def test_input_cells(text, ok):
    assert (dmn_validation.input_entry_problem(text) is None) is ok


def test_a_huge_input_cell_is_refused_before_the_question_mark_scan():
    """The "?" scan (SpiffWorkflow's own regex) is quadratic: 100 000 "?" took minutes. The size
    cap comes first, so a deploy check of any cell is fast."""
    import time
    began = time.monotonic()
    assert "4000" in dmn_validation.input_entry_problem("?" * 100_000)
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("text, ok", [
    (None, True), ("", True), ('"verde"', True), ("10", True), ("puntaje * 2", True), ('["a", "b"]', True),
    ("rojo plan", False), ("import os", False), ("x.__dict__", False), ('"verde', False),
])
def test_output_cells(text, ok):
    assert (dmn_validation.output_entry_problem(text) is None) is ok


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="http://x">
  <decision id="nivel" name="Nivel">
    <decisionTable id="T" {policy}>
      <input id="I1" label="Puntaje">
        <inputExpression id="E1" typeRef="number"><text>{expr}</text></inputExpression>
      </input>
      {outputs}
      <rule id="R1"><inputEntry id="C1"><text>{cell}</text></inputEntry>{entries}</rule>
    </decisionTable>
  </decision>
</definitions>"""
ONE = '<output id="O1" label="Nivel" name="nivel" typeRef="string" />'
TWO = ONE + '<output id="O2" label="Color" typeRef="string" />'


def _problems(policy='hitPolicy="FIRST"', expr="puntaje", outputs=ONE, cell="&lt; 50",
              entries='<outputEntry id="V1"><text>"bajo"</text></outputEntry>'):
    xml = DMN.format(policy=policy, expr=expr, outputs=outputs, cell=cell, entries=entries)
    return [p.message for p in check_files([("nivel.dmn", xml.encode())])[1]]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, None),
    ({"policy": ""}, None),  # UNIQUE by default
    ({"policy": 'hitPolicy="COLLECT"'}, None),
    ({"policy": 'hitPolicy="ANY"'}, "política de aciertos ANY"),
    ({"policy": 'hitPolicy="RULE ORDER"'}, "política de aciertos RULE ORDER"),
    ({"policy": 'hitPolicy="COLLECT" aggregation="COUNT"'}, "agregación COUNT"),
    ({"expr": " "}, "la entrada «Puntaje» no tiene expresión: se leerá la variable del caso «Puntaje»"),
    ({"cell": "&lt; 50 o"}, "regla 1 (R1), entrada «Puntaje»"),
    ({"entries": '<outputEntry id="V1"><text>bajo medio</text></outputEntry>'}, "regla 1 (R1), salida «Nivel»"),
    ({"outputs": TWO, "entries": '<outputEntry id="V1"><text>"a"</text></outputEntry>'
                                 '<outputEntry id="V2"><text>"b"</text></outputEntry>'},
     "la salida «Color» no tiene nombre"),
    ({"outputs": TWO}, "no tiene una celda por columna"),
])
def test_decision_tables(kwargs, expected):
    problems = _problems(**kwargs)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("label, severity, says", [
    ("puntaje", "warning", "se leerá la variable del caso «puntaje», como dice su etiqueta"),
    ("Puntaje del cliente", "error", "escriba la expresión que da su valor"),
    ("class", "error", "escriba la expresión que da su valor"),  # a Python keyword is no variable
    ("_x", "error", "escriba la expresión que da su valor"),
    ("", "error", "la entrada «I1» no tiene expresión"),
])
def test_an_input_without_expression_reads_the_variable_its_label_names(label, severity, says):
    xml = DMN.format(policy="", expr="", outputs=ONE, cell="&lt; 50",
                     entries='<outputEntry id="V1"><text>"bajo"</text></outputEntry>')
    xml = xml.replace('label="Puntaje"', f'label="{label}"')
    [problem] = check_files([("nivel.dmn", xml.encode())])[1]
    assert problem.severity == severity and says in problem.message, str(problem)


def test_an_input_read_from_its_label_decides(engine):
    xml = DMN.format(policy="", expr="", outputs=ONE, cell="&lt; 50",
                     entries='<outputEntry id="V1"><text>"bajo"</text></outputEntry>').replace('"Puntaje"', '"puntaje"')
    bpmn = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="p_nivel" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="R" camunda:decisionRef="nivel"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="R" />
    <bpmn:sequenceFlow id="F2" sourceRef="R" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>"""
    files = [("nivel.dmn", xml.encode()), ("p.bpmn", bpmn.encode())]
    deployed = engine.deploy(files)
    assert [p.severity for p in deployed.warnings] == ["warning"]
    case = engine.case(engine.start("p_nivel", {"region": "CL-RM", "puntaje": 20}))
    assert case["status"] == "completed" and case["data"]["nivel"] == "bajo"


def _form(properties):
    return json.dumps({"type": "object", "properties": properties})


def _nested(depth):
    node = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"g": node}}
    return node


@pytest.mark.parametrize("properties, expected", [
    ({"rut": {"type": "string", "format": "rut"}}, None),
    ({"g": _nested(7)}, None),
    ({"g": _nested(9)}, "anida más de 8 grupos"),
    ({f"c{i}": {"type": "string"} for i in range(400)}, None),
    ({f"c{i}": {"type": "string"} for i in range(401)}, "más de 400 campos"),
    ({"monto.usd": {"type": "number"}}, "«monto.usd» no es válido"),
    ({"año": {"type": "integer"}}, "«año» no es válido"),
    ({"a": False}, "debe ser un objeto JSON Schema"),
    ({"a": {"type": "array", "items": True}}, 'necesita "items"'),
    ({"a": {"type": "string", "oneOf": [{"const": "x"}, True]}}, "las opciones de «a»"),
    ({"a": {"type": "array", "items": {"oneOf": [True]}}}, "las opciones de «a»"),
])
def test_form_rules(properties, expected):
    if expected is None:
        assert load_form(_form(properties))["type"] == "object"
    else:
        with pytest.raises(ValueError, match=expected):
            load_form(_form(properties))
