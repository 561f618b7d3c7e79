"""The company registry in a real browser: an analyst searches the list, opens a company's record with
its timeline, downloads the XLSX export and follows a case link to the diagram with the export step."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.programme import workshops as W
from engine.store.schema import Case

from .. import profiles as P
from ..driver import Driver
from ..test_company_records import _exporter
from .conftest import login


@pytest.fixture
def programme(deployed, clock):
    """An exporter that attended a workshop (RM), a derived idea (RM) and a verde in Valparaíso."""
    for name, role, region in (("eje.rm", "ejecutivo_cpe", "CL-RM"), ("pro.rm", "ejecutivo_prochile", "CL-RM"),
                               ("eje.vs", "ejecutivo_cpe", "CL-VS")):
        deployed.create_user(name, "secreto-123", role, region=region)
    deployed.create_user("analista", "secreto-123", "analista")
    W.seed_catalogue(deployed)
    cpe = Driver(deployed, clock, "cpe_actual")
    session = W.create_session(deployed, "taller_123_exporta", datetime(2026, 3, 2, 7, 30),
                               "Dirección Regional ProChile RM", 25, region="CL-RM", created_by="eje.rm")
    first = cpe.start()
    with deployed.Session() as s:
        company_id = s.scalar(select(Case.company_id).where(Case.id == first))
    W.register(deployed, session["id"], company_id, by="eje.rm")
    W.mark_attendance(deployed, session["id"], [company_id], by="eje.rm")
    exporter = _exporter_from(cpe, first)
    derived = cpe.start(rut="77.777.777-7", razon_social="Idea Nueva Ltda", ventas_uf=3000, rubro="agroindustria")
    cpe.through_interview(derived, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    verde = cpe.start(rut="76.543.210-3", razon_social="Conservas del Pacífico SpA", ventas_uf=60000,
                      rubro="alimentos_procesados", region="CL-VS")
    cpe.through_interview(verde, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    return {"exporter": exporter, "company_id": company_id}


def _exporter_from(cpe, case_id):
    """`_exporter` of the engine tests, on a case already started."""
    start = cpe.start
    cpe.start = lambda **_: case_id
    try:
        return _exporter(cpe)
    finally:
        cpe.start = start


def test_analyst_searches_opens_the_record_and_exports(browser, live_server, programme, shot):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    login(page, live_server, "analista")
    page.click("nav.mainnav >> text=Registro")
    page.wait_for_url("**/registro/")
    assert page.locator("table.list tbody tr").count() == 3
    shot(page, "registro-lista")

    page.fill("input[name=q]", "aromos")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/registro/?q=aromos*")
    assert page.locator("table.list tbody tr").count() == 1
    with page.expect_download() as info:
        page.click("text=Exportar XLSX")
    sheet = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["76.086.428-5"]  # the filtered list

    page.click("table.list >> text=Viña Los Aromos SpA")
    page.wait_for_url(f"**/registro/{programme['company_id']}")
    timeline = page.locator(".reg-timeline")
    for text in ("Ingreso al programa", "Cambio de segmento", "Asistió a taller", "Exportación", "Egreso",
                 "Alemania · Vino"):
        assert timeline.get_by_text(text).count() >= 1, text
    assert page.locator("text=Accesos recientes a esta ficha").count() == 1
    shot(page, "registro-ficha")

    page.click(f".reg-timeline >> a[href='/casos/{programme['exporter']['id']}'] >> nth=0")
    page.wait_for_selector("#case-diagram[data-ready='1']")
    assert page.locator(".djs-element.cpe-done[data-element-id='Service_RegistrarExportacion']").count() == 1
    page.locator("#case-diagram").scroll_into_view_if_needed()
    shot(page, "registro-caso-diagrama")


def test_regional_executive_sees_only_their_region(browser, live_server, programme, shot):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    login(page, live_server, "eje.vs")
    page.goto(f"{live_server}/registro/")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "Conservas del Pacífico SpA" in rows.first.inner_text()
    shot(page, "registro-lista-movil")
    response = page.goto(f"{live_server}/registro/{programme['company_id']}")
    assert response.status == 404
