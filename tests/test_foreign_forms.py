"""User tasks whose form comes from another modeler: Camunda's generated task forms (camunda:formData),
SpiffArena's JSON Schema + UI schema files, and a task with no form (the confirmation form)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.basics.errors import DeployError, FormError, errors_of
from engine.models import foreign_forms
from engine.models.forms import Form, load_form
from engine.models.validation import check_files, collect_files

MODELS = Path(__file__).resolve().parent / "models" / "interop_forms"
CAMUNDA = MODELS / "camunda_formdata.bpmn"
SPIFF = MODELS / "spiffarena"
PLAIN = MODELS / "sin_formulario.bpmn"
CASE = {"rut": "76086428-5", "razon_social": "Viña Sur SpA", "region": "CL-RM"}


def camunda(fields: str, task_id="t", name="Tarea") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://x">'
            '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
            f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><camunda:formData>{fields}'
            '</camunda:formData></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>'
            f'<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="{task_id}"/>'
            f'<bpmn:sequenceFlow id="f2" sourceRef="{task_id}" targetRef="e"/>'
            '</bpmn:process></bpmn:definitions>').encode()


def errors(files) -> list[str]:
    return [p.message for p in errors_of(check_files(files)[1])]


def forms_of(files) -> dict:
    artifacts, problems = check_files(files)
    assert errors_of(problems) == []
    return {a.key: json.loads(a.content) for a in artifacts if a.kind == "form"}


def run_one(engine, process_id, data):
    case_id = engine.start(process_id, CASE)
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["lane"] == "ejecutivo_cpe"
    return case_id, task


# -- camunda:formData -------------------------------------------------------------------------

def test_camunda_form_data_becomes_a_form_of_ours():
    schema = forms_of(collect_files([CAMUNDA]))["solicitud_camunda.registrar_solicitud"]
    props = schema["properties"]
    assert schema["title"] == "Registrar solicitud" and schema["type"] == "object"
    assert list(props) == ["producto", "cajas", "urgente", "fecha_envio", "mercado", "razon_social"]
    assert props["producto"] == {"type": "string", "title": "Producto", "minLength": 2, "maxLength": 40,
                                 "default": "Vino"}
    assert props["cajas"] == {"type": "integer", "title": "Cajas", "minimum": 1, "maximum": 500}
    assert props["urgente"]["default"] is False and props["fecha_envio"]["format"] == "date"
    assert props["mercado"]["oneOf"][1] == {"const": "pe", "title": "Perú"}
    assert props["razon_social"]["readOnly"] is True
    assert schema["required"] == ["producto"]


def test_camunda_task_runs_validates_and_pins_its_form(engine):
    engine.deploy(collect_files([CAMUNDA]))
    process = next(m for m in engine.models() if m["kind"] == "process")
    assert process["dependencies"]["forms"] == {"solicitud_camunda.registrar_solicitud": 1}
    case_id, task = run_one(engine, "solicitud_camunda", CASE)
    assert task["form_id"] == "solicitud_camunda.registrar_solicitud"
    assert task["form"]["properties"]["cajas"]["maximum"] == 500
    for bad, field, message in (({"producto": "V", "cajas": 3}, "producto", "al menos 2"),
                                ({"producto": "Vino", "cajas": 900}, "cajas", "menor o igual a 500"),
                                ({"producto": "Vino", "mercado": "ar"}, "mercado", "Seleccione una"),
                                ({"cajas": 3}, "producto", "obligatorio"),
                                ({"producto": "Vino", "razon_social": "Otra"}, "razon_social", "solo lectura")):
        with pytest.raises(FormError) as refused:
            engine.complete(task["id"], bad)
        assert message in refused.value.errors[field]
    assert engine.ready_tasks(case_id=case_id)[0]["id"] == task["id"]  # nothing changed
    assert engine.case(case_id)["data"]["razon_social"] == "Viña Sur SpA"
    engine.complete(task["id"], {"producto": "Vino", "cajas": 12, "mercado": "cn", "fecha_envio": "2026-12-24"})
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["data"]["cajas"] == 12 and case["data"]["mercado"] == "cn"
    # as in Camunda, a field left empty is in the case as null; the read-only one keeps the case's value
    assert case["data"]["urgente"] is None and case["data"]["razon_social"] == "Viña Sur SpA"
    again = engine.deploy(collect_files([CAMUNDA]))
    assert not any(r["created"] for r in again)  # the same diagram: the same form, no new version


@pytest.mark.parametrize(("fields", "expected"), [
    ('<camunda:formField id="a b" label="x" type="string"/>', "no tiene un id válido"),
    ('<camunda:formField id="1x" label="x" type="string"/>', "no tiene un id válido"),
    ('<camunda:formField id="" label="x" type="string"/>', "no tiene un id válido"),
    ('<camunda:formField id="typename" label="x" type="string"/>', "reservado"),
    ('<camunda:formField id="a" label="x" type="string"/><camunda:formField id="a" type="long"/>', "repetido"),
    ('<camunda:formField id="a" type="custom:Money"/>', "no se admite"),
    ('<camunda:formField id="a" type="enum"/>', "no tiene valores"),
    ('<camunda:formField id="a" type="enum"><camunda:value id="x"/><camunda:value id="x"/></camunda:formField>',
     "repite el valor"),
    ('<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="maxlength" '
     'config="mucho"/></camunda:validation></camunda:formField>', "número entero"),
    ("", "no tiene campos"),
])
def test_camunda_form_data_refused_with_a_message(fields, expected):
    messages = errors([("p.bpmn", camunda(fields))])
    assert len(messages) == 1 and messages[0].startswith("camunda:formData: ") and expected in messages[0]


def test_hostile_form_data_is_refused_or_escaped():
    many = "".join(f'<camunda:value id="v{i}" name="V{i}"/>' for i in range(10_000))
    [message] = errors([("p.bpmn", camunda(f'<camunda:formField id="a" type="enum">{many}</camunda:formField>'))])
    assert "10000 valores" in message and "500" in message
    huge = "x" * 5000
    [message] = errors([("p.bpmn", camunda(f'<camunda:formField id="a" label="{huge}" type="string"/>'))])
    assert "etiqueta" in message
    fields = "".join(f'<camunda:formField id="c{i}" type="string"/>' for i in range(401))
    [message] = errors([("p.bpmn", camunda(fields))])
    assert "más de 400 campos" in message
    html = '<camunda:formField id="a" label="&lt;script&gt;alert(1)&lt;/script&gt;" type="string"/>'
    schema = forms_of([("p.bpmn", camunda(html))])["p.t"]
    assert schema["properties"]["a"]["title"] == "<script>alert(1)</script>"  # data; the page escapes it


def test_camunda_warnings_do_not_refuse():
    fields = ('<camunda:formField id="a" type="string" defaultValue="${usuario}"><camunda:validation>'
              '<camunda:constraint name="validator" config="com.acme.Check"/></camunda:validation>'
              '</camunda:formField>')
    artifacts, problems = check_files([("p.bpmn", camunda(fields))])
    assert errors_of(problems) == []
    assert sorted(p.message.split(": ", 2)[-1][:30] for p in problems) == [
        "se ignora el valor por defecto", "se ignora la restricción «vali"]


def test_a_long_pair_of_ids_gets_a_short_key():
    key = foreign_forms.generated_key("p" * 120, "t" * 120)
    assert len(key) <= 120 and key == foreign_forms.generated_key("p" * 120, "t" * 120)


# -- SpiffArena ---------------------------------------------------------------------------------

def test_spiffarena_folder_deploys_with_its_ui_schema():
    artifacts, problems = check_files(collect_files([SPIFF]))
    assert errors_of(problems) == []
    warned = " | ".join(p.message for p in problems)
    assert "metadatos de un modelo de SpiffArena" in warned and '"type": "object"' in warned
    [form] = [a for a in artifacts if a.kind == "form"]
    schema = json.loads(form.content)
    assert form.key == "datos-envio-schema" and schema["type"] == "object"
    assert schema["x-order"] == ["bultos", "destinatario", "*"]
    props = schema["properties"]
    assert props["notas"]["x-widget"] == "textarea"
    assert props["notas"]["description"] == "Indicaciones para el transportista"
    assert props["destinatario"]["x-help"] == "Nombre y apellido"
    assert props["destinatario"]["x-placeholder"] == "p. ej. Ana Pérez"
    assert props["transporte"]["oneOf"] == [{"const": "aereo", "title": "Aéreo"},
                                            {"const": "maritimo", "title": "Marítimo"}]
    assert props["codigo_interno"]["x-widget"] == "hidden"


def test_spiffarena_task_runs_and_validates(engine):
    engine.deploy(collect_files([SPIFF]))
    case_id, task = run_one(engine, "datos_envio", CASE)
    assert task["form_id"] == "datos-envio-schema"
    with pytest.raises(FormError) as refused:
        engine.complete(task["id"], {"destinatario": "Ana", "bultos": 0, "transporte": "tren"})
    assert set(refused.value.errors) == {"bultos", "transporte"}
    engine.complete(task["id"], {"destinatario": "Ana", "bultos": 2, "transporte": "maritimo"})
    assert engine.case(case_id)["status"] == "completed"


def spiff_files(schema, ui=None, ui_name="f-uischema.json"):
    task = ('<spiffworkflow:property name="formJsonSchemaFilename" value="f-schema.json"/>'
            + (f'<spiffworkflow:property name="formUiSchemaFilename" value="{ui_name}"/>' if ui_name else ""))
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://x">'
            '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/><bpmn:userTask id="t">'
            f'<bpmn:extensionElements><spiffworkflow:properties>{task}</spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="t" '
            'targetRef="e"/></bpmn:process></bpmn:definitions>')
    files = [("p.bpmn", bpmn.encode()), ("f-schema.json", json.dumps(schema).encode())]
    if ui is not None:
        files.append((ui_name, (ui if isinstance(ui, str) else json.dumps(ui)).encode()))
    return files


@pytest.mark.parametrize(("schema", "expected"), [
    ({"properties": {"c": {"type": "string", "anyOf": ["options_from_task_data_var:colores"]}}},
     "options_from_task_data_var"),
    ({"definitions": {"lista": {"type": "string", "anyOf": ["options_from_task_data_var:x"]}},
      "properties": {"c": {"$ref": "#/definitions/lista"}}}, "campo «lista»: las opciones tomadas de los datos"),
    ({"properties": {"a": {"type": "string"}}, "dependencies": {"a": {"oneOf": []}}}, "dependencies"),
    ({"properties": {"f": {"type": "string", "format": "data-url"}}}, "archivos adjuntos"),
    ({"properties": {"mi-campo": {"type": "string"}}}, "«mi-campo» no es válido"),
    ({"properties": {"t": {"enum": ["a", "b"], "enumNames": ["A"]}}}, "enumNames"),
])
def test_spiffarena_schema_refused_with_a_message_naming_the_file(schema, expected):
    problems = errors_of(check_files(spiff_files(schema))[1])
    assert problems[0].file == "f-schema.json" and expected in problems[0].message
    assert [p.message for p in problems[1:]] == ["formulario desconocido 'f-schema'"]  # the task that uses it


def test_spiffarena_ui_schema_problems():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    missing = check_files(spiff_files(schema))[1]
    assert errors_of(missing) == [] and "no se encontró el esquema de interfaz" in missing[0].message
    bad = errors_of(check_files(spiff_files(schema, '{"ui:order": '))[1])
    assert bad[0].file == "f-uischema.json" and "JSON mal formado" in bad[0].message
    bad = errors_of(check_files(spiff_files(schema, {"ui:order": "a"}))[1])
    assert "ui:order" in bad[0].message
    odd = check_files(spiff_files(schema, {"zz": {"ui:widget": "starRating"}, "a": {"ui:widget": "rating"}}))[1]
    assert errors_of(odd) == [] and len(odd) == 2
    alone = check_files([("otra-uischema.json", b'{"a": {"ui:widget": "textarea"}}')])[1]
    assert errors_of(alone) == [] and "se ignora" in alone[0].message


def test_our_forms_are_stored_as_written():
    text = '{"title": "F", "type": "object",\n "properties": {"ok": {"type": "boolean"}}}'
    [form] = check_files([("f.json", text.encode())])[0]
    assert form.content == text


def test_form_annotations_are_checked():
    with pytest.raises(ValueError, match="x-widget"):
        load_form(json.dumps({"type": "object", "properties": {"a": {"type": "string", "x-widget": "slider"}}}))
    with pytest.raises(ValueError, match="x-order"):
        load_form(json.dumps({"type": "object", "properties": {}, "x-order": "a"}))


# -- no form: confirmation ----------------------------------------------------------------------

def test_task_without_form_asks_for_confirmation(engine):
    assert errors(collect_files([PLAIN])) == []
    engine.deploy(collect_files([PLAIN]))
    case_id, task = run_one(engine, "aprobacion_simple", CASE)
    assert task["form_id"] == foreign_forms.CONFIRM_FORM_KEY
    assert task["form"]["x-confirmacion"] is True and list(task["form"]["properties"]) == ["comentario"]
    with pytest.raises(FormError) as refused:
        engine.complete(task["id"], {"comentario": "x" * 2001})
    assert "2000" in refused.value.errors["comentario"]
    with pytest.raises(FormError):
        engine.complete(task["id"], {"aprobado": True})
    engine.complete(task["id"], {"comentario": "Revisado"})
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["data"]["comentario"] == "Revisado"


def test_confirmation_key_is_reserved():
    text = json.dumps({"type": "object", "properties": {}}).encode()
    assert "reservado" in errors([(f"{foreign_forms.CONFIRM_FORM_KEY}.json", text)])[0]


def test_read_only_field_is_not_required_and_never_sent():
    form = Form("f", 1, {"type": "object", "required": ["a", "b"],
                         "properties": {"a": {"type": "string", "readOnly": True}, "b": {"type": "string"}}})
    assert form.validate({"b": "x"}) == {"b": "x"}
    with pytest.raises(FormError) as refused:
        form.validate({"a": "y", "b": "x"})
    assert refused.value.errors == {"a": "a: Este campo es de solo lectura."}


@pytest.mark.parametrize(("nulls", "answers", "stored"), [
    (True, {"b": "x"}, {"b": "x", "c": None}),  # a left empty; the read-only a is never written
    (True, {"b": "x", "c": 2}, {"b": "x", "c": 2}),
    (False, {"b": "x"}, {"b": "x"}),  # our own forms: what was answered, nothing else
    (None, {"b": "x"}, {"b": "x"}),
])
def test_a_generated_form_stores_the_fields_left_empty_as_null(nulls, answers, stored):
    schema = {"type": "object", "properties": {"a": {"type": "string", "readOnly": True}, "b": {"type": "string"},
                                               "c": {"type": "integer"}}}
    if nulls is not None:
        schema["x-vacios-nulos"] = nulls
    assert Form("f", 1, schema).validate(answers) == stored


def test_form_data_forms_say_fields_left_empty_are_null():
    schema = forms_of(collect_files([CAMUNDA]))["solicitud_camunda.registrar_solicitud"]
    assert schema["x-vacios-nulos"] is True
    load_form(json.dumps(schema))  # the annotation is one of ours


def test_deploy_refuses_what_validate_refuses(engine):
    files = [("p.bpmn", camunda('<camunda:formField id="a b" type="string"/>'))]
    with pytest.raises(DeployError):
        engine.deploy(files)
    assert engine.models() == []


def test_export_leaves_generated_forms_to_their_diagram(engine, tmp_path):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    engine.deploy(collect_files([CAMUNDA, SPIFF]))
    context = CliContext.for_app(create_app({"ENGINE": engine, "SECRET_KEY": "test"}))
    result = CliRunner().invoke(cpe, ["export", "modelos", str(tmp_path), "--json"], obj=context)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "forms").iterdir()) == ["datos-envio-schema.json"]
    again = engine.deploy(collect_files([tmp_path / "processes", tmp_path / "forms"]))
    assert not any(r["created"] for r in again)  # the round trip is a no-op


def test_simulated_people_leave_read_only_fields_alone():
    import random
    from datetime import datetime

    from engine.simulate.people import answer

    schema = forms_of(collect_files([CAMUNDA]))["solicitud_camunda.registrar_solicitud"]
    for seed in range(20):
        data = answer(schema, {}, random.Random(seed), datetime(2026, 1, 1))
        assert "razon_social" not in data
        Form("f", 1, schema).validate(data)


def test_one_form_with_two_ui_schemas_is_refused():
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    files = spiff_files(schema, {"ui:order": ["b", "a"]})
    second = files[0][1].decode().replace('"t"', '"t2"').replace('"f-uischema.json"', '"g-uischema.json"')
    second = second.replace('process id="p"', 'process id="q"').replace('id="D"', 'id="D2"')
    files += [("q.bpmn", second.encode()), ("g-uischema.json", b'{"ui:order": ["a", "b"]}')]
    problems = errors_of(check_files(files)[1])
    assert [(p.file, p.message[-60:]) for p in problems] == [
        ("p.bpmn", "un esquema de interfaz (f-uischema.json, g-uischema.json): use uno solo"[-60:]),
        ("q.bpmn", "un esquema de interfaz (g-uischema.json, f-uischema.json): use uno solo"[-60:])]


def _camunda_start(fields: str, inner: bool = False) -> bytes:
    """A process whose start event (or, `inner`, its subprocess's start event) has camunda:formData."""
    form = f"<bpmn:extensionElements><camunda:formData>{fields}</camunda:formData></bpmn:extensionElements>"
    start = f'<bpmn:startEvent id="inicio" name="Pedido">{"" if inner else form}</bpmn:startEvent>'
    sub = (f'<bpmn:subProcess id="sp"><bpmn:startEvent id="sps">{form if inner else ""}</bpmn:startEvent>'
           '<bpmn:endEvent id="spe"/><bpmn:sequenceFlow id="sf" sourceRef="sps" targetRef="spe"/></bpmn:subProcess>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://x">'
            f'<bpmn:process id="p" isExecutable="true">{start}{sub}<bpmn:endEvent id="e"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="inicio" targetRef="sp"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e"/></bpmn:process></bpmn:definitions>').encode()


START_FIELDS = ('<camunda:formField id="monto" label="Monto" type="long"><camunda:validation>'
                '<camunda:constraint name="required"/></camunda:validation></camunda:formField>'
                '<camunda:formField id="nota" label="Nota" type="string"/>')


def test_a_camunda_start_form_is_the_process_start_form(engine):
    files = [("p.bpmn", _camunda_start(START_FIELDS))]
    assert forms_of(files)["p.inicio"]["required"] == ["monto"]
    engine.deploy(files)
    assert list(engine.start_form("p")["properties"]) == ["monto", "nota"]
    with pytest.raises(FormError) as refused:
        engine.start("p", {"region": "CL-RM"})
    assert list(refused.value.errors) == ["monto"]
    case = engine.case(engine.start("p", {"region": "CL-RM", "monto": 5}))
    assert case["status"] == "completed" and case["data"] == {"region": "CL-RM", "monto": 5, "nota": None}


def test_a_camunda_form_on_a_subprocess_start_is_ignored_with_a_warning(engine):
    files = [("p.bpmn", _camunda_start(START_FIELDS, inner=True))]
    problems = engine.validate(files)
    assert errors_of(problems) == [] and [p.element for p in problems] == ["startEvent sps"]
    assert "se ignora" in problems[0].message
    engine.deploy(files)
    assert engine.start_form("p") is None
    assert [m["key"] for m in engine.models() if m["kind"] == "form"] == []
