"""A company registers in the portal, takes the TPE and follows its case, in a real browser."""

from __future__ import annotations

import pytest

from .. import profiles as P

VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _choose(page, name, value):
    field = page.locator(f'[name="{name}"]')
    if field.first.get_attribute("type") == "radio":
        page.check(f'input[name="{name}"][value="{value}"]')
    else:
        page.select_option(f'select[name="{name}"]', value)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_company_takes_the_tpe_in_the_portal(browser, live_server, deployed, shot, device):
    page = browser.new_page(viewport=VIEWPORTS[device])
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/portal/")
    shot(page, f"portal-landing-{device}")
    page.click("a.button.primary")
    page.fill("#f-rut", "76086428-5")
    page.fill("#f-razon_social", "Viña Los Aromos SpA")
    for name, value in (("tipo_persona", "juridica"), ("region", "CL-RM"), ("rubro", "vitivinicola"),
                        ("tipo_oferta", "bienes"), ("origen", "directo_prochile")):
        _choose(page, name, value)
    page.fill("#f-ventas_uf", "20000")
    page.fill("#f-contacto_email", "contacto@empresa.cl")
    page.check("#f-consentimiento_datos")
    page.click("button.primary")
    page.wait_for_url("**/portal/e/**")
    assert page.get_by_text("Registro recibido").is_visible()
    assert page.locator(".stage-current .stage-label").inner_text() == "Test de Potencialidad Exportadora"
    private = page.url

    page.click(".nextstep a.button")
    page.click("button.primary")  # empty: refused with messages
    assert page.locator(".flash-error").is_visible() and page.locator(".has-error").count() >= 10
    for question, answer in P.VINA_AMARILLO.items():
        _choose(page, f"respuestas.{question}", answer)
    shot(page, f"portal-tpe-{device}")
    page.click("button.primary")
    page.wait_for_url(private)
    assert page.locator(".stage-done .stage-label").nth(1).inner_text() == "Test de Potencialidad Exportadora"
    assert page.locator(".stage-current .stage-label").inner_text() == "Entrevista"
    assert page.get_by_text("Contactar y agendar entrevista").is_visible()
    assert page.locator(".score-value").is_visible()
    shot(page, f"portal-home-{device}")
    [case] = [c for c in (deployed.case(1),)]
    assert case["data"]["puntaje_tpe"] > 0
    assert [e for e in errors if "status of 422" not in e] == []
    page.close()
