"""/beneficios/: the Correos de Chile lists by period and region, scoped by role and region,
downloaded as XLSX or CSV and every download audited."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.cases import scheduler
from engine.programme import audit
from engine.store.schema import BenefitExtract, Company

from ..test_correos import APRIL, make_programme
from .conftest import PASSWORD


@pytest.fixture
def extracts(app, deployed, clock):
    make_programme(deployed, clock)
    # a legal person of Biobío in the programme too, so that both regions have a list
    with deployed.transaction() as s:
        s.scalar(select(Company).where(Company.rut == "11.111.111-1")).consentimiento_datos = True
    deployed.create_user("jefe.bi2", PASSWORD, "jefe_regional", region="CL-BI")
    deployed.create_user("jefe.rm2", PASSWORD, "jefe_regional", region="CL-RM")
    deployed.create_user("prochile.rm", PASSWORD, "ejecutivo_prochile", region="CL-RM")
    scheduler.sync(deployed)
    clock.set(APRIL)
    assert scheduler.run_due(deployed) == 1
    with deployed.Session() as s:
        return {e.region: e.id for e in s.scalars(select(BenefitExtract))}


def _downloads(engine, extract_id):
    with engine.Session() as s:
        return audit.entries(s, subject="benefit_extract", subject_id=extract_id)


@pytest.mark.parametrize("user", ["eje.rm", "prochile.rm"])
def test_executives_have_no_access(client, auth, extracts, user):
    auth.login(user)
    assert client.get("/beneficios/").status_code == 403
    assert client.get(f"/beneficios/{extracts['CL-RM']}.xlsx").status_code == 403
    assert "/beneficios/" not in client.get("/bandeja").get_data(as_text=True)


def test_login_is_required(client, extracts):
    response = client.get("/beneficios/")
    assert response.status_code == 302 and "/ingresar" in urlparse(response.location).path


def test_regional_head_sees_and_downloads_only_their_region(client, auth, deployed, extracts):
    auth.login("jefe.rm2")
    html = client.get("/beneficios/").get_data(as_text=True)
    assert "/beneficios/" in client.get("/bandeja").get_data(as_text=True)  # the nav link
    assert f'/beneficios/{extracts["CL-RM"]}.xlsx' in html
    assert f'/beneficios/{extracts["CL-BI"]}.xlsx' not in html
    assert "consolidado" not in html
    assert client.get("/beneficios/?region=CL-BI").get_data(as_text=True).count(".xlsx") == 1  # still RM only
    assert client.get(f"/beneficios/{extracts['CL-BI']}.csv").status_code == 403
    assert client.get("/beneficios/correos_chile/2026-04/consolidado.xlsx").status_code == 403
    assert _downloads(deployed, extracts["CL-BI"]) == []


def test_xlsx_download_holds_the_ruts_and_is_audited(client, auth, deployed, extracts):
    auth.login("jefe.rm2")
    response = client.get(f"/beneficios/{extracts['CL-RM']}.xlsx")
    assert response.status_code == 200
    assert 'filename="correos_chile-2026-04-CL-RM.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("RUT", "Razón social", "Tipo de persona")
    assert [r[0] for r in rows[1:]] == ["12.345.678-5", "76.086.428-5"]
    assert rows[1][2] == "Natural" and rows[1][10] == "Sí"
    [entry] = _downloads(deployed, extracts["CL-RM"])
    assert (entry["actor"], entry["action"]) == ("jefe.rm2", "download")
    assert entry["detail"]["formato"] == "xlsx" and entry["detail"]["filas"] == 2
    html = client.get("/beneficios/").get_data(as_text=True)
    assert "descargado por jefe.rm2 el" in html


def test_csv_download(client, auth, deployed, extracts):
    auth.login("analista")
    response = client.get(f"/beneficios/{extracts['CL-BI']}.csv")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith("\ufeffRUT,Razón social")
    assert "11.111.111-1" in text and "Luis Soto" in text
    assert _downloads(deployed, extracts["CL-BI"])[0]["detail"]["formato"] == "csv"
    assert client.get(f"/beneficios/{extracts['CL-BI']}.pdf").status_code == 404
    assert client.get("/beneficios/99999.csv").status_code == 404


def test_analyst_sees_every_region_and_downloads_the_consolidated_file(client, auth, deployed, extracts):
    auth.login("analista")
    html = client.get("/beneficios/").get_data(as_text=True)
    assert all(f"/beneficios/{extract_id}.xlsx" in html for extract_id in extracts.values())
    assert "/beneficios/correos_chile/2026-04/consolidado.xlsx" in html
    filtered = client.get("/beneficios/?region=CL-BI").get_data(as_text=True)
    assert filtered.count(".xlsx") == 1  # Biobío only, and no consolidated file of a single region
    assert '<select name="region">' in filtered and '<option value="CL-BI" selected>' in filtered
    response = client.get("/beneficios/correos_chile/2026-04/consolidado.xlsx")
    ruts = [r[0] for r in list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))[1:]]
    assert sorted(ruts) == ["11.111.111-1", "12.345.678-5", "76.086.428-5"]
    assert len(_downloads(deployed, extracts["CL-RM"])) == 1  # each region's list records the download
    assert client.get("/beneficios/correos_chile/2030-01/consolidado.xlsx").status_code == 404
