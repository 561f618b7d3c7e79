"""Talleres in the web app: permissions by role and region, registration, attendance and the export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.programme import workshops as W
from engine.store.schema import OutboxMessage, WorkshopRegistration, WorkshopSession
from webapp import create_app

from ..test_workshops import SOON, add_company
from .conftest import PASSWORD


@pytest.fixture
def talleres(app, engine):
    """The catalogue, two more users and four companies (three in RM, one in Biobío)."""
    W.seed_catalogue(engine)
    engine.create_user("jefe.rm", PASSWORD, "jefe_regional", region="CL-RM")
    engine.create_user("prochile.rm", PASSWORD, "ejecutivo_prochile", region="CL-RM")
    return {
        "vina": add_company(engine, "76.086.428-5", "Viña Los Aromos SpA"),
        "muebles": add_company(engine, "76.333.444-9", "Muebles del Sur Ltda."),
        "conservas": add_company(engine, "79.345.678-6", "Conservas Pacífico S.A."),
        "berries": add_company(engine, "76.555.666-K", "Berries del Biobío SpA", region="CL-BI"),
    }


def session(engine, key="taller_123_exporta", region="CL-RM", online=False, capacity=20, starts_at=SOON,
            place="Oficina ProChile RM") -> int:
    return W.create_session(engine, key, starts_at, place, capacity, region=region, online=online,
                            created_by="eje.rm")["id"]


def count(engine, model) -> int:
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(model))


def registered(engine, session_id) -> set[int]:
    with engine.Session() as s:
        return set(s.scalars(select(WorkshopRegistration.company_id)
                             .where(WorkshopRegistration.session_id == session_id)))


NEW = {"taller": "taller_123_exporta", "fecha": "2026-03-20", "hora": "10:00", "region": "CL-RM",
       "lugar": "Sala ProChile, Providencia", "cupo": "30"}


# -- list and creation --------------------------------------------------------------------

def test_login_is_required(client, talleres):
    response = client.get("/talleres/")
    assert response.status_code == 302 and "/ingresar" in response.location


def test_the_list_shows_the_sessions_open_to_my_region_with_seats_left(client, auth, engine, talleres):
    rm = session(engine, capacity=2)
    bio = session(engine, key="tramites_precios", region="CL-BI", place="Concepción")
    online = session(engine, key="ecommerce", region="CL-BI", online=True, place="https://meet.example/x")
    W.register(engine, rm, talleres["vina"], "pyme")
    auth.login("eje.rm")
    assert 'href="/talleres/"' in client.get("/bandeja").text  # the top navigation
    page = client.get("/talleres/")
    assert page.status_code == 200
    assert f'"/talleres/{rm}"' in page.text and f'"/talleres/{online}"' in page.text
    assert f'"/talleres/{bio}"' not in page.text  # Biobío, in person
    assert "1 / 2" in page.text and "1 cupo" in page.text and "Programar sesión" in page.text
    assert "Taller Mujer Exporta" in page.text  # the catalogue
    assert '<select name="region">' not in page.text  # a regional user has no region filter
    client.post("/salir")
    auth.login("analista")
    national = client.get("/talleres/?region=CL-BI").text
    assert national.count('<select name="region">') == 2  # the filter and the export form
    assert national.count('<option value="CL-BI" selected>') == 2
    assert f'"/talleres/{bio}"' in national and f'"/talleres/{rm}"' not in national


CREATE = [
    ("eje.rm", "CL-RM", 302),
    ("jefe.rm", "CL-RM", 302),
    ("analista", "", 302),  # national
    ("analista", "CL-BI", 302),
    ("eje.rm", "CL-BI", 403),  # another region
    ("eje.rm", "", 403),  # national: analysts only
    ("eje.bio", "CL-RM", 403),
    ("prochile.rm", "CL-RM", 403),  # role
]


@pytest.mark.parametrize("user,region,status", CREATE)
def test_who_may_schedule_a_session(client, auth, engine, talleres, user, region, status):
    auth.login(user)
    response = client.post("/talleres/nueva", data=dict(NEW, region=region))
    assert response.status_code == status
    assert count(engine, WorkshopSession) == (1 if status == 302 else 0)
    if status == 302:
        [created] = W.upcoming(engine)
        assert response.location.endswith(f"/talleres/{created['id']}")
        assert created["region"] == (region or None) and created["capacity"] == 30
        assert created["starts_at"] == datetime(2026, 3, 20, 13, 0, tzinfo=UTC)  # 10:00 in Santiago


def test_the_creation_form_is_offered_only_to_those_who_may_use_it(client, auth, talleres):
    auth.login("prochile.rm")
    assert client.get("/talleres/nueva").status_code == 403
    assert "Programar sesión" not in client.get("/talleres/").text
    client.post("/salir")
    auth.login("eje.rm")
    form = client.get("/talleres/nueva")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    assert '<input type="hidden" name="region" value="CL-RM">' in form.text  # fixed to the user's region


@pytest.mark.parametrize("change,message", [
    ({"fecha": "2026-03-01"}, "La fecha de la sesión debe ser futura."),
    ({"fecha": "mañana"}, "Indique la fecha de la sesión (AAAA-MM-DD)."),
    ({"hora": "25:99"}, "Indique la hora de inicio (HH:MM)."),
    ({"cupo": "muchos"}, "El cupo debe ser un número entero entre 1 y 500."),
    ({"cupo": "501"}, "El cupo debe ser un número entero entre 1 y 500."),
    ({"lugar": ""}, "Indique el lugar de la sesión"),
    ({"taller": "origami"}, "Taller desconocido «origami»."),
])
def test_an_invalid_session_form_says_why_and_keeps_the_values(client, auth, engine, talleres, change, message):
    auth.login("eje.rm")
    response = client.post("/talleres/nueva", data=dict(NEW, **change))
    assert response.status_code == 422 and message in response.text
    assert 'value="Sala ProChile, Providencia"' in response.text or change.get("lugar") == ""
    assert count(engine, WorkshopSession) == 0


# -- the session page, registrations ---------------------------------------------------------

def test_another_regions_executive_cannot_see_or_act_on_a_session(client, auth, engine, talleres):
    rm = session(engine)
    W.register(engine, rm, talleres["vina"], "pyme")
    auth.login("eje.bio")
    assert client.get(f"/talleres/{rm}").status_code == 403
    assert client.get(f"/talleres/{rm}/asistencia").status_code == 403
    refused = [
        client.post(f"/talleres/{rm}/inscribir", data={"rut": "76.555.666-K"}),
        client.post(f"/talleres/{rm}/inscripciones/{talleres['vina']}/anular"),
        client.post(f"/talleres/{rm}/asistencia", data={"presente": [str(talleres["vina"])]}),
        client.post(f"/talleres/{rm}/cancelar"),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert registered(engine, rm) == {talleres["vina"]} and not W.get_session(engine, rm)["cancelled"]
    assert client.get("/talleres/999").status_code == 404


def test_an_executive_registers_companies_by_rut(client, auth, engine, talleres):
    rm = session(engine)
    auth.login("eje.rm")
    page = client.get(f"/talleres/{rm}")
    assert page.status_code == 200 and f'action="/talleres/{rm}/inscribir"' in page.text
    done = client.post(f"/talleres/{rm}/inscribir", data={"rut": "76086428-5"}, follow_redirects=True)
    assert "Viña Los Aromos SpA quedó inscrita en la sesión." in done.text
    again = client.post(f"/talleres/{rm}/inscribir", data={"rut": "76.086.428-5"}, follow_redirects=True)
    assert "La empresa ya está inscrita en esta sesión." in again.text
    bad = client.post(f"/talleres/{rm}/inscribir", data={"rut": "76.086.428-4"}, follow_redirects=True)
    assert "RUT inválido: dígito verificador incorrecto" in bad.text
    unknown = client.post(f"/talleres/{rm}/inscribir", data={"rut": "96.790.240-3"}, follow_redirects=True)
    assert "indique su razón social para agregarla" in unknown.text
    added = client.post(f"/talleres/{rm}/inscribir", data={"rut": "96.790.240-3", "razon_social": "Frutos SpA"},
                        follow_redirects=True)
    assert "Frutos SpA quedó inscrita" in added.text
    assert len(registered(engine, rm)) == 2
    unregister = client.post(f"/talleres/{rm}/inscripciones/{talleres['vina']}/anular", follow_redirects=True)
    assert "Se anuló la inscripción de Viña Los Aromos SpA." in unregister.text
    assert talleres["vina"] not in registered(engine, rm)


def test_in_a_national_session_executives_register_the_companies_of_their_region(client, auth, engine, talleres):
    national = session(engine, key="coaching_exportador", region=None, place="Santiago")
    W.register(engine, national, talleres["vina"], "pyme")
    auth.login("eje.bio")
    page = client.get(f"/talleres/{national}")
    assert page.status_code == 200
    assert "Viña Los Aromos" not in page.text and "hay 1 de otras regiones" in page.text
    assert client.post(f"/talleres/{national}/inscribir", data={"rut": "76.555.666-K"}).status_code == 302
    assert client.post(f"/talleres/{national}/inscribir", data={"rut": "79.345.678-6"}).status_code == 403
    assert client.post(f"/talleres/{national}/inscripciones/{talleres['vina']}/anular").status_code == 403
    assert client.get(f"/talleres/{national}/asistencia").status_code == 403  # the organisers take it
    assert registered(engine, national) == {talleres["vina"], talleres["berries"]}


def test_prochile_executives_see_but_do_not_register(client, auth, engine, talleres):
    rm = session(engine)
    auth.login("prochile.rm")
    page = client.get(f"/talleres/{rm}")
    assert page.status_code == 200 and "/inscribir" not in page.text
    assert client.post(f"/talleres/{rm}/inscribir", data={"rut": "76.086.428-5"}).status_code == 403


def test_cancelling_a_session(client, auth, engine, talleres):
    rm = session(engine)
    W.register(engine, rm, talleres["vina"], "pyme")
    auth.login("eje2.rm")
    done = client.post(f"/talleres/{rm}/cancelar", follow_redirects=True)
    assert "Sesión cancelada" in done.text and "Esta sesión fue cancelada." in done.text
    assert count(engine, OutboxMessage) == 1
    refused = client.post(f"/talleres/{rm}/inscribir", data={"rut": "76.333.444-9"}, follow_redirects=True)
    assert "La sesión fue cancelada." in refused.text


# -- attendance -------------------------------------------------------------------------------

def test_attendance_is_taken_on_the_tablet_page(client, auth, engine, clock, talleres):
    rm = session(engine)
    for name in ("vina", "muebles", "conservas"):
        W.register(engine, rm, talleres[name], "pyme")
    auth.login("eje.rm")
    early = client.get(f"/talleres/{rm}/asistencia")
    assert early.status_code == 200 and "desde dos horas antes del inicio" in early.text
    assert 'name="presente"' not in early.text
    clock.set(W.get_session(engine, rm)["starts_at"] - timedelta(minutes=30))
    page = client.get(f"/talleres/{rm}/asistencia")
    assert page.text.count('type="checkbox" id="p-') == 3 and 'name="csrf_token"' in page.text
    saved = client.post(f"/talleres/{rm}/asistencia",
                        data={"presente": [str(talleres["vina"]), str(talleres["conservas"])]}, follow_redirects=True)
    assert "Asistencia guardada: 2 de 3 empresas presentes." in saved.text
    assert f'value="{talleres["vina"]}" checked' in saved.text
    assert f'value="{talleres["muebles"]}" >' in saved.text or f'value="{talleres["muebles"]}">' in saved.text
    junk = client.post(f"/talleres/{rm}/asistencia", data={"presente": ["9999"]}, follow_redirects=True)
    assert "Hay empresas marcadas que no están inscritas en esta sesión." in junk.text
    walk_in = client.post(f"/talleres/{rm}/inscribir", data={"rut": "96.790.240-3", "razon_social": "Frutos SpA",
                                                             "llegada": "1"})
    assert walk_in.location.endswith(f"/talleres/{rm}/asistencia")
    rows = {r["razon_social"]: r["attended"] for r in W.attendance_sheet(engine, rm)["rows"]}
    assert rows == {"Viña Los Aromos SpA": True, "Muebles del Sur Ltda.": False, "Conservas Pacífico S.A.": True,
                    "Frutos SpA": True}
    detail = client.get(f"/talleres/{rm}").text
    assert detail.count("Presente") >= 3 and "Ausente" in detail


# -- the consolidated export ----------------------------------------------------------------

@pytest.fixture
def held(engine, clock, talleres):
    """An RM session and a Biobío one, attendance taken in the first; an online one to come."""
    rm = session(engine, starts_at=datetime(2026, 3, 10, 10, 0))
    bio = session(engine, key="tramites_precios", region="CL-BI", place="Concepción",
                  starts_at=datetime(2026, 3, 11, 10, 0))
    online = session(engine, key="ecommerce", region=None, online=True, place="https://meet.example/x",
                     starts_at=datetime(2026, 3, 12, 15, 0))
    W.register(engine, rm, talleres["vina"], "pyme")
    W.register(engine, rm, talleres["muebles"], "eje.rm")
    W.register(engine, bio, talleres["berries"], "eje.bio")
    W.register(engine, online, talleres["conservas"], "pyme")
    clock.set(datetime(2026, 3, 10, 13, 30, tzinfo=UTC))
    W.mark_attendance(engine, rm, [talleres["vina"]], "eje.rm")
    return {"rm": rm, "bio": bio, "online": online}


HEADER = ["RUT", "Razón social", "Región", "Taller", "Fecha", "Lugar", "Asistió"]


def test_the_xlsx_export_opens_and_has_the_rows(client, auth, held):
    auth.login("analista")
    response = client.get("/talleres/asistencia.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="asistencia-talleres-todas.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["76.333.444-9", "Muebles del Sur Ltda.", "Región Metropolitana de Santiago", "Taller 123 Exporta",
         datetime(2026, 3, 10, 10, 0), "Oficina ProChile RM", "No"],
        ["76.086.428-5", "Viña Los Aromos SpA", "Región Metropolitana de Santiago", "Taller 123 Exporta",
         datetime(2026, 3, 10, 10, 0), "Oficina ProChile RM", "Sí"],
        ["76.555.666-K", "Berries del Biobío SpA", "Región del Biobío",
         "Taller Trámites de Exportación y determinación de precios", datetime(2026, 3, 11, 10, 0), "Concepción",
         None],
        ["79.345.678-6", "Conservas Pacífico S.A.", "Región Metropolitana de Santiago",
         "Taller e-Commerce y plataformas digitales", datetime(2026, 3, 12, 15, 0),
         "En línea: https://meet.example/x", None],
    ]
    assert sheet["E2"].number_format == "DD-MM-YYYY HH:MM" and sheet.freeze_panes == "A2"


def test_the_export_filters_by_region_and_dates(client, auth, held):
    auth.login("analista")
    bio = load_workbook(io.BytesIO(client.get("/talleres/asistencia.xlsx?region=CL-BI").data)).active
    assert [r[1] for r in bio.iter_rows(min_row=2, values_only=True)] == ["Berries del Biobío SpA"]
    days = client.get("/talleres/asistencia.xlsx?desde=2026-03-11&hasta=2026-03-12")
    assert 'filename="asistencia-talleres-todas-2026-03-11-2026-03-12.xlsx"' in days.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(days.data)).active.max_row == 3
    bad = client.get("/talleres/asistencia.xlsx?desde=ayer", follow_redirects=True)
    assert "La fecha «ayer» no es válida (use AAAA-MM-DD)." in bad.text
    assert client.get("/talleres/asistencia.pdf").status_code == 404


def test_a_regional_user_exports_only_their_region(client, auth, held):
    auth.login("eje.bio")
    response = client.get("/talleres/asistencia.csv?region=CL-RM")  # the region asked for is ignored
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="asistencia-talleres-CL-BI.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [HEADER, ["76.555.666-K", "Berries del Biobío SpA", "Región del Biobío",
                             "Taller Trámites de Exportación y determinación de precios", "2026-03-11 10:00",
                             "Concepción", ""]]


def test_the_csv_export_of_one_session(client, auth, held):
    auth.login("eje.rm")
    response = client.get(f"/talleres/asistencia.csv?sesion={held['rm']}")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(r[1], r[6]) for r in rows[1:]] == [("Muebles del Sur Ltda.", "No"), ("Viña Los Aromos SpA", "Sí")]


def test_exported_text_never_runs_as_a_formula(client, auth, engine, talleres):
    rm = session(engine)
    evil = add_company(engine, "96.790.240-3", '=HYPERLINK("http://x.example","clic")')
    W.register(engine, rm, evil, "pyme")
    auth.login("eje.rm")
    sheet = load_workbook(io.BytesIO(client.get("/talleres/asistencia.xlsx").data)).active
    assert sheet["B2"].value == '=HYPERLINK("http://x.example","clic")' and sheet["B2"].data_type == "s"
    rows = list(csv.reader(io.StringIO(client.get("/talleres/asistencia.csv").data.decode("utf-8-sig"))))
    assert rows[1][1] == "'=HYPERLINK(\"http://x.example\",\"clic\")"


# -- escaping, CSRF, language -----------------------------------------------------------------

def test_text_is_escaped(client, auth, engine, clock, talleres):
    rm = session(engine, place="<script>alert('lugar')</script>")
    evil = add_company(engine, "96.790.240-3", "<script>alert(1)</script> SpA")
    W.register(engine, rm, evil, "pyme")
    auth.login("eje.rm")
    clock.set(W.get_session(engine, rm)["starts_at"])
    for url in ("/talleres/", f"/talleres/{rm}", f"/talleres/{rm}/asistencia"):
        page = client.get(url).text
        assert "<script>alert" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt; SpA" in client.get(f"/talleres/{rm}/asistencia").text


def test_forms_need_the_csrf_token(engine, talleres):
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    client = app.test_client()
    login = client.get("/ingresar").text
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/ingresar", data={"username": "eje.rm", "password": PASSWORD, "csrf_token": token})
    assert client.post("/talleres/nueva", data=NEW).status_code == 400
    assert count(engine, WorkshopSession) == 0
    form = client.get("/talleres/nueva").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/talleres/nueva", data=dict(NEW, csrf_token=token)).status_code == 302


def test_the_pages_speak_english_too(client, auth, engine, talleres):
    rm = session(engine)
    auth.login("eje.rm")
    client.post("/idioma/en", data={"next": "/talleres/"})
    page = client.get("/talleres/").text
    assert "Upcoming sessions" in page and "Schedule a session" in page
    assert "Register a company" in client.get(f"/talleres/{rm}").text
