"""Audit of personal-data access: every page, API read and export that shows companies' data
writes a row (who, what, when, from where), and analysts read them on /auditoria/."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from cli.context import CliContext
from cli.main import cpe
from engine.accounts import apitokens
from engine.programme.audit import entries
from engine.store.schema import DataAccess

from .conftest import task_ids


def rows(engine):
    with engine.Session() as s:
        return [(r.actor, r.action, r.subject, r.subject_id) for r in s.scalars(select(DataAccess)
                                                                                  .order_by(DataAccess.id))]


def test_the_case_page_records_who_saw_it(client, auth, engine, start):
    case_id = start()
    auth.login("eje.rm")
    client.get(f"/casos/{case_id}")
    client.get(f"/casos/{case_id}")
    assert rows(engine) == [("eje.rm", "view", "case", str(case_id))] * 2
    with engine.Session() as s:
        detail = entries(s, subject="case")[0]["detail"]
    assert detail == {"pagina": "caso", "ip": "127.0.0.1", "via": "web"}


def test_a_refused_page_records_nothing(client, auth, engine, start):
    case_id = start()
    auth.login("eje.bio")
    assert client.get(f"/casos/{case_id}").status_code == 403
    assert client.get(f"/casos/{case_id + 99}").status_code == 404
    assert rows(engine) == []


def test_the_case_list_and_diagram_are_not_personal_data_views(client, auth, engine, start):
    case_id = start()
    auth.login("eje.rm")
    client.get(f"/casos/{case_id}/recorrido.json")
    client.get("/bandeja")
    assert rows(engine) == []


def test_the_task_page_records_the_task_and_its_case(client, auth, engine, start):
    case_id = start()
    auth.login("eje.rm")
    task_id = task_ids(client.get(f"/casos/{case_id}").get_data(as_text=True))[0]
    assert client.get(f"/tareas/{task_id}").status_code == 200
    assert rows(engine)[-1] == ("eje.rm", "view", "task", task_id)
    with engine.Session() as s:
        assert entries(s, subject="task")[0]["detail"]["caso"] == case_id


def test_api_reads_record_the_token_owner(app, engine, start):
    case_id = start()
    token = apitokens.create_token(engine, "eje.rm", name="pruebas")[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 200
    task_id = engine.ready_tasks(case_id=case_id)[0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200
    assert rows(engine) == [("eje.rm", "view", "case", str(case_id)), ("eje.rm", "view", "task", task_id)]
    with engine.Session() as s:
        assert {e["detail"]["via"] for e in entries(s)} == {"api"}
    other = apitokens.create_token(engine, "eje.bio", name="pruebas")[1]
    assert client.get(f"/api/v1/cases/{case_id}",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert len(rows(engine)) == 2


def test_the_attendance_export_is_recorded(client, auth, engine):
    auth.login("eje.rm")
    assert client.get("/talleres/asistencia.csv").status_code == 200
    assert rows(engine) == [("eje.rm", "export", "attendance", None)]
    with engine.Session() as s:
        detail = entries(s)[0]["detail"]
    assert detail["archivo"] == "asistencia-talleres-CL-RM.csv" and detail["filas"] == 0


def test_cpe_backup_is_recorded_inside_the_copy(app, engine, tmp_path):
    result = CliRunner().invoke(cpe, ["backup", str(tmp_path / "copia.gz")],
                                obj=CliContext.for_app(app))
    assert result.exit_code == 0, result.output
    [(actor, action, subject, _id)] = rows(engine)
    assert actor.startswith("cli:") and (action, subject) == ("export", "backup")


# -- the analysts' page ------------------------------------------------------------------

def test_only_analysts_see_the_log_and_its_link(client, auth, engine):
    auth.login("eje.rm")
    assert client.get("/auditoria/").status_code == 403
    assert "/auditoria/" not in client.get("/bandeja").get_data(as_text=True)
    client.post("/salir")
    auth.login("analista")
    assert 'href="/auditoria/"' in client.get("/bandeja").get_data(as_text=True)
    page = client.get("/auditoria/")
    assert page.status_code == 200 and "No hay accesos registrados" in page.get_data(as_text=True)


def test_the_log_filters_by_person_data_and_date(client, auth, engine, clock, start):
    case_id = start()
    auth.login("eje.rm")
    client.get(f"/casos/{case_id}")
    client.post("/salir")
    clock.advance(days=2)
    auth.login("eje2.rm")
    client.get(f"/casos/{case_id}")
    client.get("/talleres/asistencia.csv")
    client.post("/salir")
    auth.login("analista")

    def shown(query=""):
        html = client.get(f"/auditoria/{query}").get_data(as_text=True)
        body = html.split("<tbody>")[1] if "<tbody>" in html else ""
        return body.count("<tr>"), body

    assert shown()[0] == 3
    count, body = shown("?actor=eje.rm")
    assert count == 1 and f"/casos/{case_id}" in body and "eje2.rm" not in body
    assert shown("?objeto=attendance")[0] == 1
    assert shown(f"?objeto=case&id={case_id}")[0] == 2
    # the virtual clock starts on 2026-03-02 09:00 UTC (06:00 in Santiago)
    assert shown("?hasta=2026-03-02")[0] == 1
    assert shown("?desde=2026-03-03")[0] == 2
    assert shown("?desde=2026-03-05")[0] == 0


def test_a_bad_filter_says_why(client, auth):
    auth.login("analista")
    response = client.get("/auditoria/?desde=ayer&objeto=nada")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "La fecha «ayer» no es válida (use AAAA-MM-DD)." in html and "Tipo de dato desconocido." in html


def test_logged_text_is_escaped(client, auth, engine):
    from engine.programme.audit import record

    with engine.transaction() as s:
        record(s, actor="<script>x</script>", action="view", subject="case", subject_id="1",
               detail={"q": "<b>hola</b>"}, now=engine.now())
    auth.login("analista")
    html = client.get("/auditoria/").get_data(as_text=True)
    assert "<script>x" not in html and "&lt;script&gt;x" in html and "&lt;b&gt;hola" in html
