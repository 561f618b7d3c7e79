"""An analyst finds a case stopped by a failing step and skips it from the case page."""

from __future__ import annotations

from tests.browser.conftest import login
from tests.test_recovery import MICRO, _model, failing  # noqa: F401 - the fixture is used by name


def test_analyst_skips_a_failed_step_in_the_browser(deployed, live_server, browser, shot, failing):  # noqa: F811
    failing["fail"] = 99
    deployed.deploy(_model(retries=2, wait="PT10M"))
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    case_id = deployed.start("diagnostico_rapido", MICRO)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, "ana")
    page.goto(f"{live_server}/casos/{case_id}")
    assert "Intento 1 de 3" in page.inner_text(".flash-error")
    shot(page, "case-error-recovery-laptop")
    page.fill("#omitir-motivo", "Derivada por teléfono: el directorio estaba caído")
    page.fill("#omitir-valores", '{"derivacion": {"institucion": "SERCOTEC Valparaíso"}}')
    page.click("#recuperar button:has-text('Omitir el paso')")
    page.wait_for_selector(".flash-success")
    assert "Se omitió el paso" in page.inner_text(".flash-success")
    assert page.locator("#recuperar").count() == 0
    case = deployed.case(case_id)
    assert case["status"] != "error" and case["data"]["derivacion"]["institucion"] == "SERCOTEC Valparaíso"
