"""The monthly Correos de Chile lists in the browser: a regional head downloads their region's
XLSX (it opens with openpyxl and holds the RUTs) and the page then says who downloaded it."""

from __future__ import annotations

from openpyxl import load_workbook

from engine.cases import scheduler

from ..test_correos import APRIL, MAY, make_programme
from .conftest import login


def test_regional_head_downloads_the_monthly_list(deployed, clock, live_server, browser, shot, tmp_path):
    make_programme(deployed, clock)
    deployed.create_user("ana.analista", "secreto-123", "analista", full_name="Ana Analista")
    scheduler.sync(deployed)
    for moment in (APRIL, MAY):
        clock.set(moment)
        assert scheduler.run_due(deployed) == 1
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, "jefe.rm", "una-clave-larga")
    page.click("nav.mainnav >> text=Beneficios")
    page.wait_for_url("**/beneficios/")
    assert page.locator("section.benefit-period").count() == 2
    assert page.locator("section.benefit-period").first.locator("tbody tr").count() == 1  # RM only
    with page.expect_download() as info:
        page.locator("section.benefit-period").first.locator("a", has_text="XLSX").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "correos_chile-2026-05-CL-RM.xlsx"
    ruts = [row[0] for row in list(load_workbook(path).active.iter_rows(values_only=True))[1:]]
    assert ruts == ["12.345.678-5", "76.086.428-5"]
    page.reload()
    assert "descargado por jefe.rm el" in page.locator("section.benefit-period").first.inner_text()
    shot(page, "beneficios_jefe_regional")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, "ana.analista")
    page.goto(f"{live_server}/beneficios/")
    assert page.locator("section.benefit-period").first.locator("tbody tr").count() == 16
    assert "descargado por jefe.rm el" in page.content()
    shot(page, "beneficios_analista")

    # the case the timer started shows its diagram (bpmn-js) with every step done
    page.locator("section.benefit-period").first.locator("a", has_text="caso #").click()
    page.wait_for_selector("#case-diagram[data-ready='1']")
    for step in ("StartEvent_InicioMes", "Service_ExtraerBeneficiarias", "Service_AvisarJefes"):
        assert page.locator(f".djs-element.cpe-done[data-element-id='{step}']").count() == 1
    shot(page, "beneficios_caso_correos_mensual")
