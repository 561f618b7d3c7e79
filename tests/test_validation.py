"""Deploy refuses bad models with a message naming the element, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.basics.errors import DeployError
from engine.models.validation import collect_files

MODEL = Path(__file__).parent / "models" / "diagnostico"


def _files(**replace):
    files = dict(collect_files([MODEL]))
    bpmn = files["diagnostico_rapido.bpmn"].decode()
    for old, new in replace.items():
        assert old in bpmn, old
        bpmn = bpmn.replace(old, new)
    files["diagnostico_rapido.bpmn"] = bpmn.encode()
    return list(files.items())


CASES = [
    ("unknown operator", {'id="registrar_sra"': 'id="borrar_todo"'},
     "serviceTask Service_Sra (Registrar diagnóstico)", "operador desconocido 'borrar_todo'"),
    ("unknown form", {'value="dr_llamada.json"': 'value="no_existe.json"'},
     "userTask Task_Llamada (Llamar a la empresa)", "formulario desconocido 'no_existe'"),
    ("unknown decision", {">dr_nivel<": ">no_existe<"},
     "businessRuleTask Rule_Nivel (Determinar nivel)", "decisión desconocida 'no_existe'"),
    ("missing parameter", {'<spiffworkflow:parameter id="region" type="str" value="region" />': ""},
     "serviceTask Service_Derivar (Derivar a SERCOTEC)", "falta el parámetro 'region'"),
    ("unknown parameter", {'id="ventas_uf" type="any"': 'id="ventas" type="any"'},
     "serviceTask Service_Tamano (Verificar tamaño)", "no tiene el parámetro 'ventas'"),
    ("lane that is not a role", {'lane id="ejecutivo_cpe" name="Ejecutivo CPE"': 'lane id="gerente" name="Gerente"'},
     "lane gerente (Gerente)", "el carril «Gerente» no corresponde a un rol"),
    ("import in script", {'puntaje = resultado_cuestionario["puntaje"]': "import os"},
     "scriptTask Script_Puntaje (Guardar puntaje)", "código no permitido en el script: no se permiten imports"),
    ("dunder in condition", {'nivel == "bajo"': "().__class__.__bases__"},
     "sequenceFlow F9", "código no permitido en la condición: nombre no permitido"),
    ("unreachable task", {'<bpmn:sequenceFlow id="F13" sourceRef="Timer_Espera" targetRef="Task_Llamada" />':
                          '<bpmn:sequenceFlow id="F13" sourceRef="Timer_Espera" targetRef="Service_Notificar" />'},
     "userTask Task_Llamada (Llamar a la empresa)", "no es alcanzable desde ningún evento de inicio"),
    ("overlapping conditions", {'nivel == "bajo"</bpmn:conditionExpression>':
                                'nivel == "bajo"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                                '    <bpmn:sequenceFlow id="F9b" sourceRef="Gateway_Nivel" targetRef="Service_Sra">\n'
                                '      <bpmn:conditionExpression>nivel  ==  "bajo"</bpmn:conditionExpression>',
                                '<bpmn:outgoing>F10</bpmn:outgoing>': '<bpmn:outgoing>F10</bpmn:outgoing>'
                                '<bpmn:outgoing>F9b</bpmn:outgoing>'},
     "sequenceFlow F9b", "repite la del flujo F9: las dos salidas se superponen"),
    ("name longer than the history keeps", {'name="Llamar a la empresa"': 'name="' + "Llamar " * 50 + '"'},
     "userTask Task_Llamada", "el nombre tiene más de 300 caracteres"),
    ("id longer than the history keeps", {'id="F13"': 'id="F' + "1" * 130 + '"'},
     "sequenceFlow F111", "el id tiene más de 120 caracteres"),
]


@pytest.mark.parametrize("label,replace,element,message", CASES, ids=[c[0] for c in CASES])
def test_semantic_errors_name_the_element(engine, label, replace, element, message):
    with pytest.raises(DeployError) as info:
        engine.deploy(_files(**replace))
    texts = [str(p) for p in info.value.problems]
    assert any(element in t and message in t for t in texts), texts
    assert all(t.startswith("diagnostico_rapido.bpmn:") for t in texts)
    assert engine.models() == []  # nothing stored


HOSTILE = [
    ("malformed", b"<bpmn:definitions", "XML mal formado"),
    ("xxe", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', "DOCTYPE"),
    ("bomb", b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
     "DOCTYPE"),
    ("not utf-8", b"\xff\xfe<x/>", "UTF-8"),
    ("xsd", b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:nada/>'
            b"</bpmn:definitions>", "nada: no cumple el esquema BPMN 2.0 (XSD): «bpmn:nada» no va en este lugar"),
]


@pytest.mark.parametrize("label,content,message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_or_malformed_xml_is_refused(engine, label, content, message):
    with pytest.raises(DeployError) as info:
        engine.deploy([("x.bpmn", content)])
    assert any(message in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]
    assert engine.models() == []


def test_malformed_form_is_refused(engine):
    files = dict(collect_files([MODEL]))
    files["dr_llamada.json"] = b'{"type": "object", "properties": {"x": {"type": "nada"}}}'
    with pytest.raises(DeployError) as info:
        engine.deploy(list(files.items()))
    assert any("dr_llamada.json" in str(p) and "JSON Schema inválido" in str(p) for p in info.value.problems)


def test_identical_redeploy_is_a_noop_and_changes_make_versions(engine):
    first = engine.deploy(collect_files([MODEL]), author="ana", message="v1")
    assert all(r["created"] and r["version"] == 1 for r in first)
    again = engine.deploy(collect_files([MODEL]), author="ana", message="v1 otra vez")
    assert not any(r["created"] for r in again)
    changed = _files(**{'name="Llamar a la empresa"': 'name="Llamar a la pyme"'})
    third = {(r["key"]): r for r in engine.deploy(changed, author="ana", message="renombrar")}
    assert third["diagnostico_rapido"]["created"] and third["diagnostico_rapido"]["version"] == 2
    assert not third["dr_llamada"]["created"]


def test_form_change_gives_the_process_a_new_version_but_running_cases_keep_theirs(engine):
    engine.deploy(collect_files([MODEL]))
    case_id = engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": "Uno", "region": "CL-RM",
                                                  "ventas_uf": 5000})
    files = dict(collect_files([MODEL]))
    files["dr_cuestionario.json"] = files["dr_cuestionario.json"].replace(b'"x-points": 10}]}', b'"x-points": 20}]}')
    results = {r["key"]: r for r in engine.deploy(list(files.items()))}
    assert results["dr_cuestionario"]["version"] == 2
    assert results["diagnostico_rapido"]["version"] == 2  # pins the new form version
    assert engine.case(case_id)["version"] == 1
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "varios"}})
    assert engine.case(case_id)["data"]["puntaje"] == 100.0  # v1 form: max 20 points in total
