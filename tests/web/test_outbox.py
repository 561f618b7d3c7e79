"""The analysts' mail page (/correo/): every message with its delivery state, a filter by state
and one message's full text (an audited view of a company's data)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from engine.store.schema import Company, DataAccess, OutboxMessage, PortalLink

from .conftest import PASSWORD


def queue(engine, address, asunto, mensaje="Hola.", **state):
    with engine.transaction() as s:
        row = OutboxMessage(destinatario="pyme", to_address=address, asunto=asunto, mensaje=mensaje,
                            created_at=engine.now(), **state)
        s.add(row)
        s.flush()
        return row.id


def test_analysts_read_the_outbox_and_filter_it_by_state(client, auth, engine):
    pending = queue(engine, "uno@example.cl", "Su enlace al portal", "Entre aquí: https://cpe/portal/e/x\nGracias.")
    queue(engine, None, "Aviso sin destino")
    queue(engine, "dos@example.cl", "Aviso fallido", status="failed", attempts=8,
          last_error="no se pudo conectar con el servidor de correo")
    auth.login("analista")
    page = client.get("/correo/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Su enlace al portal" in html and "Aviso sin destino" in html and "Aviso fallido" in html
    assert "CPE_SMTP_URL" in html  # development: nothing leaves, this is where mail is read
    assert 'href="/correo/"' in html  # in the analyst's navigation
    failed = client.get("/correo/?estado=failed").get_data(as_text=True)
    assert "Aviso fallido" in failed and "no se pudo conectar con el servidor de correo" in failed
    assert "Su enlace al portal" not in failed and "Aviso sin destino" not in failed
    assert "Aviso sin destino" in client.get("/correo/?estado=sin_direccion").get_data(as_text=True)
    bad = client.get("/correo/?estado=<x>")
    assert bad.status_code == 400 and "Estado desconocido" in bad.get_data(as_text=True)

    detail = client.get(f"/correo/{pending}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "Entre aquí: https://cpe/portal/e/x\nGracias." in text
    with engine.Session() as s:
        rows = [(row.actor, row.action, row.subject, row.subject_id, row.detail.get("estado"))
                for row in s.scalars(select(DataAccess).order_by(DataAccess.id))]
    listed = [("analista", "view", "outbox", None, shown) for shown in ("todos", "failed", "sin_direccion", "todos")]
    assert rows == [*listed, ("analista", "view", "outbox", str(pending), None)]  # every list page, then the message
    assert client.get("/correo/999999").status_code == 404


def test_the_page_says_nothing_about_development_when_mail_is_sent(app, client, auth, engine):
    app.config["MAIL_SENT"] = True
    auth.login("analista")
    assert "CPE_SMTP_URL" not in client.get("/correo/").get_data(as_text=True)


def test_only_analysts_see_the_outbox(client, auth, engine):
    message = queue(engine, "uno@example.cl", "Aviso")
    anonymous = client.get("/correo/")
    assert anonymous.status_code == 302 and "/ingresar" in anonymous.headers["Location"]
    assert auth.login("eje.rm", PASSWORD).status_code == 302
    assert client.get("/correo/").status_code == 403
    assert client.get(f"/correo/{message}").status_code == 403
    assert 'href="/correo/"' not in client.get("/bandeja").get_data(as_text=True)
    with engine.Session() as s:
        assert s.scalars(select(DataAccess)).all() == []


def test_an_analyst_sends_a_failed_message_again(client, auth, engine):
    failed = queue(engine, "dos@example.cl", "Aviso fallido", status="failed", attempts=8, last_error="x")
    pending = queue(engine, "uno@example.cl", "Aviso")
    auth.login("analista")
    assert "Reintentar el envío" in client.get(f"/correo/{failed}").get_data(as_text=True)
    assert "Reintentar el envío" not in client.get(f"/correo/{pending}").get_data(as_text=True)
    answer = client.post(f"/correo/{failed}/reintentar", follow_redirects=True)
    assert answer.status_code == 200 and "volverá a enviarse" in answer.get_data(as_text=True)
    again = client.post(f"/correo/{pending}/reintentar", follow_redirects=True)
    assert "Solo se reintenta un mensaje fallido." in again.get_data(as_text=True)
    assert client.post("/correo/999999/reintentar").status_code == 404
    with engine.Session() as s:
        rows = {m.id: (m.status, m.attempts, m.last_error) for m in s.scalars(select(OutboxMessage))}
        retried = [(row.actor, row.subject_id) for row in s.scalars(select(DataAccess))
                   if row.detail.get("accion") == "reintentar"]
    assert rows == {failed: ("pending", 0, None), pending: ("pending", 0, None)}
    assert retried == [("analista", str(failed))]  # only the retry that happened


def test_a_working_portal_link_is_masked_on_the_page_when_mail_is_really_sent(app, client, auth, engine):
    token = "A" * 20 + "b-_" + "9" * 20  # the shape of secrets.token_urlsafe(32)
    with engine.transaction() as s:
        company = Company(rut="76086428-5", razon_social="Conservas del Sur SpA", created_at=engine.now(),
                          updated_at=engine.now())
        s.add(company)
        s.flush()
        s.add(PortalLink(company_id=company.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=engine.now(), expires_at=engine.now() + timedelta(days=1)))
    message = queue(engine, "uno@example.cl", "Su enlace", f"Entre aquí: https://cpe/portal/e/{token}\nGracias.")
    auth.login("analista")
    assert token in client.get(f"/correo/{message}").get_data(as_text=True)  # development: read it here
    app.config["MAIL_SENT"] = True
    html = client.get(f"/correo/{message}").get_data(as_text=True)
    assert token not in html and "/portal/e/[enlace privado oculto" in html
    with engine.Session() as s:
        assert token in s.get(OutboxMessage, message).mensaje  # only the page masks it: the mail carries it
