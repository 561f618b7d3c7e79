"""Modelos (analysts): versions, download, comparison, deploy by upload, migration of cases."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.models.validation import collect_files

from .conftest import MODEL

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""


def _v2(tmp_path) -> Path:
    folder = tmp_path / "v2"
    folder.mkdir()
    for path in MODEL.iterdir():
        (folder / path.name).write_text(path.read_text().replace('name="Responder cuestionario"',
                                                                 'name="Responder el cuestionario"'))
    return folder


@pytest.mark.parametrize("user, status", [("eje.rm", 403), ("eje.bio", 403), ("analista", 200)])
def test_only_analysts_enter(client, auth, user, status):
    auth.login(user)
    assert client.get("/modelos/").status_code == status
    assert client.get("/modelos/process/diagnostico_rapido/v1").status_code == status
    assert client.get("/modelos/desplegar").status_code == status


def test_versions_download_and_compare(client, auth, engine, tmp_path, start):
    auth.login("analista")
    case_id = start()
    engine.deploy(collect_files([_v2(tmp_path)]), author="ana", message="Nombre más claro")
    index = client.get("/modelos/").text
    assert "diagnostico_rapido" in index and "v2" in index and "Nombre más claro" in index
    page = client.get("/modelos/process/diagnostico_rapido/v1").text
    assert "Migrar casos en curso" in page and 'data-src="/modelos/process/diagnostico_rapido/v1/archivo?ver=1"' in page
    download = client.get("/modelos/process/diagnostico_rapido/v2/archivo")
    assert download.headers["Content-Disposition"].startswith("attachment") and b"Responder el cuestionario" in \
        download.data
    compare = client.get("/modelos/process/diagnostico_rapido/comparar?a=1&b=2").text
    assert 'data-changed="Task_Cuestionario"' in compare and "Modificados (1)" in compare
    assert client.get("/modelos/process/diagnostico_rapido/comparar?a=1&b=9").status_code == 404
    assert client.get("/modelos/nada/x/v1").status_code == 404
    assert engine.case(case_id)["version"] == 1


def test_migrate_from_the_page(client, auth, engine, tmp_path, start):
    auth.login("analista")
    case_id = start()
    engine.deploy(collect_files([_v2(tmp_path)]))
    plan = client.post("/modelos/diagnostico_rapido/v1/migrar", data={"destino": "2", "accion": "revisar"})
    assert plan.status_code == 200 and "se puede migrar" in plan.text and "Migrar 1 casos" in plan.text
    assert engine.case(case_id)["version"] == 1
    done = client.post("/modelos/diagnostico_rapido/v1/migrar", data={"destino": "2", "accion": "migrar"})
    assert "migrado a v2" in done.text and engine.case(case_id)["version"] == 2
    assert [e["actor"] for e in engine.case(case_id)["history"] if e["kind"] == "migrated"] == ["analista"]


def test_deploy_by_upload(client, auth, engine, tmp_path):
    auth.login("analista")
    paths = sorted(_v2(tmp_path).iterdir())

    def files():
        return [(io.BytesIO(p.read_bytes()), p.name) for p in paths]
    ok = client.post("/modelos/desplegar", data={"archivos": files(), "mensaje": "v2 desde la web"},
                     content_type="multipart/form-data")
    assert ok.status_code == 200 and "diagnostico_rapido v2 — nueva versión" in ok.text
    assert engine.model_version("process", "diagnostico_rapido")["author"] == "analista"
    hostile = client.post("/modelos/desplegar", data={"archivos": [(io.BytesIO(XXE), "malo.bpmn")], "mensaje": "x"},
                          content_type="multipart/form-data")
    assert hostile.status_code == 422 and "No se desplegó nada" in hostile.text
    no_message = client.post("/modelos/desplegar", data={"archivos": files()[:1]}, content_type="multipart/form-data")
    assert no_message.status_code == 422
    assert engine.model_version("process", "diagnostico_rapido")["version"] == 2


def test_modeler_endpoints(client, auth, engine):
    auth.login("eje.rm")
    assert client.get("/modelos/catalogo.json").status_code == 403
    assert client.post("/modelos/validar", json={"xml": "<x/>"}).status_code == 403
    client.post("/salir")
    auth.login("analista")
    catalog = client.get("/modelos/catalogo.json").json
    assert {"registrar_sra", "puntaje_formulario", "derivar"} <= {o["id"] for o in catalog["operators"]}
    assert "dr_llamada" in catalog["forms"] and "dr_nivel" in catalog["decisions"] and "pyme" in catalog["roles"]
    assert client.get("/modelos/diagnostico_rapido/editar").status_code == 200
    assert client.get("/modelos/nuevo").status_code == 200
    assert client.get("/modelos/no_existe/editar").status_code == 404

    xml = (MODEL / "diagnostico_rapido.bpmn").read_text()
    ok = client.post("/modelos/validar", json={"xml": xml, "filename": "diagnostico_rapido.bpmn"}).json
    assert ok == {"ok": True, "problems": []}
    broken = xml.replace('value="dr_llamada.json"', 'value="no_existe.json"')
    bad = client.post("/modelos/validar", json={"xml": broken, "filename": "diagnostico_rapido.bpmn"}).json
    assert bad["ok"] is False and any(p["element_id"] == "Task_Llamada" for p in bad["problems"])
    hostile = client.post("/modelos/validar", json={"xml": XXE.decode(), "filename": "x.bpmn"}).json
    assert hostile["ok"] is False
    assert client.post("/modelos/validar", data="no json").status_code == 400
    no_message = client.post("/modelos/desplegar-xml", json={"xml": xml, "filename": "diagnostico_rapido.bpmn"})
    assert no_message.status_code == 422
    refused = client.post("/modelos/desplegar-xml", json={"xml": broken, "message": "x", "filename": "d.bpmn"})
    assert refused.status_code == 422 and engine.model_version("process", "diagnostico_rapido")["version"] == 1
    renamed = xml.replace('name="Llamar a la empresa"', 'name="Llamar"')
    deployed = client.post("/modelos/desplegar-xml", json={"xml": renamed, "message": "Nombre corto",
                                                           "filename": "diagnostico_rapido.bpmn"}).json
    assert deployed["ok"] and deployed["url"] == "/modelos/process/diagnostico_rapido/v2"
    assert engine.model_version("process", "diagnostico_rapido")["message"] == "Nombre corto"


def test_a_warning_is_shown_as_such_and_does_not_refuse(client, auth, engine):
    auth.login("analista")
    xml = (MODEL / "diagnostico_rapido.bpmn").read_text()
    no_default = xml.replace('name="¿Nivel?" default="F10"', 'name="¿Nivel?"').replace(
        '<bpmn:sequenceFlow id="F10" sourceRef="Gateway_Nivel" targetRef="Service_Sra" />',
        '<bpmn:sequenceFlow id="F10" sourceRef="Gateway_Nivel" targetRef="Service_Sra">'
        '<bpmn:conditionExpression>nivel != "bajo"</bpmn:conditionExpression></bpmn:sequenceFlow>')
    checked = client.post("/modelos/validar", json={"xml": no_default, "filename": "diagnostico_rapido.bpmn"}).json
    assert checked["ok"] is True
    assert [(p["severity"], p["element_id"]) for p in checked["problems"]] == [("warning", "Gateway_Nivel")]
    deployed = client.post("/modelos/desplegar-xml", json={"xml": no_default, "message": "Sin defecto",
                                                           "filename": "diagnostico_rapido.bpmn"}).json
    assert deployed["ok"] and [w["element_id"] for w in deployed["warnings"]] == ["Gateway_Nivel"]
    again = no_default.replace('name="Llamar a la empresa"', 'name="Llamar"')
    upload = [(io.BytesIO(again.encode()), "diagnostico_rapido.bpmn")]
    page = client.post("/modelos/desplegar", data={"archivos": upload, "mensaje": "otra"},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and "nueva versión" in page.text
    assert "flash-warning" in page.text and "aviso: la compuerta no tiene un flujo por defecto" in page.text


def test_the_rules_page_lists_each_marked_rule_with_its_source(engine, client, auth):
    """Issue 16 item 12: the rules the thesis does not fix are visible as rules, with their source."""
    from engine.models.validation import collect_files as collect

    root = Path(__file__).resolve().parents[2]
    engine.deploy(collect([root / "forms", root / "processes"]), author="test", message="inicial")
    auth.login("eje.rm")
    assert client.get("/modelos/reglas").status_code == 403
    client.post("/salir")
    auth.login("analista")
    page = client.get("/modelos/reglas").text
    assert "Segmento CPE" in page and "si puntaje_final &lt; 35: segmento = &#34;rojo&#34;" in page
    assert page.count("Supuesto del equipo") >= 2 and "tesis §3.1.3" in page
    version = client.get("/modelos/decision/segmento_cpe/v1").text
    assert 'id="reglas"' in version and "el corte 65 no está en la tesis" in version
    assert 'id="reglas"' not in client.get("/modelos/process/diagnostico_rapido/v1").text  # marks no rule
