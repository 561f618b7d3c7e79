"""lxml's schema (XSD) errors told in Spanish (issue 17): each shape of libxml2's message gives what is
wrong and what to change; an unknown shape still gives a Spanish message, never lxml's English."""

from __future__ import annotations

import re

import pytest

from engine.models import xsd_messages

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SHAPES = [  # (lxml's message, context, what the Spanish message says)
    (f"Element '{B}sequenceFlow': The attribute 'sourceRef' is required but missing.", {},
     "falta el atributo obligatorio «sourceRef» (el elemento del que sale: conéctelo en el editor a su origen"),
    (f"Element '{B}task': The attribute 'x' is required but missing.", {},
     "falta el atributo obligatorio «x» (agréguelo con un valor válido)"),
    (f"Element '{B}outgoing', attribute 'id': The attribute 'id' is not allowed.", {},
     "el atributo «id» no va en «bpmn:outgoing»: quítelo"),
    (f"Element '{B}dataObject', attribute 'id': 'is_approval' is not a valid value of the atomic type 'xs:ID'.",
     {"same_id_line": 306}, "el id «is_approval» se repite (ya lo tiene otro elemento, en la línea 306)"),
    (f"Element '{B}task', attribute 'id': '1 x' is not a valid value of the atomic type 'xs:ID'.", {},
     "el atributo «id» vale «1 x», que no sirve: debe ser un id (empieza con una letra"),
    (f"Element '{B}process', attribute 'isExecutable': 'si' is not a valid value of the atomic type 'xs:boolean'.",
     {}, "el atributo «isExecutable» vale «si», que no sirve: debe ser true o false"),
    ("Element '{http://www.omg.org/spec/DD/20100524/DI}waypoint', attribute 'x': '' is not a valid value of the "
     "atomic type 'xs:double'.", {}, "el atributo «x» está vacío: debe ser un número"),
    (f"Element '{B}incoming': 'a b' is not a valid value of the atomic type 'xs:QName'.", {},
     "el contenido de «bpmn:incoming» vale «a b», que no sirve: debe ser el id de otro elemento"),
    (f"Element '{B}process', attribute 'processType': [facet 'enumeration'] The value 'x' is not an element of the "
     "set {'None', 'Public', 'Private'}.", {},
     "«processType» vale «x», que no es uno de los valores permitidos: «None»"),
    (f"Element '{B}task': Missing child element(s). Expected is ( {B}incoming ).", {},
     "a «bpmn:task» le falta un elemento dentro: se espera «bpmn:incoming»; agréguelo en el editor"),
    (f"Element '{B}nada': This element is not expected. Expected is one of ( {B}process, {B}message ).", {},
     "«bpmn:nada» no va en este lugar (aquí se espera «bpmn:process», «bpmn:message»): muévalo"),
    (f"Element '{B}nada': This element is not expected.", {}, "«bpmn:nada» no va en este lugar: muévalo"),
    ("Element '{http://www.omg.org/spec/DD/20100524/DI}waypoint': Element content is not allowed, because the "
     "content type is empty.", {}, "«di:waypoint» no puede contener otros elementos"),
    (f"Element '{B}incoming': Element content is not allowed, because the type definition is simple.", {},
     "«bpmn:incoming» no puede contener otros elementos"),
    (f"Element '{B}endEvent': Character content other than whitespace is not allowed because the content type is "
     "'element-only'.", {}, "«bpmn:endEvent» no puede contener texto suelto"),
    (f"Element '{B}conditionExpression', attribute '{{http://www.w3.org/2001/XMLSchema-instance}}type': The QName "
     "value 'true' of the xsi:type attribute does not resolve to a type definition.", {},
     "el tipo «true» del atributo «xsi:type» no existe en el esquema"),
    (f"Element '{B}process': Something libxml2 says that we do not know.", {},
     "no cumple el esquema BPMN 2.0 (XSD) en «bpmn:process»: revise sus atributos"),
    ("A message without an element at all.", {}, "no cumple el esquema BPMN 2.0 (XSD) en este elemento"),
]
ENGLISH = re.compile(r"\b(the|is|not|was|Element|attribute|expected|allowed|valid|missing|required|type)\b")


@pytest.mark.parametrize("message,context,says", SHAPES)
def test_every_shape_of_lxml_message_is_told_in_spanish(message, context, says):
    told = xsd_messages.describe(message, "BPMN 2.0", context)
    assert told.startswith("no cumple el esquema BPMN 2.0 (XSD)")
    assert says in told, told
    assert not ENGLISH.search(re.sub(r"«[^»]*»", "", told)), told
    assert "{http" not in told


def test_a_hostile_value_is_cut_and_escaped():
    told = xsd_messages.describe(f"Element '{B}task', attribute 'id': '{'x' * 500}\x1b' is not a valid value of the "
                                 "atomic type 'xs:ID'.", "BPMN 2.0")
    assert "\x1b" not in told and len(told) < 300


def test_a_schema_error_names_the_line_and_the_element(engine):
    content = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
               b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">\n'
               b'  <bpmn:process id="p" isExecutable="true">\n'
               b'    <bpmn:startEvent id="S" />\n'
               b'    <bpmn:sequenceFlow id="F" targetRef="E" />\n'
               b'    <bpmn:endEvent id="E"><bpmn:incoming>F</bpmn:incoming></bpmn:endEvent>\n'
               b'    <bpmn:task id="S" />\n'
               b"  </bpmn:process>\n</bpmn:definitions>\n")
    found = {(p.line, p.element): p.message for p in engine.validate([("x.bpmn", content)])}
    assert "falta el atributo obligatorio «sourceRef»" in found[(5, "sequenceFlow F")]
    assert "el id «S» se repite (ya lo tiene otro elemento, en la línea 4)" in found[(7, "task S")]


def test_a_process_or_a_decision_without_id_is_refused_naming_its_line():
    """The schema lets a process or a decision without id through; it is refused in Spanish (it used to
    crash the check of calls between processes)."""
    from engine.models.validation import check_files
    from tests.minimal_models import bpmn, decision, dmn, flow

    process = bpmn("p", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "E") + '<bpmn:endEvent id="E"/>')
    [problem] = check_files([("a.bpmn", process.replace(b'<bpmn:process id="p"', b"<bpmn:process"))])[1]
    assert (problem.line, problem.element) == (3, "process") and "el proceso no tiene id" in problem.message
    table = dmn("d", decision("x1", "o", "v")).replace(b'<decision id="x1"', b"<decision")
    problems = check_files([("a.dmn", table)])[1]
    assert any(p.line == 3 and p.element == "decision" and "la decisión no tiene id" in p.message for p in problems)
