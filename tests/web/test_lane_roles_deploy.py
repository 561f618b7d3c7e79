"""The deploy form asks the role of lanes not named after a role ("Carril «X» → rol"), prefilled with what
can be inferred, carries the files of the refused deploy, and refuses an unknown role in Spanish; a task
in no lane is worked by an analyst on the web (issue 17, item 1)."""

from __future__ import annotations

import base64
import html
import io
import re

from tests.minimal_models import FORM, bpmn, flow, user
from tests.test_lane_roles import CAMUNDA, END, NO_LANES, SALES, named_lanes
from tests.web.conftest import task_ids


def _post(client, files, **form):
    data = {"mensaje": "carriles", **form}
    if files:
        data["archivos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/modelos/desplegar", data=data, content_type="multipart/form-data")


def _carried(page: str) -> dict:
    names = re.findall(r'name="pendiente_nombre" value="([^"]*)"', page)
    contents = re.findall(r'name="pendiente_contenido" value="([^"]*)"', page)
    return {"pendiente_nombre": [html.unescape(n) for n in names],
            "pendiente_contenido": [html.unescape(c) for c in contents]}


def test_unmapped_lanes_are_asked_and_the_files_carried_along(client, auth, engine):
    auth.login("analista")
    refused = _post(client, [FORM, ("ventas.bpmn", SALES)])
    assert refused.status_code == 422
    page = refused.text
    assert "No se desplegó nada" in page and "no corresponde a un rol" in page
    assert "Carril «Ventas» → rol" in page and "Carril «Gerencia» → rol" in page
    carried = _carried(page)
    assert carried["pendiente_nombre"] == ["f.json", "ventas.bpmn"]
    assert base64.b64decode(carried["pendiente_contenido"][1]) == SALES, "carried byte for byte"
    assert engine.model_version("process", "diagnostico_rapido")["version"] == 1
    assert [m for m in engine.models() if m["key"] == "p_ventas"] == []

    unknown = _post(client, [], **carried, carril_nombre=["Ventas", "Gerencia"], carril_rol=["gerente", "analista"])
    assert unknown.status_code == 422 and "rol desconocido «gerente» para el carril «Ventas»" in unknown.text

    deployed = _post(client, [], **carried, carril_nombre=["Ventas", "Gerencia"],
                     carril_rol=["ejecutivo_cpe", "jefe_regional"])
    assert deployed.status_code == 200, deployed.text
    assert "p_ventas v1 — nueva versión" in deployed.text
    assert "Carril «Ventas» → Ejecutivo(a) CPE" in deployed.text
    assert engine.model_version("process", "p_ventas")["dependencies"]["lanes"] == {
        "Gerencia": "jefe_regional", "Ventas": "ejecutivo_cpe"}

    # the next upload of the process is prefilled with the remembered mapping and deploys without asking
    again = _post(client, [FORM, ("ventas.bpmn", SALES.replace(b"Aprobar", b"Aprobar venta"))])
    assert again.status_code == 200 and "p_ventas v2 — nueva versión" in again.text
    case_id = engine.start("p_ventas", {"region": "CL-RM"})
    client.post("/salir")
    auth.login("eje.rm")
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["id"] in task_ids(client.get("/bandeja").text)


def test_candidate_groups_prefill_the_form_and_names_are_escaped(client, auth):
    auth.login("analista")
    task = user("U1").replace('<bpmn:userTask id="U1"',
                              '<bpmn:userTask id="U1" camunda:candidateGroups="jefe_regional"')
    body = '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + task + flow("F2", "U1", "U2") + user("U2") \
        + flow("F3", "U2", "E") + END
    source = bpmn("p_cg", body, named_lanes(**{"Jefatura": ["S", "U1"], "&lt;script&gt;x": ["U2", "E"]}))
    source = source.replace(b"<bpmn:definitions ", b"<bpmn:definitions " + CAMUNDA.encode())
    refused = _post(client, [FORM, ("cg.bpmn", source)])
    assert refused.status_code == 422
    page = refused.text
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    jefatura = page.split("Carril «Jefatura» → rol", 1)[1].split("</select>", 1)[0]
    assert '<option value="jefe_regional" selected>' in jefatura
    hostile = page.split("Carril «&lt;script&gt;x» → rol", 1)[1].split("</select>", 1)[0]
    assert " selected" not in hostile


def test_hostile_mapping_fields_are_refused_without_an_internal_error(client, auth, engine):
    auth.login("analista")
    for lane, role in [("V" * 10_000, "analista"), ("Ven\x01tas", "analista"), ("Ventas", "x" * 10_000)]:
        response = _post(client, [FORM, ("ventas.bpmn", SALES)], carril_nombre=[lane], carril_rol=[role])
        assert response.status_code == 422, response.status_code
        assert "No se desplegó nada" in response.text and "Traceback" not in response.text
        assert len(response.text) < 200_000
    assert [m for m in engine.models() if m["key"] == "p_ventas"] == []


def test_a_task_in_no_lane_is_worked_by_an_analyst_on_the_web(client, auth, engine):
    engine.deploy([FORM, ("sin.bpmn", NO_LANES)])
    case_id = engine.start("p_sin", {"region": "CL-RM"})
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login("eje.rm")
    assert client.get(f"/tareas/{task['id']}").status_code == 403
    client.post("/salir")
    auth.login("analista")
    assert task["id"] in task_ids(client.get("/bandeja").text)
    done = client.post(f"/tareas/{task['id']}", data={"ok": "true"})
    assert done.status_code == 302, done.text
    assert engine.case(case_id)["status"] == "completed"


def test_the_editor_endpoints_take_a_mapping(client, auth, engine):
    auth.login("analista")
    xml = SALES.decode()
    checked = client.post("/modelos/validar", json={"xml": xml, "filename": "ventas.bpmn"}).json
    assert checked["ok"] is False and any("«Ventas»" in p["text"] for p in checked["problems"])
    engine.deploy([FORM])
    lanes = {"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"}
    assert client.post("/modelos/validar", json={"xml": xml, "filename": "ventas.bpmn", "lanes": lanes}).json["ok"]
    refused = client.post("/modelos/desplegar-xml", json={"xml": xml, "filename": "ventas.bpmn", "message": "x"})
    assert refused.status_code == 422
    assert refused.json["lanes"] == [{"lane": "Ventas", "role": None}, {"lane": "Gerencia", "role": None}]
    bad = client.post("/modelos/desplegar-xml", json={"xml": xml, "filename": "ventas.bpmn", "message": "x",
                                                      "lanes": ["Ventas"]})
    assert bad.status_code == 422 and "debe ser un objeto" in bad.json["problems"][0]["text"]
    deployed = client.post("/modelos/desplegar-xml", json={"xml": xml, "filename": "ventas.bpmn", "message": "x",
                                                           "lanes": lanes}).json
    assert deployed["ok"] and engine.model_version("process", "p_ventas")["version"] == 1


def test_carried_files_are_exact_bytes_and_bounded(client, auth, engine):
    """What the page carries is base64 (a browser rewrites line ends in text fields); a field this page did
    not write is dropped, and files too large to post back are not carried (the form asks for them again)."""
    from webapp.pages.models import CARRY_FIELD

    auth.login("analista")
    crlf = SALES.replace(b"\n", b"\r\n")
    refused = _post(client, [FORM, ("ventas.bpmn", crlf)])
    assert refused.status_code == 422
    assert [base64.b64decode(c) for c in _carried(refused.text)["pendiente_contenido"]] == [FORM[1], crlf]
    garbage = _post(client, [], pendiente_nombre=["ventas.bpmn"], pendiente_contenido=["<no es base64>"])
    assert garbage.status_code in (200, 422) and "Elija al menos un archivo" in garbage.text
    big = SALES.replace(b"</bpmn:definitions>", b"<!--" + b"x" * CARRY_FIELD + b"--></bpmn:definitions>")
    large = _post(client, [("ventas.bpmn", big)])
    assert large.status_code == 422 and _carried(large.text)["pendiente_contenido"] == []
