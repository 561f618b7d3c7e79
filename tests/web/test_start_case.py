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
