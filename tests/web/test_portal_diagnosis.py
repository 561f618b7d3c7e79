"""The company portal's "Qué más necesita su empresa" and "Mensajes" cards (issue 16 item 11; thesis §5.2:
each company finds "su historial para saber cómo está posicionada, qué más necesita y cuáles son los
siguientes pasos"): the gaps written in the interview, the strengthening plan, and the milestone messages
the diagrams sent it — only its own, never the team's internal notes (`observaciones`)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.programme.portal import diagnosis
from engine.store.schema import Case, Company
from webapp import create_app

from ..driver import AGENDA
from ..profiles import ENTREVISTA_BAJA, ENTREVISTA_MEDIA, IDEA_ONLY, VINA_AMARILLO
from .test_portal import form_data, registered

GAPS = "Falta adaptar la etiqueta al mercado de destino y conocer sus requisitos sanitarios."
INTERNAL = "Nota interna: la gerente duda del compromiso del socio."


def portal(deployed, process_id):
    deployed.create_user("eje.portal", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    return create_app({"ENGINE": deployed, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "SERVER_NAME": "cpe.test", "PORTAL_PROCESS": process_id}).test_client()


@pytest.fixture
def client(deployed):
    return portal(deployed, "cpe_actual")


def card(html: str, card_id: str) -> str:
    match = re.search(rf'<section class="card" id="{card_id}">(.*?)</section>', html, re.S)
    assert match, f"no card {card_id}"
    return match.group(1)


def ready(engine, case_id, bpmn_id):
    tasks = {t["bpmn_id"]: t for t in engine.ready_tasks(case_id=case_id)}
    assert bpmn_id in tasks, sorted(tasks)
    return tasks[bpmn_id]["id"]


def answer_tpe(client, token, engine, case_id, answers):
    url = f"/portal/e/{token}/tareas/{ready(engine, case_id, 'Task_TPE_Bienes')}"
    assert client.post(url, data=form_data({"respuestas": answers})).status_code == 302


def case_of(engine, razon_social):
    with engine.Session() as s:
        [case_id] = s.scalars(select(Case.id).join(Company, Company.id == Case.company_id)
                              .where(Company.razon_social == razon_social)).all()
    return case_id


def test_the_company_sees_its_gaps_and_its_milestone_messages_but_not_internal_notes(client, deployed):
    token = registered(client)
    case_id = case_of(deployed, "Viña Los Aromos SpA")
    home = client.get(f"/portal/e/{token}").text
    assert "Aún no hay entrevista. Después de su TPE" in card(home, "diagnostico")
    messages = card(home, "mensajes")
    # the private-link email is listed, its link hidden: it belongs to the mailbox only
    assert "Su enlace al portal Centros Pyme Exporta" in messages and token not in messages
    assert "[enlace privado oculto: solo va por correo]" in messages

    answer_tpe(client, token, deployed, case_id, VINA_AMARILLO)
    deployed.complete(ready(deployed, case_id, "Task_AgendarEntrevista"),
                      {**AGENDA, "observaciones": INTERNAL})
    home = client.get(f"/portal/e/{token}").text
    assert "05-03-2026 10:30 · En la empresa" in home  # the interview, in Chilean format
    assert "Aún no hay entrevista: cuando su ejecutivo la realice" in card(home, "diagnostico")
    assert "Entrevista de diagnóstico agendada: 05-03-2026 a las 10:30" in card(home, "mensajes")

    deployed.complete(ready(deployed, case_id, "Task_Entrevista"),
                      {"respuestas": ENTREVISTA_MEDIA, "brechas": GAPS, "observaciones": INTERNAL})
    home = client.get(f"/portal/e/{token}").text
    diagnosis = card(home, "diagnostico")
    assert "Brechas detectadas en la entrevista" in diagnosis and GAPS in diagnosis
    assert "Plan de fortalecimiento" not in diagnosis  # none agreed (the current process has none)
    messages = card(home, "mensajes")
    assert "Resultado de su evaluación en el Centro PYME Exporta: segmento amarillo" in messages
    assert messages.index("Resultado de su evaluación") < messages.index("Entrevista de diagnóstico agendada")
    assert INTERNAL not in home and "Nota interna" not in home


def test_another_company_sees_none_of_it(client, deployed):
    mine = registered(client)
    other = registered(client, rut="96.790.240-3", razon_social="Frutos del Maule SpA",
                       contacto_email="otra@empresa.cl")
    case_id = case_of(deployed, "Viña Los Aromos SpA")
    answer_tpe(client, mine, deployed, case_id, VINA_AMARILLO)
    deployed.complete(ready(deployed, case_id, "Task_AgendarEntrevista"), AGENDA)
    deployed.complete(ready(deployed, case_id, "Task_Entrevista"),
                      {"respuestas": ENTREVISTA_MEDIA, "brechas": GAPS, "observaciones": INTERNAL})
    assert GAPS in client.get(f"/portal/e/{mine}").text
    theirs = client.get(f"/portal/e/{other}").text
    assert "Frutos del Maule SpA" in theirs and "Viña Los Aromos" not in theirs
    assert GAPS not in theirs and INTERNAL not in theirs
    assert "Entrevista de diagnóstico agendada" not in theirs and "Resultado de su evaluación" not in theirs
    assert "Aún no hay entrevista. Después de su TPE" in card(theirs, "diagnostico")
    assert mine not in theirs


def test_a_derived_company_reads_the_institution_and_its_contact_in_its_messages(client, deployed):
    token = registered(client, ventas_uf=1500)
    home = client.get(f"/portal/e/{token}").text
    assert 'id="diagnostico"' not in home  # derived at the size gate: no interview will come
    messages = card(home, "mensajes")
    assert "Su empresa fue derivada a SERCOTEC — Centro de Negocios Santiago" in messages
    assert "Contacto: Mesa de atención del Centro de Negocios Sercotec de Santiago." in messages


def test_the_proposal_shows_the_strengthening_plan_without_its_internal_notes(deployed):
    """cpe_propuesto: a rojo company agrees a strengthening plan (forms/plan_fortalecimiento.json); the
    company reads the prioritised gaps, the actions and the review date, not the executive's notes."""
    client = portal(deployed, "cpe_propuesto")
    token = registered(client, tipo_persona="natural", ventas_uf=3000, razon_social="Juana Soto")
    case_id = case_of(deployed, "Juana Soto")
    answer_tpe(client, token, deployed, case_id, IDEA_ONLY)
    deployed.complete(ready(deployed, case_id, "Task_AgendarEntrevista"), AGENDA)
    deployed.complete(ready(deployed, case_id, "Task_Entrevista"),
                      {"respuestas": ENTREVISTA_BAJA, "brechas": GAPS, "observaciones": INTERNAL})
    diagnosis = card(client.get(f"/portal/e/{token}").text, "diagnostico")
    assert GAPS in diagnosis and "Plan de fortalecimiento" not in diagnosis  # not agreed yet
    deployed.complete(ready(deployed, case_id, "Task_PlanFortalecimiento"), {
        "brechas_priorizadas": "Formalizar la empresa y definir un producto.",
        "acciones": ["Iniciar actividades en el SII", "Taller de plan de negocios con SERCOTEC"],
        "fecha_revision": "2026-09-01", "observaciones": INTERNAL})
    home = client.get(f"/portal/e/{token}").text
    diagnosis = card(home, "diagnostico")
    assert "Plan de fortalecimiento" in diagnosis
    assert "Formalizar la empresa y definir un producto." in diagnosis
    assert re.search(r"<li>Iniciar actividades en el SII</li>\s*<li>Taller de plan de negocios con SERCOTEC</li>",
                     diagnosis)
    assert "Revisaremos su avance el 01-09-2026." in diagnosis
    assert INTERNAL not in home
    assert "plan de fortalecimiento con SERCOTEC o CORFO" in card(home, "mensajes")


def test_gaps_written_as_markup_are_shown_as_text(client, deployed):
    token = registered(client)
    case_id = case_of(deployed, "Viña Los Aromos SpA")
    answer_tpe(client, token, deployed, case_id, VINA_AMARILLO)
    deployed.complete(ready(deployed, case_id, "Task_AgendarEntrevista"), AGENDA)
    deployed.complete(ready(deployed, case_id, "Task_Entrevista"),
                      {"respuestas": ENTREVISTA_MEDIA, "brechas": "<script>alert(1)</script> Etiquetas."})
    home = client.get(f"/portal/e/{token}").text
    assert "<script>alert(1)</script>" not in home and "&lt;script&gt;alert(1)&lt;/script&gt; Etiquetas." in home


@pytest.mark.parametrize("data, expected", [
    ({}, {"brechas": None, "plan": None}),
    ({"brechas": "   ", "observaciones": "Interna"}, {"brechas": None, "plan": None}),
    ({"brechas": " Certificar HACCP. ", "observaciones": "Interna"}, {"brechas": "Certificar HACCP.", "plan": None}),
    ({"brechas_priorizadas": "Formalizar", "acciones": ["Iniciar actividades", " ", 7, "Taller "],
      "fecha_revision": "2026-09-01", "observaciones": "Interna"},
     {"brechas": None, "plan": {"brechas_priorizadas": "Formalizar", "acciones": ["Iniciar actividades", "Taller"],
                                "fecha_revision": date(2026, 9, 1)}}),
    ({"acciones": ["Una acción"], "fecha_revision": "2026-13-01"},
     {"brechas": None, "plan": {"brechas_priorizadas": None, "acciones": ["Una acción"], "fecha_revision": None}}),
    ({"acciones": "no es una lista", "fecha_revision": "2026-09-01"}, {"brechas": None, "plan": None}),
])
def test_what_the_company_reads_of_its_diagnosis(data, expected):
    """Only the gaps and the plan's fields; blank or malformed values read as absent, never `observaciones`."""
    assert diagnosis(data) == expected
