"""Staff start a case from the web (SPEC §1 step 1: "an executive registers a walk-in, phone or derived
company"); a second case of the same process for a RUT with one in progress is refused with a link to it
(thesis §3.4.2, issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models.validation import collect_files
from engine.store.schema import Case

from ..profiles import empresa
from .test_portal import form_data

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped(engine, app):
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="inicial")
    return engine


def cases(engine) -> int:
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_an_executive_registers_a_walk_in_company(shipped, client, auth):
    auth.login("eje.rm")
    listing = client.get("/casos/nuevo").text
    assert "/casos/nuevo/cpe_actual" in listing and "/casos/nuevo/diagnostico_rapido" in listing
    # the monthly benefit extraction asks for no region: national, an analyst's (not listed, not startable)
    assert "/casos/nuevo/correos_mensual" not in listing
    assert client.get("/casos/nuevo/correos_mensual").status_code == 404
    form = client.get("/casos/nuevo/cpe_actual").text
    assert 'name="rut"' in form and 'value="CL-RM" selected' in form  # a regional user: their region
    response = client.post("/casos/nuevo/cpe_actual", data=form_data(empresa()))
    assert response.status_code == 302, response.text
    assert response.location.endswith("/casos/1")
    assert [e["actor"] for e in shipped.case(1)["history"] if e["kind"] == "case_started"] == ["eje.rm"]
    assert [t["bpmn_id"] for t in shipped.ready_tasks(case_id=1)] == ["Task_TPE_Bienes"]

    again = client.post("/casos/nuevo/cpe_actual", data=form_data(empresa(razon_social="Otra")))
    assert again.status_code == 422 and 'href="/casos/1"' in again.text and "ya tiene un caso en curso" in again.text
    assert cases(shipped) == 1


@pytest.mark.parametrize("change, message", [
    ({"region": "CL-BI"}, "Solo puede iniciar casos de su región"),
    ({"rut": "76.086.428-4"}, "dígito verificador"),
    ({"ventas_uf": "mucho"}, "número"),
])
def test_bad_or_foreign_data_starts_nothing(shipped, client, auth, change, message):
    auth.login("eje.rm")
    response = client.post("/casos/nuevo/cpe_actual", data=form_data(empresa(**change)))
    assert response.status_code == 422 and message in response.text
    assert cases(shipped) == 0


def test_who_may_start_and_what(shipped, client, auth, engine):
    engine.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    auth.login("pro.rm")
    assert client.get("/casos/nuevo").status_code == 403
    assert client.post("/casos/nuevo/cpe_actual", data=form_data(empresa())).status_code == 403
    client.post("/salir")
    auth.login("analista")
    assert client.get("/casos/nuevo/no_existe").status_code == 404
    assert "/casos/nuevo/correos_mensual" in client.get("/casos/nuevo").text
    assert cases(shipped) == 0


def test_the_regional_head_starts_a_redistribution_and_an_executive_cannot(shipped, client, auth, engine):
    """Issue 16 item 8 (thesis §3.4.2 block 4): the regional head redistributes the executives'
    companies from «Iniciar un caso»; the process starts in the head's lane, so an executive neither sees
    it nor starts it (the company's processes, started on its behalf, stay open to both)."""
    engine.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM")
    start = {"region": "CL-RM", "motivo_redistribucion": "sobrecarga"}
    auth.login("eje.rm")
    listing = client.get("/casos/nuevo").text
    assert "/casos/nuevo/redistribuir_cartera" not in listing and "/casos/nuevo/cpe_actual" in listing
    assert client.get("/casos/nuevo/redistribuir_cartera").status_code == 404
    assert client.post("/casos/nuevo/redistribuir_cartera", data=start).status_code == 404
    assert cases(shipped) == 0
    client.post("/salir")

    auth.login("jefe.rm")
    listing = client.get("/casos/nuevo").text
    assert "/casos/nuevo/redistribuir_cartera" in listing and "/casos/nuevo/cpe_actual" in listing
    form = client.get("/casos/nuevo/redistribuir_cartera").text
    assert 'name="motivo_redistribucion"' in form and 'value="CL-RM" selected' in form
    assert client.post("/casos/nuevo/redistribuir_cartera",
                       data={**start, "region": "CL-BI"}).status_code == 422  # not another region's
    response = client.post("/casos/nuevo/redistribuir_cartera", data=start)
    assert response.status_code == 302, response.text
    [task] = shipped.ready_tasks(user="jefe.rm")
    assert task["bpmn_id"] == "Task_Redistribuir"
    page = client.get(f"/tareas/{task['id']}").text
    assert "eje.rm (Eje RM): 0 de 50 empresas; eje2.rm: 0 de 50 empresas" in page
    done = client.post(f"/tareas/{task['id']}", data={"redistribucion_jefe.modo_redistribucion": "sin_cambios"})
    assert done.status_code == 302 and shipped.case(task["case_id"])["status"] == "completed"


def test_a_process_without_a_start_form_asks_the_analyst_for_the_region(client, auth, engine):
    """A process drawn elsewhere has no start form: the page asks only for the case's region (optional), which
    decides whose inboxes its tasks reach; a value that is not a region starts nothing."""
    from tests.minimal_models import FORM
    from tests.test_lane_roles import SALES

    engine.deploy([FORM, ("ventas.bpmn", SALES)], lanes={"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"})
    auth.login("eje.rm")
    assert "/casos/nuevo/p_ventas" not in client.get("/casos/nuevo").text  # a regional user: not without a region
    assert client.get("/casos/nuevo/p_ventas").status_code == 404
    client.post("/salir")
    auth.login("analista")
    page = client.get("/casos/nuevo/p_ventas").text
    assert "Región del caso" in page and '<option value="CL-RM"' in page
    refused = client.post("/casos/nuevo/p_ventas", data={"region": "CL-XX"})
    assert refused.status_code == 422 and "Elija una región de la lista." in refused.text
    assert cases(engine) == 0
    started = client.post("/casos/nuevo/p_ventas", data={"region": "CL-RM"})
    assert started.status_code == 302, started.text
    case_id = int(started.location.rsplit("/", 1)[1])
    assert engine.case(case_id)["region"] == "CL-RM"
    [task] = engine.ready_tasks(case_id=case_id)
    assert [t["id"] for t in engine.ready_tasks(user="eje.rm")] == [task["id"]]
    national = client.post("/casos/nuevo/p_ventas", data={})
    assert national.status_code == 302
    assert engine.case(int(national.location.rsplit("/", 1)[1]))["region"] is None


def test_a_start_form_without_the_region_gets_it_first(client, auth, engine):
    """A Camunda start form (camunda:formData on the start event) asks its fields; the page adds the region."""
    from tests.test_foreign_forms import START_FIELDS, _camunda_start

    engine.deploy([("p.bpmn", _camunda_start(START_FIELDS))])
    auth.login("analista")
    page = client.get("/casos/nuevo/p").text
    assert page.index("Región del caso") < page.index("Monto") < page.index("Nota")
    missing = client.post("/casos/nuevo/p", data={"region": "CL-RM"})
    assert missing.status_code == 422 and "Este campo es obligatorio." in missing.text
    started = client.post("/casos/nuevo/p", data={"region": "CL-BI", "monto": "7"})
    assert started.status_code == 302, started.text
    case = engine.case(int(started.location.rsplit("/", 1)[1]))
    assert case["region"] == "CL-BI" and case["data"]["monto"] == 7
