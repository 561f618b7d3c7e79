"""Workshops in a real browser: attendance taken on a tablet, and a company registering in the portal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.programme import portal
from engine.programme import workshops as W

from ..test_workshops import add_company
from .conftest import login

TABLET = {"width": 820, "height": 1180}  # an iPad Air held upright
PHONE = {"width": 390, "height": 844}
COMPANIES = [
    ("76.086.428-5", "Viña Los Aromos SpA"),
    ("76.333.444-9", "Muebles del Sur Ltda."),
    ("79.345.678-6", "Conservas Pacífico S.A."),
    ("76.111.222-8", "Artesanías Chiloé E.I.R.L."),
    ("76.444.555-4", "Consultora Pacífico SpA"),
    ("77.123.456-9", "Alimentos del Maule Ltda."),
]


@pytest.fixture
def workshop_day(deployed, clock):
    """A Taller 123 Exporta about to start in Santiago with six companies registered, and two more sessions."""
    W.seed_catalogue(deployed)
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Elena Ejecutiva")
    ids = [add_company(deployed, rut, name) for rut, name in COMPANIES]
    session = W.create_session(deployed, "taller_123_exporta", datetime(2026, 3, 10, 10, 0),
                               "Dirección Regional ProChile RM, Av. Nueva Providencia 1901, Providencia", 25,
                               region="CL-RM", created_by="eje.rm")
    W.create_session(deployed, "ecommerce", datetime(2026, 3, 12, 15, 0), "https://reuniones.prochile.cl/ecommerce",
                     100, region=None, online=True, created_by="eje.rm")
    W.create_session(deployed, "mujer_exporta", datetime(2026, 3, 24, 9, 30), "Centro Pyme Exporta RM, Santiago",
                     3, region="CL-RM", created_by="eje.rm")
    for company_id in ids:
        W.register(deployed, session["id"], company_id, "pyme")
    clock.set(session["starts_at"] - timedelta(minutes=15))
    return session, ids



def test_an_executive_takes_attendance_on_a_tablet(browser, live_server, deployed, workshop_day, shot):
    session, ids = workshop_day
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=True, device_scale_factor=1)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "eje.rm")
    page.click("nav.mainnav >> text=Talleres")
    page.wait_for_url("**/talleres/")
    assert page.locator("table.sessions").get_by_text("Taller 123 Exporta").is_visible()
    shot(page, "talleres-list-tablet")
    page.locator("table.sessions a", has_text="Taller 123 Exporta").click()
    page.wait_for_url(f"**/talleres/{session['id']}")
    shot(page, "talleres-session-tablet")
    page.click("text=Tomar asistencia")
    page.wait_for_url(f"**/talleres/{session['id']}/asistencia")
    boxes = page.locator(".attendee")
    assert boxes.count() == 6
    box = boxes.first.bounding_box()
    assert box["height"] >= 64 and box["width"] >= 300  # a target a finger hits
    for name in ("Viña Los Aromos SpA", "Conservas Pacífico S.A.", "Alimentos del Maule Ltda.",
                 "Consultora Pacífico SpA"):
        page.locator(".attendee", has_text=name).tap()
    assert page.locator("[data-present]").inner_text() == "4"
    assert "unsaved" in page.locator(".attendance-bar").get_attribute("class")
    shot(page, "talleres-attendance-tablet")
    page.click("text=Guardar asistencia")
    page.wait_for_url(f"**/talleres/{session['id']}/asistencia")
    assert page.get_by_text("Asistencia guardada: 4 de 6 empresas presentes.").is_visible()
    assert page.locator(".attendee input:checked").count() == 4
    shot(page, "talleres-attendance-saved-tablet")
    present = {r["razon_social"] for r in W.attendance_sheet(deployed, session["id"])["rows"] if r["attended"]}
    assert present == {"Viña Los Aromos SpA", "Conservas Pacífico S.A.", "Alimentos del Maule Ltda.",
                       "Consultora Pacífico SpA"}
    assert errors == []
    context.close()


def test_a_company_registers_in_a_workshop_from_its_page(browser, live_server, deployed, workshop_day, shot):
    token = portal.issue_link(deployed, "76.111.222-8")
    page = browser.new_page(viewport=PHONE)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/portal/e/{token}")
    card = page.locator("#talleres")
    offer = card.locator(".session-offer", has_text="Taller Mujer Exporta")
    assert offer.get_by_text("3 cupos disponibles").is_visible()
    offer.get_by_role("button", name="Inscribirme").click()
    page.wait_for_url("**#talleres")
    assert page.get_by_text("Quedó inscrita en «Taller Mujer Exporta»").is_visible()
    mine = card.locator(".session-offer.is-mine")
    assert mine.count() == 2  # and the Taller 123 Exporta it was registered in before
    assert mine.filter(has_text="Taller Mujer Exporta").get_by_text("Inscrita").is_visible()
    shot(page, "portal-talleres-phone")
    assert errors == []
    page.close()
