"""Workshops (talleres): catalogue, sessions, registration, attendance and the consolidated export."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, FormError, NotFound
from engine.programme import workshops as W
from engine.store.schema import Company, OutboxMessage, Workshop, WorkshopRegistration, WorkshopSession

# The virtual clock starts on Monday 2026-03-02 09:00 UTC (06:00 in Santiago, UTC-3 in summer).
SOON = datetime(2026, 3, 10, 10, 0)  # naive: local time in Santiago → 13:00 UTC
SPEC_CATALOGUE = ("Taller 123 Exporta", "Mujer Exporta", "Ciclo Diseño Plan de Negocios", "e-Commerce",
                  "Exportación de Servicios", "Trámites", "Instrumentos Financieros", "Talleres de Mercado",
                  "Coaching Exportador", "Misiones de Pre-Internacionalización")


@pytest.fixture
def seeded(engine):
    W.seed_catalogue(engine)
    return engine


def add_company(engine, rut, razon_social, region="CL-RM", email="contacto@empresa.cl") -> int:
    now = engine.now()
    with engine.transaction() as s:
        company = Company(rut=rut, razon_social=razon_social, region=region, contacto_email=email,
                          created_at=now, updated_at=now)
        s.add(company)
        s.flush()
        return company.id


@pytest.fixture
def companies(seeded):
    return {
        "vina": add_company(seeded, "76.086.428-5", "Viña Los Aromos SpA"),
        "muebles": add_company(seeded, "76.333.444-9", "Muebles del Sur Ltda."),
        "conservas": add_company(seeded, "79.345.678-6", "Conservas Pacífico S.A."),
        "berries": add_company(seeded, "76.555.666-K", "Berries del Biobío SpA", region="CL-BI"),
    }


def new_session(engine, key="taller_123_exporta", starts_at=SOON, place="Oficina ProChile RM", capacity=20,
                region="CL-RM", online=False, created_by="eje.rm") -> dict:
    return W.create_session(engine, key, starts_at, place, capacity, region=region, online=online,
                            created_by=created_by)


def count(engine, model) -> int:
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(model))


# -- catalogue --------------------------------------------------------------------------

def test_the_catalogue_of_the_spec_is_seeded_once(engine):
    assert W.seed_catalogue(engine) == {"created": 10, "updated": 0, "total": 10}
    assert W.seed_catalogue(engine) == {"created": 0, "updated": 0, "total": 10}
    names = [w["name"] for w in W.catalogue(engine)]
    assert len(names) == 10 and names[0] == "Taller 123 Exporta"
    for expected in SPEC_CATALOGUE:
        assert any(expected.lower() in name.lower() for name in names), expected
    assert {w["stage"] for w in W.catalogue(engine)} == set(W.STAGES)


def test_the_catalogue_file_is_the_source_of_truth(engine, tmp_path):
    W.seed_catalogue(engine)
    items = W.load_catalogue()
    items[0]["name"] = "Taller 1-2-3 Exporta"
    path = tmp_path / "talleres.json"
    path.write_text(json.dumps({"talleres": items[:-1]}), encoding="utf-8")
    assert W.seed_catalogue(engine, path) == {"created": 0, "updated": 2, "total": 9}
    active = W.catalogue(engine)
    assert active[0]["name"] == "Taller 1-2-3 Exporta" and len(active) == 9
    assert len(W.catalogue(engine, active_only=False)) == 10  # the dropped one is kept, inactive


@pytest.mark.parametrize("items,message", [
    ([], "falta la lista"),
    ([{"key": "a", "name": "A"}, {"key": "a", "name": "B"}], "clave «key» única"),
    ([{"key": "a", "name": " "}], "no tiene nombre"),
    ([{"key": "a", "name": "A", "stage": "final"}], "etapa desconocida «final»"),
])
def test_a_malformed_catalogue_is_refused(engine, tmp_path, items, message):
    path = tmp_path / "talleres.json"
    path.write_text(json.dumps({"talleres": items}), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        W.seed_catalogue(engine, path)
    assert count(engine, Workshop) == 0


# -- sessions ---------------------------------------------------------------------------

PAST = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CREATE_ERRORS = [
    ({"key": ""}, "taller", "Elija un taller del catálogo."),
    ({"key": "origami"}, "taller", "Taller desconocido «origami»."),
    ({"region": "CL-XX"}, "region", "Región desconocida «CL-XX» (use un código ISO 3166-2:CL, p. ej. CL-RM)."),
    ({"starts_at": PAST}, "fecha", "La fecha de la sesión debe ser futura."),
    ({"starts_at": NOW}, "fecha", "La fecha de la sesión debe ser futura."),
    ({"starts_at": "2026-03-10 10:00"}, "fecha", "Indique la fecha y la hora de la sesión."),
    ({"starts_at": None}, "fecha", "Indique la fecha y la hora de la sesión."),
    ({"place": "   "}, "lugar", "Indique el lugar de la sesión (o el enlace, si es en línea)."),
    ({"place": "x" * 301}, "lugar", "El lugar no puede superar los 300 caracteres."),
    ({"capacity": 0}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
    ({"capacity": 501}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
    ({"capacity": -3}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
    ({"capacity": "20"}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
    ({"capacity": 2.5}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
    ({"capacity": True}, "cupo", "El cupo debe ser un número entero entre 1 y 500."),
]


@pytest.mark.parametrize("change,field,message", CREATE_ERRORS)
def test_an_invalid_session_is_refused_with_a_message(seeded, change, field, message):
    with pytest.raises(FormError) as refused:
        new_session(seeded, **change)
    assert refused.value.errors == {field: message}
    assert isinstance(refused.value, ValueError)
    assert count(seeded, WorkshopSession) == 0


def test_every_problem_is_reported_at_once(seeded):
    with pytest.raises(FormError) as refused:
        new_session(seeded, key="nada", starts_at=PAST, place="", capacity=0, region="RM")
    assert set(refused.value.errors) == {"taller", "region", "fecha", "lugar", "cupo"}


def test_a_workshop_no_longer_offered_takes_no_new_sessions(seeded, tmp_path):
    path = tmp_path / "talleres.json"
    path.write_text(json.dumps({"talleres": W.load_catalogue()[1:]}), encoding="utf-8")
    W.seed_catalogue(seeded, path)
    with pytest.raises(FormError) as refused:
        new_session(seeded)
    assert refused.value.errors == {"taller": "El taller «Taller 123 Exporta» ya no se ofrece."}


@pytest.mark.parametrize("capacity", [1, 500])
def test_a_session_is_created_in_local_time(seeded, capacity):
    session = new_session(seeded, capacity=capacity, place="  Oficina ProChile RM  ")
    assert session["starts_at"] == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 10:00 in Santiago (UTC-3)
    assert session["place"] == "Oficina ProChile RM"
    assert (session["capacity"], session["seats_left"], session["registered"]) == (capacity, capacity, 0)
    assert session["state"] == "open" and session["workshop"] == "Taller 123 Exporta"
    assert W.get_session(seeded, session["id"]) == session
    aware = new_session(seeded, starts_at=datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    assert aware["starts_at"] == session["starts_at"]


def test_upcoming_sessions_open_to_a_region(seeded, clock):
    rm = new_session(seeded, region="CL-RM")
    bio = new_session(seeded, region="CL-BI", starts_at=SOON + timedelta(days=1))
    national = new_session(seeded, key="coaching_exportador", region=None, starts_at=SOON + timedelta(days=2))
    bio_online = new_session(seeded, key="ecommerce", region="CL-BI", online=True, place="https://meet.example",
                             starts_at=SOON + timedelta(days=3))
    cancelled = new_session(seeded, region="CL-RM", starts_at=SOON + timedelta(days=4))
    W.cancel_session(seeded, cancelled["id"], "eje.rm")
    soon = new_session(seeded, region="CL-RM", starts_at=datetime(2026, 3, 2, 8, 0))  # 11:00 UTC today
    clock.advance(hours=3)  # `soon` has started
    ids = lambda sessions: [s["id"] for s in sessions]  # noqa: E731
    assert ids(W.upcoming(seeded, "CL-RM")) == [rm["id"], national["id"], bio_online["id"]]
    assert ids(W.upcoming(seeded, "CL-BI")) == [bio["id"], national["id"], bio_online["id"]]
    assert ids(W.upcoming(seeded)) == [rm["id"], bio["id"], national["id"], bio_online["id"]]
    assert cancelled["id"] in ids(W.upcoming(seeded, include_cancelled=True))
    recent = W.list_sessions(seeded, "CL-RM", start=NOW - timedelta(days=30), end=seeded.now(), newest_first=True)
    assert ids(recent) == [soon["id"]] and recent[0]["state"] == "held"


# -- registrations ------------------------------------------------------------------------

def _full(engine, session, c):
    W.register(engine, session["id"], c["muebles"], "eje.rm")


def _cancelled(engine, session, c):
    W.cancel_session(engine, session["id"], "eje.rm")


def _started(engine, session, c):
    engine.clock.set(session["starts_at"])


def _registered(engine, session, c):
    W.register(engine, session["id"], c["vina"], "pyme")


REFUSALS = [
    (_full, {}, "No quedan cupos en esta sesión."),
    (_registered, {}, "La empresa ya está inscrita en esta sesión."),
    (_cancelled, {}, "La sesión fue cancelada."),
    (_started, {}, "La sesión ya comenzó: no admite inscripciones."),
    (lambda *_: None, {"company": "berries", "self_service": True},
     "Esta sesión no está abierta a empresas de su región."),
]


@pytest.mark.parametrize("setup,options,message", REFUSALS)
def test_a_registration_is_refused_with_a_message(seeded, companies, setup, options, message):
    session = new_session(seeded, capacity=1)
    setup(seeded, session, companies)
    before = count(seeded, WorkshopRegistration)
    options = dict(options)
    company = companies[options.pop("company", "vina")]
    with pytest.raises(Conflict) as refused:
        W.register(seeded, session["id"], company, "pyme", **options)
    assert str(refused.value) == message
    assert count(seeded, WorkshopRegistration) == before


def test_unknown_session_or_company(seeded, companies):
    session = new_session(seeded)
    with pytest.raises(NotFound, match="no existe la sesión de taller 999"):
        W.register(seeded, 999, companies["vina"], "pyme")
    with pytest.raises(NotFound, match="La empresa no está registrada en el programa."):
        W.register(seeded, session["id"], 999, "pyme")


def test_registration_takes_a_seat_and_the_company_may_open_online_and_national_sessions(seeded, companies):
    session = new_session(seeded, capacity=2)
    registration = W.register(seeded, session["id"], companies["vina"], "pyme", self_service=True)
    assert registration["rut"] == "76.086.428-5" and registration["registered_by"] == "pyme"
    assert registration["attended"] is None and registration["registered_at"] == seeded.now()
    assert W.get_session(seeded, session["id"])["seats_left"] == 1
    W.register(seeded, session["id"], companies["muebles"], "eje.rm")
    assert W.get_session(seeded, session["id"])["state"] == "full"
    online = new_session(seeded, key="ecommerce", region="CL-RM", online=True)
    national = new_session(seeded, key="coaching_exportador", region=None)
    for other in (online, national):
        W.register(seeded, other["id"], companies["berries"], "pyme", self_service=True)
    open_to_berries = W.sessions_for_company(seeded, companies["berries"])
    assert [(s["id"], s["registered"]) for s in open_to_berries] == [(online["id"], True), (national["id"], True)]


def test_unregistering_frees_the_seat_until_the_session_starts(seeded, companies, clock):
    session = new_session(seeded, capacity=1)
    W.register(seeded, session["id"], companies["vina"], "pyme")
    W.unregister(seeded, session["id"], companies["vina"])
    W.register(seeded, session["id"], companies["muebles"], "pyme")
    with pytest.raises(NotFound, match="no está inscrita"):
        W.unregister(seeded, session["id"], companies["vina"])
    clock.set(session["starts_at"])
    with pytest.raises(Conflict, match="La sesión ya comenzó: la inscripción no se puede anular."):
        W.unregister(seeded, session["id"], companies["muebles"])


def test_registering_by_rut_and_walk_ins(seeded, companies, clock):
    session = new_session(seeded)
    assert W.register_rut(seeded, session["id"], "76086428-5", "eje.rm")["razon_social"] == "Viña Los Aromos SpA"
    with pytest.raises(ValueError, match="RUT inválido: dígito verificador incorrecto"):
        W.register_rut(seeded, session["id"], "76.086.428-4", "eje.rm")
    with pytest.raises(NotFound, match="No hay una empresa registrada con RUT 96.790.240-3: indique su razón"):
        W.register_rut(seeded, session["id"], "96790240-3", "eje.rm")
    added = W.register_rut(seeded, session["id"], "96790240-3", "eje.rm", razon_social=" Frutos del Maule SpA ")
    assert added["razon_social"] == "Frutos del Maule SpA" and added["region"] == "CL-RM"
    # walk-ins are recorded (present) once attendance can be taken: not the day before
    with pytest.raises(Conflict, match="desde dos horas antes"):
        W.register_rut(seeded, session["id"], "76.333.444-9", "eje.rm", walk_in=True)
    clock.set(session["starts_at"] + timedelta(minutes=20))
    walk_in = W.register_rut(seeded, session["id"], "76.333.444-9", "eje.rm", walk_in=True)
    assert walk_in["attended"] is True and walk_in["marked_by"] == "eje.rm"
    again = W.register_rut(seeded, session["id"], "76.086.428-5", "eje.rm", walk_in=True)  # registered: present
    assert again["attended"] is True
    with pytest.raises(Conflict, match="ya figura como presente"):
        W.register_rut(seeded, session["id"], "76.086.428-5", "eje.rm", walk_in=True)


# -- attendance ---------------------------------------------------------------------------

def test_attendance_is_taken_on_the_day_and_shows_in_the_company_workshops(seeded, companies, clock):
    session = new_session(seeded)
    for name in ("vina", "muebles", "conservas"):
        W.register(seeded, session["id"], companies[name], "pyme")
    with pytest.raises(Conflict, match="La asistencia se registra desde dos horas antes del inicio de la sesión."):
        W.mark_attendance(seeded, session["id"], [companies["vina"]], "eje.rm")
    assert [w["status"] for w in W.company_workshops(seeded, companies["vina"])] == ["registered"]

    clock.set(session["starts_at"] - timedelta(hours=1))
    result = W.mark_attendance(seeded, session["id"], [companies["vina"], str(companies["conservas"])], "eje.rm")
    assert result == {"registered": 3, "present": 2, "changed": 3}
    sheet = W.attendance_sheet(seeded, session["id"])
    assert [(r["razon_social"], r["attended"]) for r in sheet["rows"]] == [
        ("Conservas Pacífico S.A.", True), ("Muebles del Sur Ltda.", False), ("Viña Los Aromos SpA", True)]
    assert sheet["session"]["attended"] == 2 and sheet["session"]["registered"] == 3
    clock.advance(hours=3)
    again = W.mark_attendance(seeded, session["id"], [companies["vina"], companies["muebles"]], "jefe.rm")
    assert again["changed"] == 2  # conservas and muebles; viña keeps who marked it and when
    rows = {r["razon_social"]: r for r in W.attendance_sheet(seeded, session["id"])["rows"]}
    assert rows["Viña Los Aromos SpA"]["marked_by"] == "eje.rm"
    assert rows["Muebles del Sur Ltda."]["marked_by"] == "jefe.rm"
    assert [w["status"] for w in W.company_workshops(seeded, companies["conservas"])] == ["absent"]
    assert [w["status"] for w in W.company_workshops(seeded, companies["vina"])] == ["attended"]


@pytest.mark.parametrize("present,message", [
    (["x"], "La lista de asistentes no es válida."),
    ([None], "La lista de asistentes no es válida."),
    ([999], "Hay empresas marcadas que no están inscritas en esta sesión."),
])
def test_an_invalid_attendance_list_changes_nothing(seeded, companies, clock, present, message):
    session = new_session(seeded)
    W.register(seeded, session["id"], companies["vina"], "pyme")
    clock.set(session["starts_at"])
    with pytest.raises(ValueError, match=message):
        W.mark_attendance(seeded, session["id"], present, "eje.rm")
    assert W.attendance_sheet(seeded, session["id"])["rows"][0]["attended"] is None


def test_company_workshop_statuses(seeded, companies, clock):
    held = new_session(seeded, starts_at=datetime(2026, 3, 3, 10, 0))
    cancelled = new_session(seeded, key="mujer_exporta", starts_at=datetime(2026, 3, 4, 10, 0))
    upcoming = new_session(seeded, key="ecommerce", starts_at=datetime(2026, 3, 20, 10, 0))
    for session in (held, cancelled, upcoming):
        W.register(seeded, session["id"], companies["vina"], "pyme")
    W.cancel_session(seeded, cancelled["id"], "eje.rm")
    clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    statuses = [(w["session"]["workshop_key"], w["status"], w["can_cancel"])
                for w in W.company_workshops(seeded, companies["vina"])]
    assert statuses == [("ecommerce", "registered", True), ("mujer_exporta", "cancelled", False),
                        ("taller_123_exporta", "pending", False)]


def test_cancelling_a_session_tells_the_registered_companies(seeded, companies, clock):
    session = new_session(seeded)
    W.register(seeded, session["id"], companies["vina"], "pyme")
    cancelled = W.cancel_session(seeded, session["id"], "eje.rm")
    assert cancelled["state"] == "cancelled"
    with seeded.Session() as s:
        [message] = s.scalars(select(OutboxMessage)).all()
    assert message.to_address == "contacto@empresa.cl" and "Taller 123 Exporta" in message.asunto
    assert "10-03-2026 10:00" in message.mensaje
    assert (message.status, as_utc(message.next_attempt_at)) == ("pending", seeded.now())  # cpe worker sends it
    with pytest.raises(Conflict, match="ya estaba cancelada"):
        W.cancel_session(seeded, session["id"], "eje.rm")
    other = new_session(seeded)
    clock.set(other["starts_at"])
    with pytest.raises(Conflict, match="ya comenzó: no se puede cancelar"):
        W.cancel_session(seeded, other["id"], "eje.rm")


# -- the consolidated export --------------------------------------------------------------

def test_attendance_rows_with_rut_and_razon_social(seeded, companies, clock):
    rm = new_session(seeded, starts_at=datetime(2026, 3, 10, 10, 0))
    bio = new_session(seeded, key="tramites_precios", region="CL-BI", place="Concepción",
                      starts_at=datetime(2026, 3, 11, 23, 30))  # 02:30 UTC on the 12th
    online = new_session(seeded, key="ecommerce", region=None, online=True, place="En línea",
                         starts_at=datetime(2026, 3, 12, 15, 0))
    dropped = new_session(seeded, key="mujer_exporta", starts_at=datetime(2026, 3, 12, 9, 0))
    W.register(seeded, rm["id"], companies["vina"], "pyme")
    W.register(seeded, rm["id"], companies["muebles"], "eje.rm")
    W.register(seeded, bio["id"], companies["berries"], "eje.bio")
    W.register(seeded, online["id"], companies["berries"], "pyme")
    W.register(seeded, online["id"], companies["conservas"], "pyme")
    W.register(seeded, dropped["id"], companies["vina"], "pyme")
    W.cancel_session(seeded, dropped["id"], "eje.rm")
    clock.set(rm["starts_at"])
    W.mark_attendance(seeded, rm["id"], [companies["vina"]], "eje.rm")

    rows = W.attendance_rows(seeded)
    assert [(r["rut"], r["razon_social"], r["region"], r["taller"], r["attended"]) for r in rows] == [
        ("76.333.444-9", "Muebles del Sur Ltda.", "CL-RM", "Taller 123 Exporta", False),
        ("76.086.428-5", "Viña Los Aromos SpA", "CL-RM", "Taller 123 Exporta", True),
        ("76.555.666-K", "Berries del Biobío SpA", "CL-BI", "Taller Trámites de Exportación y determinación de "
                                                             "precios", None),
        ("76.555.666-K", "Berries del Biobío SpA", "CL-BI", "Taller e-Commerce y plataformas digitales", None),
        ("79.345.678-6", "Conservas Pacífico S.A.", "CL-RM", "Taller e-Commerce y plataformas digitales", None),
    ]
    assert rows[0]["starts_at"] == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
    assert {r["razon_social"] for r in W.attendance_rows(seeded, region="CL-BI")} == {"Berries del Biobío SpA"}
    assert len(W.attendance_rows(seeded, region="CL-RM")) == 3  # RM session + the RM company online
    # whole days in Santiago: the Biobío session at 23:30 on the 11th belongs to the 11th
    eleventh = W.attendance_rows(seeded, date_from=date(2026, 3, 11), date_to=date(2026, 3, 11))
    assert [r["session_id"] for r in eleventh] == [bio["id"]]
    assert len(W.attendance_rows(seeded, date_from=date(2026, 3, 11))) == 3
    assert len(W.attendance_rows(seeded, date_to=date(2026, 3, 10))) == 2
    assert len(W.attendance_rows(seeded, session_id=online["id"])) == 2


@pytest.mark.parametrize("filters,message", [
    ({"region": "RM"}, "Región desconocida «RM»"),
    ({"date_from": "2026-03-01"}, "Las fechas del filtro deben ser días"),
    ({"date_from": date(2026, 3, 5), "date_to": date(2026, 3, 1)},
     "La fecha «desde» no puede ser posterior a la fecha «hasta»."),
])
def test_invalid_export_filters(seeded, filters, message):
    with pytest.raises(ValueError, match=message):
        W.attendance_rows(seeded, **filters)


# -- concurrency --------------------------------------------------------------------------

def _race(engine, session_id, company_ids):
    barrier = threading.Barrier(len(company_ids))
    outcomes = []

    def attempt(company_id):
        barrier.wait()
        try:
            W.register(engine, session_id, company_id, "pyme")
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(company_id,)) for company_id in company_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(outcomes)


def test_two_companies_for_the_last_seat_one_wins(seeded, companies):
    session = new_session(seeded, capacity=2)
    W.register(seeded, session["id"], companies["berries"], "pyme")
    outcomes = _race(seeded, session["id"], [companies["vina"], companies["muebles"]])
    assert outcomes == ["No quedan cupos en esta sesión.", "ok"]
    assert W.get_session(seeded, session["id"])["registered"] == 2


def test_many_companies_racing_never_overbook(seeded):
    ids = [add_company(seeded, rut, f"Empresa {n}") for n, rut in enumerate(
        ("96.790.240-3", "77.123.456-9", "76.111.222-8", "76.222.333-3", "76.444.555-4", "76.543.210-3"))]
    session = new_session(seeded, capacity=3)
    outcomes = _race(seeded, session["id"], ids)
    assert outcomes.count("ok") == 3 and outcomes.count("No quedan cupos en esta sesión.") == 3
    assert W.get_session(seeded, session["id"])["seats_left"] == 0


def test_the_same_company_twice_at_once_registers_once(seeded, companies):
    session = new_session(seeded)
    outcomes = _race(seeded, session["id"], [companies["vina"]] * 2)
    assert outcomes == ["La empresa ya está inscrita en esta sesión.", "ok"]


# -- the training requirement (operator verificar_capacitacion) -----------------------------

def test_the_operator_says_whether_the_company_was_trained(seeded, companies, clock):
    from engine.operators.dispatch import ServiceContext, ServiceError
    from engine.programme.operators import call
    from engine.store.schema import Case

    held = new_session(seeded)
    W.register(seeded, held["id"], companies["vina"], "pyme")
    W.register(seeded, held["id"], companies["muebles"], "pyme")
    clock.set(held["starts_at"])
    W.mark_attendance(seeded, held["id"], [companies["vina"]], "eje.rm")

    def check(company_id, **params):
        with seeded.Session() as s:
            ctx = ServiceContext(session=s, case=Case(company_id=company_id), now=seeded.now(), form=None)
            return call(ctx, "verificar_capacitacion", params)

    assert check(companies["vina"]) == {"capacitada": True, "talleres": 1}
    assert check(companies["vina"], taller="taller_123_exporta") == {"capacitada": True, "talleres": 1}
    assert check(companies["vina"], taller="ecommerce") == {"capacitada": False, "talleres": 0}
    assert check(companies["muebles"]) == {"capacitada": False, "talleres": 0}  # registered, absent
    assert check(None) == {"capacitada": False, "talleres": 0}
    with pytest.raises(ServiceError, match="verificar_capacitacion: taller desconocido 'origami'"):
        check(companies["vina"], taller="origami")


def test_a_diagram_may_call_the_operator(engine, tmp_path):
    from engine.models.validation import collect_files

    from .test_cli import MODEL

    source = (MODEL / "diagnostico_rapido.bpmn").read_text()
    source = source.replace('id="verificar_tamano" resultVariable="tamano"',
                            'id="verificar_capacitacion" resultVariable="tamano"')
    source = source.replace('<spiffworkflow:parameter id="ventas_uf" type="any" value="ventas_uf" />',
                            '<spiffworkflow:parameter id="taller" type="any" value="&quot;taller_123_exporta&quot;" />')
    assert "verificar_capacitacion" in source
    (tmp_path / "diagnostico_rapido.bpmn").write_text(source)
    files = collect_files([tmp_path / "diagnostico_rapido.bpmn", *sorted(p for p in MODEL.iterdir()
                                                                         if p.name != "diagnostico_rapido.bpmn")])
    assert engine.validate(files) == []
    wrong = source.replace('parameter id="taller"', 'parameter id="curso"')
    (tmp_path / "diagnostico_rapido.bpmn").write_text(wrong)
    problems = [str(p) for p in engine.validate(collect_files([tmp_path / "diagnostico_rapido.bpmn"]))]
    assert any("el operador verificar_capacitacion no tiene el parámetro 'curso'" in p for p in problems)


def test_cpe_db_upgrade_loads_the_catalogue(engine):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    for expected in ("10 talleres (10 nuevos, 0 actualizados)", "10 talleres (0 nuevos, 0 actualizados)"):
        result = CliRunner().invoke(cpe, ["db", "upgrade"], obj=CliContext.for_app(app))
        assert result.exit_code == 0 and expected in result.stderr, result.output
    assert count(engine, Workshop) == 10


def test_the_demo_has_sessions_with_registrations(engine):
    from tooling.demo import DEMO_WORKSHOPS, load_demo

    from .conftest import ROOT

    result = load_demo(engine, ROOT / "processes", ROOT / "forms", companies=0)
    assert result["talleres"] == len(DEMO_WORKSHOPS)
    sessions = W.upcoming(engine)
    assert len(sessions) == len(DEMO_WORKSHOPS) and sum(s["registered"] for s in sessions) == 4
    assert {s["workshop_key"] for s in W.upcoming(engine, "CL-BI")} == {"ecommerce", "tramites_precios"}
