"""The executives' performance page (issue 16 item 9, thesis §3.4.2 block 4 and §3.4.3): regional
heads see their region's executives, analysts every region; the figures are the engine's."""

from __future__ import annotations

import re

import pytest

from engine.programme.credit import executive_performance
from engine.programme.indicators import Filters

from .. import profiles as P
from ..driver import Driver
from .conftest import PASSWORD


@pytest.fixture
def cases(deployed, app, clock):
    deployed.create_user("jefe.rm", PASSWORD, "jefe_regional", region="CL-RM")
    deployed.create_user("jefe.bio", PASSWORD, "jefe_regional", region="CL-BI")
    d = Driver(deployed, clock, "cpe_actual")
    for rut, region, user in (("76.111.111-6", "CL-RM", "eje.rm"), ("76.222.222-1", "CL-BI", "eje.bio")):
        case_id = d.start(rut=rut, region=region)
        d.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
        d.do(case_id, "Task_AgendarEntrevista", {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:30",
                                                 "lugar_entrevista": "empresa"}, user=user)
    return app


def values(html: str) -> dict:
    return {k: v for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', html)}


def test_a_regional_head_sees_the_executives_of_their_region(cases, client, auth, engine):
    auth.login("jefe.rm")
    response = client.get("/indicadores/ejecutivos")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = set(re.findall(r'<tr data-ejecutivo="([^"]+)"', html))
    assert shown == {"eje.rm", "eje2.rm"}  # not eje.bio (CL-BI) nor the regional head
    page = values(html)
    expected = {r["ejecutivo"]: r for r in executive_performance(engine, Filters(region="CL-RM"))["ejecutivos"]}
    assert page["eje.rm.trabajadas"] == str(expected["eje.rm"]["trabajadas"]) == "1"
    assert page["eje2.rm.trabajadas"] == "0"
    assert "Crédito por exportación" in html and "tope de 50" in html
    assert client.get("/indicadores/ejecutivos?region=CL-BI").status_code == 403
    assert 'href="/indicadores/ejecutivos' in client.get("/indicadores/").get_data(as_text=True)


def test_analysts_see_every_region_and_may_filter(cases, client, auth):
    auth.login("analista")
    html = client.get("/indicadores/ejecutivos").get_data(as_text=True)
    assert {"eje.rm", "eje2.rm", "eje.bio"} <= set(re.findall(r'<tr data-ejecutivo="([^"]+)"', html))
    html = client.get("/indicadores/ejecutivos?region=CL-BI").get_data(as_text=True)
    assert set(re.findall(r'<tr data-ejecutivo="([^"]+)"', html)) == {"eje.bio"}
    assert values(html)["eje.bio.trabajadas"] == "1"
    response = client.get("/indicadores/ejecutivos?desde=ayer")
    assert response.status_code == 400 and "AAAA-MM-DD" in response.get_data(as_text=True)


def test_executives_and_companies_may_not_see_it(cases, client, auth):
    auth.login("eje.rm")
    assert client.get("/indicadores/ejecutivos").status_code == 403
    assert 'href="/indicadores/ejecutivos' not in client.get("/indicadores/").get_data(as_text=True)
    client.post("/salir")
    response = client.get("/indicadores/ejecutivos")
    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]
