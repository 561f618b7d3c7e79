"""Company portal: registration and the TPE online, the private link, one case per RUT."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.store.schema import Case, Company, OutboxMessage, PortalLink
from webapp import create_app

from ..profiles import VINA_AMARILLO, empresa


@pytest.fixture
def portal_app(deployed):
    deployed.create_user("eje.portal", "secreto-123", "ejecutivo_cpe", region="CL-RM")  # takes the companies' cases
    return create_app({"ENGINE": deployed, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "SERVER_NAME": "cpe.test"})


@pytest.fixture
def client(portal_app):
    return portal_app.test_client()


def form_data(data: dict, prefix: str = "") -> dict:
    """A JSON object as the browser posts it from the server-rendered form."""
    posted = {}
    for key, value in data.items():
        if isinstance(value, dict):
            posted.update(form_data(value, f"{prefix}{key}."))
        elif isinstance(value, bool):
            posted[f"{prefix}{key}__present"] = "1"
            if value:
                posted[f"{prefix}{key}"] = "1"
        else:
            posted[f"{prefix}{key}"] = str(value)
    return posted


def register(client, **company):
    return client.post("/portal/registro", data=form_data(empresa(**company)))


def link_in_outbox(engine, address: str) -> str:
    """The private-link token in the newest email queued to `address` (the link is only sent
    by email, never shown on the page)."""
    with engine.Session() as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)
                            .order_by(OutboxMessage.id.desc())).first()
    assert message is not None, f"no email to {address}"
    match = re.search(r"/portal/e/([A-Za-z0-9_-]{40,})", message.mensaje)
    assert match, message.mensaje
    return match.group(1)


def registered(client, **company) -> str:
    """Register a company in the portal and return the token of the link emailed to it."""
    response = register(client, **company)
    assert response.status_code == 302, response.text
    return link_in_outbox(client.application.extensions["cpe_engine"], empresa(**company)["contacto_email"])


def count(engine, model):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_landing_and_registration_form(client):
    landing = client.get("/portal/")
    assert landing.status_code == 200 and "/portal/registro" in landing.text
    form = client.get("/portal/registro")
    assert form.status_code == 200
    assert 'name="rut"' in form.text and 'name="ventas_uf"' in form.text and "Razón social" in form.text


def test_invalid_registration_changes_nothing(client, deployed):
    bad = client.post("/portal/registro", data=form_data(empresa(rut="76.086.428-4")))
    assert bad.status_code == 422 and "dígito verificador" in bad.text
    assert 'value="Viña Los Aromos SpA"' in bad.text  # values kept
    missing = client.post("/portal/registro", data={"rut": "76.086.428-5"})
    assert missing.status_code == 422 and "Razón social" in missing.text
    assert count(deployed, Company) == 0 and count(deployed, Case) == 0 and count(deployed, PortalLink) == 0


def test_company_registers_takes_the_tpe_and_follows_its_case(client, deployed):
    response = register(client)
    assert response.status_code == 302 and response.location.endswith("/portal/")
    assert "le enviamos a su correo de contacto el enlace privado" in client.get(response.location).text
    token = link_in_outbox(deployed, "contacto@empresa.cl")  # only by email, never on the page
    with deployed.Session() as s:
        [message] = s.scalars(select(OutboxMessage)).all()
        [case] = s.scalars(select(Case)).all()
    assert message.to_address == "contacto@empresa.cl" and f"/portal/e/{token}" in message.mensaje
    assert case.created_by == "pyme"

    home = client.get(f"/portal/e/{token}")
    assert home.status_code == 200 and "Viña Los Aromos SpA" in home.text
    assert home.headers["Cache-Control"] == "no-store" and home.headers["Referrer-Policy"] == "no-referrer"
    assert re.search(r'stage-current"[^>]*>\s*<span class="stage-dot"[^>]*></span>\s*<span class="stage-label">'
                     r"Test de Potencialidad Exportadora", home.text)
    [task] = deployed.ready_tasks(case_id=case.id)
    assert task["bpmn_id"] == "Task_TPE_Bienes"
    url = f"/portal/e/{token}/tareas/{task['id']}"
    assert url in home.text

    empty = client.post(url, data={})
    assert empty.status_code == 422 and "Revise los campos marcados" in empty.text
    half = {"respuestas": {k: VINA_AMARILLO[k] for k in list(VINA_AMARILLO)[:5]}}
    client.post(url, data=dict(form_data(half), accion="borrador"))
    again = client.get(url)
    assert "Borrador del" in again.text
    assert 'name="respuestas.anos_funcionamiento" value="mas_5" checked' in again.text

    done = client.post(url, data=form_data({"respuestas": VINA_AMARILLO}))
    assert done.status_code == 302 and done.location.endswith(f"/portal/e/{token}")
    case_after = deployed.case(case.id)
    assert case_after["data"]["puntaje_tpe"] > 0
    assert [e["actor"] for e in case_after["history"] if e["kind"] == "task_completed"] == ["pyme"]
    home = client.get(f"/portal/e/{token}").text
    assert "Contactar y agendar entrevista" in home  # the team's next step
    assert f"{case_after['data']['puntaje_tpe']}" in home
    assert "Completar TPE de bienes" in home and "por su empresa" in home
    assert client.get(url).status_code == 302  # the step is done: back to the page


def test_a_second_registration_of_the_same_rut_starts_nothing(client, deployed):
    first = register(client)
    again = register(client, razon_social="Otra razón social")
    assert again.status_code == first.status_code == 302 and again.location == first.location
    assert count(deployed, Case) == 1 and count(deployed, Company) == 1
    assert count(deployed, OutboxMessage) == 2  # a fresh link went to the email on file
    with deployed.Session() as s:
        assert s.scalar(select(Company.razon_social)) == "Viña Los Aromos SpA"


def test_links_are_secret_and_expire(client, deployed, clock):
    token = registered(client)
    assert client.get(f"/portal/e/{token[:-1]}x").status_code == 404
    assert client.get("/portal/e/corto").status_code == 404
    clock.advance(days=181)
    assert client.get(f"/portal/e/{token}").status_code == 404


def test_a_link_opens_only_its_own_company_tasks(client, deployed):
    mine = registered(client)
    other = registered(client, rut="96.790.240-3", razon_social="Frutos del Maule SpA")
    other_case = deployed.case(2)
    assert other_case["data"]["razon_social"] == "Frutos del Maule SpA"
    [other_task] = deployed.ready_tasks(case_id=2)
    assert client.get(f"/portal/e/{mine}/tareas/{other_task['id']}").status_code == 404
    assert client.post(f"/portal/e/{mine}/tareas/{other_task['id']}",
                       data=form_data({"respuestas": VINA_AMARILLO})).status_code == 404
    assert deployed.task(other_task["id"])["state"] == "ready"
    # the executive's steps are not the company's
    deployed.complete(other_task["id"], {"respuestas": VINA_AMARILLO})
    [agenda] = deployed.ready_tasks(case_id=2)
    assert client.get(f"/portal/e/{other}/tareas/{agenda['id']}").status_code == 404


def test_requesting_a_link_reveals_nothing(client, deployed):
    client.get(register(client).location)  # shows (and clears) the registration message
    known = client.post("/portal/enlace", data={"rut": "76086428-5"}, follow_redirects=True)
    unknown = client.post("/portal/enlace", data={"rut": "96.790.240-3"}, follow_redirects=True)
    invalid = client.post("/portal/enlace", data={"rut": "no-es-un-rut"}, follow_redirects=True)
    assert known.text == unknown.text == invalid.text
    assert "Si el RUT está registrado" in known.text
    assert count(deployed, OutboxMessage) == 2 and count(deployed, PortalLink) == 2


def test_micro_company_sees_its_derivation(client, deployed):
    token = registered(client, ventas_uf=1500)
    home = client.get(f"/portal/e/{token}").text
    assert "Su empresa fue derivada a:" in home and "SERCOTEC" in home.upper()
    assert "no aplica" in home


def test_company_text_is_escaped(client):
    token = registered(client, razon_social="<script>alert(1)</script> SpA")
    home = client.get(f"/portal/e/{token}").text
    assert "<script>alert(1)</script>" not in home and "&lt;script&gt;alert(1)&lt;/script&gt; SpA" in home


def test_registration_without_a_deployed_process_says_so(engine):
    app = create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})
    page = app.test_client().get("/portal/registro")
    assert page.status_code == 503 and "no está desplegado" in page.text


def test_a_company_without_a_case_is_invited_to_start(client, deployed):
    from engine.programme import portal

    from ..test_workshops import add_company

    add_company(deployed, "76.111.222-8", "Artesanías Chiloé E.I.R.L.")  # e.g. a workshop walk-in
    token = portal.issue_link(deployed, "76111222-8")
    home = client.get(f"/portal/e/{token}").text
    assert "aún no comienza la ruta exportadora" in home and f'href="/portal/e/{token}/postular"' in home
    register(client, rut="76.111.222-8", razon_social="Otra SpA")  # anonymous: starts nothing
    assert "aún no comienza" in client.get(f"/portal/e/{token}").text and count(deployed, Case) == 0
    client.post(f"/portal/e/{token}/postular", data=form_data(empresa(razon_social="Artesanías Chiloé E.I.R.L.")))
    assert "aún no comienza" not in client.get(f"/portal/e/{token}").text and count(deployed, Case) == 1


def test_a_persona_natural_registers_without_consent(client, deployed):
    """Manual §8: the signed authorisation is asked of personas naturales only for the Correos de
    Chile discount; it never blocks registration (issue 16 item 6)."""
    response = register(client, tipo_persona="natural", razon_social="Juana Soto Artesanías",
                         consentimiento_datos=False)
    assert response.status_code == 302, response.text
    with deployed.Session() as s:
        company = s.scalars(select(Company)).one()
        assert (company.tipo_persona, company.consentimiento_datos) == ("natural", False)
        assert s.scalar(select(func.count()).select_from(Case)) == 1
    from engine.programme.benefits import entitled
    assert not entitled("natural", False, "amarillo", None, "open")  # no discount without the signature
    assert entitled("natural", True, "amarillo", None, "open")
