"""The company portal's Talleres card: sessions open to the company, registration and cancelling."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.programme import workshops as W
from engine.store.schema import Company, WorkshopRegistration

from ..test_workshops import SOON, add_company
from .test_portal import client, portal_app, registered  # noqa: F401 - fixtures and helpers


@pytest.fixture
def company(client, deployed):  # noqa: F811 - the portal's client fixture
    """Viña Los Aromos (RM) registered through the portal, and its private page."""
    W.seed_catalogue(deployed)
    token = registered(client)
    with deployed.Session() as s:
        company_id = s.scalar(select(Company.id).where(Company.rut == "76.086.428-5"))
    return {"token": token, "id": company_id, "home": f"/portal/e/{token}"}


def new_session(engine, key="taller_123_exporta", region="CL-RM", online=False, capacity=20, starts_at=SOON,
                place="Oficina ProChile RM") -> int:
    return W.create_session(engine, key, starts_at, place, capacity, region=region, online=online,
                            created_by="eje.rm")["id"]


def section(html: str) -> str:
    match = re.search(r'<section class="card" id="talleres">(.*?)</section>', html, re.S)
    assert match, "no Talleres card"
    return match.group(1)


def mine(engine, company_id) -> list[tuple[int, str]]:
    with engine.Session() as s:
        return [(r.session_id, r.registered_by) for r in s.scalars(
            select(WorkshopRegistration).where(WorkshopRegistration.company_id == company_id))]


def test_the_card_lists_the_sessions_open_to_the_company(client, deployed, company):  # noqa: F811
    empty = section(client.get(company["home"]).text)
    assert "No hay sesiones programadas" in empty
    rm = new_session(deployed, capacity=3)
    bio = new_session(deployed, key="tramites_precios", region="CL-BI", place="Concepción")
    online = new_session(deployed, key="ecommerce", region="CL-BI", online=True, place="https://meet.example/x")
    national = new_session(deployed, key="coaching_exportador", region=None, place="Santiago",
                           starts_at=SOON + timedelta(days=1))
    card = section(client.get(company["home"]).text)
    for session_id in (rm, online, national):
        assert f'action="/portal/e/{company["token"]}/talleres/{session_id}"' in card
    assert f"/talleres/{bio}" not in card and "Concepción" not in card
    assert "3 cupos disponibles" in card and "Inscribirme" in card
    assert card.count('name="csrf_token"') == 3
    assert "martes, 10 de marzo de 2026, 10:00 h" in card  # local time in Santiago


def test_the_company_registers_and_cancels_its_registration(client, deployed, company):  # noqa: F811
    rm = new_session(deployed, capacity=2)
    done = client.post(f"{company['home']}/talleres/{rm}")
    assert done.status_code == 302 and done.location.endswith(f"{company['home']}#talleres")
    assert mine(deployed, company["id"]) == [(rm, "pyme")]
    page = client.get(company["home"])
    assert "Quedó inscrita en «Taller 123 Exporta» del 10-03-2026 10:00." in page.text
    card = section(page.text)
    assert "Inscrita" in card and f'action="/portal/e/{company["token"]}/talleres/{rm}/anular"' in card
    assert W.get_session(deployed, rm)["seats_left"] == 1
    twice = client.post(f"{company['home']}/talleres/{rm}", follow_redirects=True)
    assert "La empresa ya está inscrita en esta sesión." in twice.text
    cancelled = client.post(f"{company['home']}/talleres/{rm}/anular", follow_redirects=True)
    assert "Anulamos su inscripción" in cancelled.text and mine(deployed, company["id"]) == []
    assert client.post(f"{company['home']}/talleres/{rm}/anular").status_code == 404


@pytest.mark.parametrize("situation,message", [
    ("other_region", "Esta sesión no está abierta a empresas de su región."),
    ("full", "No quedan cupos en esta sesión."),
    ("started", "La sesión ya comenzó: no admite inscripciones."),
    ("cancelled", "La sesión fue cancelada."),
])
def test_a_registration_the_portal_refuses(client, deployed, clock, company, situation, message):  # noqa: F811
    session_id = new_session(deployed, region="CL-BI" if situation == "other_region" else "CL-RM", capacity=1)
    if situation == "full":
        W.register(deployed, session_id, add_company(deployed, "96.790.240-3", "Otra SpA"), "eje.rm")
    elif situation == "started":
        clock.set(W.get_session(deployed, session_id)["starts_at"] + timedelta(minutes=1))
    elif situation == "cancelled":
        W.cancel_session(deployed, session_id, "eje.rm")
    response = client.post(f"{company['home']}/talleres/{session_id}", follow_redirects=True)
    assert response.status_code == 200 and message in response.text
    assert mine(deployed, company["id"]) == []


def test_unknown_links_and_sessions(client, deployed, company):  # noqa: F811
    rm = new_session(deployed)
    assert client.post(f"/portal/e/{'x' * 43}/talleres/{rm}").status_code == 404
    assert client.post(f"{company['home']}/talleres/999").status_code == 404
    assert mine(deployed, company["id"]) == []


def test_the_company_sees_its_past_workshops(client, deployed, clock, company):  # noqa: F811
    held = new_session(deployed, starts_at=datetime(2026, 3, 3, 10, 0))
    missed = new_session(deployed, key="mujer_exporta", starts_at=datetime(2026, 3, 4, 10, 0))
    elsewhere = new_session(deployed, key="tramites_precios", region="CL-BI", place="Concepción",
                            starts_at=datetime(2026, 3, 20, 10, 0))
    for session_id in (held, missed):
        client.post(f"{company['home']}/talleres/{session_id}")
    W.register(deployed, elsewhere, company["id"], "eje.rm")  # an executive may register it anywhere
    clock.set(W.get_session(deployed, missed)["starts_at"])
    W.mark_attendance(deployed, held, [company["id"]], "eje.rm")
    W.mark_attendance(deployed, missed, [], "eje.rm")
    card = section(client.get(company["home"]).text)
    assert re.search(r"Taller 123 Exporta</strong>.*?ws-attended\">Asistió", card, re.S)
    assert re.search(r"Taller Mujer Exporta</strong>.*?ws-absent\">No asistió", card, re.S)
    assert re.search(r"Trámites de Exportación y determinación de precios</strong>.*?ws-registered\">Inscrita", card,
                     re.S)
    assert f"/talleres/{elsewhere}/anular" in card and f"/talleres/{held}/anular" not in card
