"""A company registers in the portal, takes the TPE and follows its case, in a real browser."""

from __future__ import annotations

import pytest

from .. import profiles as P
from ..driver import AGENDA
from ..web.test_portal import link_in_outbox

GAPS = "Falta conocer los requisitos del mercado de destino."
VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _choose(page, name, value):
    field = page.locator(f'[name="{name}"]')
    if field.first.get_attribute("type") == "radio":
        page.check(f'input[name="{name}"][value="{value}"]')
    else:
        page.select_option(f'select[name="{name}"]', value)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_company_takes_the_tpe_in_the_portal(browser, live_server, deployed, shot, device):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")  # takes the case
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
    page.wait_for_url(f"{live_server}/portal/")
    # the same answer for any RUT: the private link only travels by email
    assert page.get_by_text("le enviamos a su correo de contacto el enlace privado").is_visible()
    assert "/portal/e/" not in page.content()
    private = f"{live_server}/portal/e/{link_in_outbox(deployed, 'contacto@empresa.cl')}"
    page.goto(private)
    assert page.locator(".stage-current .stage-label").inner_text() == "Test de Potencialidad Exportadora"

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

    # the team schedules and holds the interview: the company reads its gaps and its messages
    for bpmn_id, data in (("Task_AgendarEntrevista", AGENDA),
                          ("Task_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": GAPS,
                                               "observaciones": "Nota interna del equipo."})):
        [task] = [t for t in deployed.ready_tasks(case_id=1) if t["bpmn_id"] == bpmn_id]
        deployed.complete(task["id"], data)
    page.reload()
    assert page.locator("#diagnostico .gaps").inner_text() == GAPS
    page.locator("#mensajes summary", has_text="Resultado de su evaluación").click()
    assert page.locator("#mensajes pre.mail-body", has_text="quedó en el segmento amarillo").is_visible()
    assert "Nota interna" not in page.content()
    shot(page, f"portal-diagnostico-{device}")
    assert [e for e in errors if "status of 422" not in e] == []
    page.close()


def test_a_returning_company_applies_again_from_its_private_page(browser, live_server, deployed, shot):
    from engine.programme import portal

    deployed.start("cpe_actual", P.empresa(ventas_uf=1500), actor="pyme")  # micro: derived, the case ends
    assert deployed.case(1)["status"] == "completed"
    page = browser.new_page(viewport=VIEWPORTS["laptop"])
    page.goto(f"{live_server}/portal/e/{portal.issue_link(deployed, '76.086.428-5')}")
    private = page.url
    page.get_by_role("link", name="Volver a postular").click()
    assert page.locator("#f-razon_social").input_value() == "Viña Los Aromos SpA"  # the data on file
    page.fill("#f-ventas_uf", "30000")
    shot(page, "portal-postular-laptop")
    page.click("button.primary")
    page.wait_for_url(private)
    assert page.get_by_text("Comenzó un nuevo proceso").is_visible()
    assert page.locator(".stage-current .stage-label").inner_text() == "Test de Potencialidad Exportadora"
    assert page.get_by_role("link", name="Volver a postular").count() == 0
    assert deployed.case(2)["status"] == "active"
    page.close()
