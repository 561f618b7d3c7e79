"""The main journeys in a real browser, on a laptop and on a phone-sized screen."""

from __future__ import annotations

import pytest

from engine.cases.comments import add_comment
from engine.cases.drafts import load_draft

from .. import profiles as P
from ..driver import AGENDA, Driver
from .conftest import SHOTS, login

VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def case_at_interview(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Elena Ejecutiva")
    deployed.create_user("eje.bio", "secreto-123", "ejecutivo_cpe", region="CL-BI")
    driver = Driver(deployed, clock, "cpe_actual")
    case_id = driver.start(razon_social="Viña <b>Los Aromos</b> SpA")
    driver.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    driver.do(case_id, "Task_AgendarEntrevista", AGENDA)
    return case_id, driver.ready(case_id)["Task_Entrevista"]["id"]



@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_executive_interviews_a_company(browser, live_server, case_at_interview, deployed, shot, device):
    case_id, task_id = case_at_interview
    page = browser.new_page(viewport=VIEWPORTS[device])
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "eje.rm")
    assert page.locator("table.list").get_by_text("Realizar entrevista").is_visible()
    shot(page, f"inbox-{device}")
    page.locator("table.list a", has_text="Realizar entrevista").first.click()
    page.wait_for_url(f"**/tareas/{task_id}")
    shot(page, f"form-{device}")
    page.click("text=Completar tarea")  # empty: refused with messages, nothing changes
    assert page.get_by_text("Revise los campos marcados").is_visible()
    assert page.get_by_text("Brechas detectadas: Este campo es obligatorio.").first.is_visible()
    shot(page, f"form-errors-{device}")
    assert deployed.task(task_id)["state"] == "ready"
    for criterion in P.ENTREVISTA_MEDIA:
        page.check(f"input[name='respuestas.{criterion}'][value='{P.ENTREVISTA_MEDIA[criterion]}']")
    page.fill("textarea[name='brechas']", "Debe conocer los requisitos del mercado de destino.")
    page.click("text=Completar tarea")
    page.wait_for_url(f"**/casos/{case_id}")
    assert page.get_by_text("Tarea «Realizar entrevista» completada.").is_visible()
    assert page.locator(".headline .seg-amarillo").is_visible()
    assert page.locator("ol.timeline").get_by_text("Clasificar empresa").is_visible()
    assert page.get_by_text("Viña <b>Los Aromos</b> SpA").first.is_visible()  # shown as text
    page.wait_for_selector("#case-diagram[data-ready='1']")  # bpmn-js rendered the case's version
    assert page.locator(".djs-element.cpe-current[data-element-id='Task_Capacitacion']").count() == 1
    assert page.locator(".djs-element.cpe-done[data-element-id='Task_Entrevista']").count() == 1
    assert page.locator(".djs-connection.cpe-done[data-element-id='Flow_Amarillo']").count() == 1
    assert page.locator(".djs-element.cpe-done[data-element-id='Service_DerivarRojo']").count() == 0
    shot(page, f"case-{device}")
    assert deployed.case(case_id)["segmento"] == "amarillo"
    assert [e for e in errors if "status of 422" not in e] == []  # no script, CSP or missing-file errors
    page.close()


def test_executive_of_another_region_cannot_open_the_task(browser, live_server, case_at_interview):
    case_id, task_id = case_at_interview
    page = browser.new_page()
    login(page, live_server, "eje.bio")
    assert page.locator("table.list").count() == 0
    response = page.goto(f"{live_server}/tareas/{task_id}")
    assert response.status == 403 and page.get_by_text("No tiene permiso para ver esta página.").is_visible()
    response = page.goto(f"{live_server}/casos/{case_id}")
    assert response.status == 403
    page.close()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_executive_saves_a_draft_of_the_tpe_then_comments_the_case(browser, live_server, deployed, clock, shot,
                                                                      device):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Elena Ejecutiva")
    deployed.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM", full_name="Jorge Jefe")
    driver = Driver(deployed, clock, "cpe_actual")
    case_id = driver.start()
    task_id = driver.ready(case_id)["Task_TPE_Bienes"]["id"]
    first_half = dict(list(P.VINA_AMARILLO.items())[:9])
    page = browser.new_page(viewport=VIEWPORTS[device])
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "eje.rm")

    # half of the TPE, saved as a draft: nothing is validated, the task stays ready
    page.goto(f"{live_server}/tareas/{task_id}")
    for name, value in first_half.items():
        page.check(f"input[name='respuestas.{name}'][value='{value}']")
    page.click("text=Guardar borrador")
    assert page.get_by_text("Borrador guardado a las").is_visible()
    assert page.locator(".flash-error").count() == 0
    assert deployed.task(task_id)["state"] == "ready"

    # the next day the form comes back as it was left
    clock.advance(days=1)
    page.goto(f"{live_server}/tareas/{task_id}")
    assert page.get_by_text("Se restauró su borrador del").is_visible()
    for name, value in first_half.items():
        assert page.is_checked(f"input[name='respuestas.{name}'][value='{value}']"), name
    assert page.locator("input[type=radio]:checked").count() == len(first_half)
    shot(page, f"form-draft-{device}")

    # the rest, then complete: the draft is gone
    for name, value in P.VINA_AMARILLO.items():
        page.check(f"input[name='respuestas.{name}'][value='{value}']")
    page.click("text=Completar tarea")
    page.wait_for_url(f"**/casos/{case_id}")
    assert load_draft(deployed, task_id, "eje.rm") is None

    # a comment between executives, kept as text with its line breaks
    add_comment(deployed, case_id, "jefe.rm", "Elena: esta viña exportó una vez a Brasil en 2019; pregúntale.")
    clock.advance(minutes=30)
    page.fill("#comentario", "Le pregunté:\n- Brasil, 2019, un contenedor.\n- <b>No</b> repitió.")
    page.click("text=Publicar comentario")
    page.wait_for_url(f"**/casos/{case_id}#comentario-*")
    assert page.get_by_text("Comentario publicado.").is_visible()
    bodies = page.locator(".comment-body")
    assert bodies.count() == 2
    assert bodies.nth(1).inner_text() == "Le pregunté:\n- Brasil, 2019, un contenedor.\n- <b>No</b> repitió."
    assert bodies.nth(1).evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert page.locator("ol.timeline a", has_text="Comentario").count() == 2
    page.wait_for_selector("#case-diagram[data-ready='1']")
    shot(page, f"case-comments-{device}")
    page.locator("#comentarios").screenshot(path=str(SHOTS / f"case-comments-card-{device}.png"))
    assert [e for e in errors if "status of 422" not in e] == []
    page.close()
