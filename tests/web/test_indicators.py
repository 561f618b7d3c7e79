"""The indicators dashboard and the process heatmap: region scoping, the same numbers as
`cpe indicators --json`, definitions and "—" with the reason for empty ratios."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli.context import CliContext
from cli.main import cpe

from .. import profiles as P
from ..driver import Driver
from .conftest import PASSWORD


@pytest.fixture
def cases(deployed, app, clock):
    deployed.create_user("jefe.bi", PASSWORD, "jefe_regional", region="CL-BI")
    deployed.create_user("empresa", PASSWORD, "pyme", region="CL-RM")
    d = Driver(deployed, clock, "cpe_actual")
    rojo = d.start(rut="76.111.111-6")
    d.through_interview(rojo, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    amarillo = d.start(rut="76.222.222-1", rubro="alimentos_procesados")
    d.through_interview(amarillo, P.VINA_AMARILLO, P.ENTREVISTA_ALTA)
    clock.advance(days=40)
    d.start(rut="76.333.333-7", region="CL-BI", ventas_uf=1500)  # micro: derived at once
    return app


def cli_json(app, *args):
    result = CliRunner().invoke(cpe, ["indicators", "--json", *args], obj=CliContext.for_app(app))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def page_values(html: str) -> dict:
    return {k: (None if v == "null" else float(v))
            for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', html)}


def expected_values(result: dict) -> dict:
    values = {k: result[k] for k in ("ingresadas", "exportadoras", "evolucionaron", "desertaron", "derivadas",
                                     "eficacia", "evolucion", "desercion", "promocion",
                                     "exportaron_con_herramientas", "exportaron_sin_herramientas")}
    for key, item in result["asistencia"].items():
        values[f"asistencia.{key}"] = item["valor"]
        values[f"asistencia.{key}.asistieron"] = item["asistieron"]
        values[f"asistencia.{key}.exportaron_despues"] = item["exportaron_despues"]
        values[f"efectividad.{key}"] = item["efectividad"]
    for key, n in result["antes_del_ingreso"].items():
        values[f"antes_del_ingreso.{key}"] = n
    return values


@pytest.mark.parametrize("user,query,cli_args", [
    ("analista", "", ()),
    ("analista", "?region=CL-BI", ("--region", "CL-BI")),
    ("analista", "?desde=2026-03-01&hasta=2026-03-31&rubro=alimentos_procesados",
     ("--from", "2026-03-01", "--to", "2026-03-31", "--rubro", "alimentos_procesados")),
    ("analista", "?ejecutivo=eje.rm", ("--ejecutivo", "eje.rm")),
    ("eje.rm", "", ("--region", "CL-RM")),
    ("jefe.bi", "?region=CL-BI", ("--region", "CL-BI")),
])
def test_the_page_shows_the_numbers_of_the_command(cases, client, auth, user, query, cli_args):
    auth.login(user)
    response = client.get("/indicadores/" + query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    result = cli_json(cases, *cli_args)
    assert page_values(html) == expected_values(result)
    assert result["registradas"] > 0


def test_the_whole_programme_by_hand(cases, client, auth):
    """SPEC §6 / manual §3.1: the micro company (CL-BI) was derived at the size gate: registered,
    not entered, and shown as its own figure."""
    result = cli_json(cases)
    assert (result["registradas"], result["ingresadas"], result["derivadas"], result["exportadoras"]) == (3, 2, 1, 0)
    assert result["antes_del_ingreso"]["micro"] == 1 and sum(result["antes_del_ingreso"].values()) == 1
    assert cli_json(cases, "--region", "CL-RM")["ingresadas"] == 2
    bio = cli_json(cases, "--region", "CL-BI")
    assert (bio["registradas"], bio["ingresadas"], bio["eficacia"]) == (1, 0, None)


def test_regional_users_see_only_their_region(cases, client, auth):
    auth.login("eje.rm")
    html = client.get("/indicadores/").get_data(as_text=True)
    assert page_values(html)["ingresadas"] == 2  # the BI company is not counted
    assert 'name="region"' not in html  # no region chooser
    assert client.get("/indicadores/?region=CL-BI").status_code == 403
    assert client.get("/indicadores/mapa?region=CL-BI").status_code == 403
    assert client.get("/indicadores/mapa/cpe_actual/v1/datos.json?region=CL-BI").status_code == 403
    data = client.get("/indicadores/mapa/cpe_actual/v1/datos.json").get_json()
    assert data["elementos"]["Task_TPE_Bienes"]["casos"] == 2


def test_companies_and_visitors_have_no_access(cases, client, auth):
    auth.login("empresa")  # companies use the portal's private link, never a staff session
    for url in ("/indicadores/", "/indicadores/mapa", "/indicadores/mapa/cpe_actual/v1/datos.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/ingresar" in response.headers["Location"]


def test_an_empty_period_shows_a_dash_with_the_reason(cases, client, auth):
    auth.login("analista")
    html = client.get("/indicadores/?desde=2020-01-01&hasta=2020-12-31").get_data(as_text=True)
    values = page_values(html)
    assert values["ingresadas"] == 0 and values["eficacia"] is None and values["promocion"] == 0.0
    assert html.count("no ingresaron empresas en la selección") >= 3
    assert "Eficacia" in html and "total de empresas ingresadas" in html  # definitions on the page


@pytest.mark.parametrize("query,message", [("?desde=31-12-2026", "AAAA-MM-DD"), ("?region=CL-XX", "Región desconocida"),
                                           ("?desde=2026-05-01&hasta=2026-04-01", "posterior")])
def test_bad_filters_get_a_message(cases, client, auth, query, message):
    auth.login("analista")
    response = client.get("/indicadores/" + query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_bad_command_options_fail_with_a_message(cases):
    result = CliRunner().invoke(cpe, ["indicators", "--from", "ayer"], obj=CliContext.for_app(cases))
    assert result.exit_code != 0 and "AAAA-MM-DD" in result.output


def test_the_dashboard_has_its_charts_and_the_nav_link(cases, client, auth):
    auth.login("analista")
    html = client.get("/indicadores/").get_data(as_text=True)
    for chart in ("chart-embudo", "chart-meses", "chart-transiciones", "chart-carga", "chart-regiones"):
        assert f'id="{chart}"' in html
    data = json.loads(re.search(r'<script type="application/json" id="indicadores-datos">(.*?)</script>', html,
                                re.S).group(1))
    assert data["carga"] == {"labels": ["eje.rm"], "values": [1], "tope": 50}
    assert data["meses"] == {"labels": ["2026-03", "2026-04"], "values": [2, 1]}
    assert 'href="/indicadores/"' in html and "<script>" not in html
    assert client.get("/vendor/chart.js").status_code == 200


def test_heatmap_page(cases, client, auth):
    auth.login("analista")
    response = client.get("/indicadores/mapa")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    row = re.search(r'<tr data-element="Task_TPE_Bienes">.*?data-key="casos">(\d+)<', html, re.S)
    assert row and row.group(1) == "2"
    overlay = json.loads(re.search(r'id="heatmap-datos">(.*?)</script>', html, re.S).group(1))
    assert overlay["elementos"]["Task_Entrevista"]["casos"] == 2 and overlay["en_espera"] == {"Task_Capacitacion": 1}
    assert client.get("/indicadores/mapa?modelo=cpe_actual:1&color=duracion").status_code == 200
    assert client.get("/indicadores/mapa?modelo=cpe_actual:9").status_code == 404
    assert client.get("/indicadores/mapa?proceso=nada").status_code == 404
    diagram = client.get("/indicadores/mapa/cpe_actual/v1/diagrama.bpmn")
    assert diagram.status_code == 200 and b"<bpmn:definitions" in diagram.data
    assert client.get("/indicadores/mapa/cpe_actual/v7/diagrama.bpmn").status_code == 404
    assert client.get("/indicadores/mapa?desde=mañana").status_code == 400
