"""Training and advice in the CPE diagrams (issue 16 item 2): the Capacitación task enrols the
company in real workshop sessions (operator `inscribir_taller`), the case waits for the session
and checks attendance (`verificar_capacitacion`), and training and advice are SRA activities."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.basics.clock import as_utc
from engine.operators import checks
from engine.operators.dispatch import ServiceContext, ServiceError
from engine.programme import workshops as W
from engine.programme.company_records import company_record
from engine.programme.indicators import indicators
from engine.programme.operators import call
from engine.store.schema import Activity, Case, Company, WorkshopRegistration

from . import profiles as P
from .driver import Driver

ROOT = Path(__file__).resolve().parents[1]
ANALYST = type("User", (), {"role": "analista", "region": None})()


@pytest.fixture(params=["cpe_actual", "cpe_propuesto"])
def cpe(request, deployed, clock):
    for name, role in (("eje.rm", "ejecutivo_cpe"), ("pro.rm", "ejecutivo_prochile"), ("jefe.rm", "jefe_regional")):
        deployed.create_user(name, "secreto-123", role, region="CL-RM")
    W.seed_catalogue(deployed)
    return Driver(deployed, clock, request.param)


def _activities(engine, case_id):
    with engine.Session() as s:
        return [(a.tipo, a.detalle) for a in s.scalars(select(Activity).where(Activity.case_id == case_id)
                                                       .order_by(Activity.id))]


def _amarillo(cpe, **company):
    case_id = cpe.start(**company)
    case = cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    assert case["segmento"] == "amarillo" and list(cpe.ready(case_id)) == ["Task_Capacitacion"]
    return case_id


def test_training_enrols_waits_for_attendance_and_moves_on(cpe):
    """Manual §4.1: "Toda empresa Pyme Exporta deberá ser capacitada previa a las acciones de promoción"
    (capacitación obligatoria antes de cualquier acción de promoción), with registration before the
    workshop and attendance taken on the day; manual §4 and §9: the training offered and every action
    with the client are registered in the SRA."""
    engine, clock = cpe.engine, cpe.clock
    case_id = _amarillo(cpe)
    company_id = cpe.company_id(case_id)
    elsewhere = W.create_session(engine, "taller_123_exporta", clock.now() + timedelta(days=2), "CPE Biobío", 20,
                                 region="CL-BI", created_by="eje.bi")
    session = W.create_session(engine, "taller_123_exporta", clock.now() + timedelta(days=4), "Oficina ProChile",
                               20, region="CL-RM", created_by="eje.rm")
    # the executive chooses the workshop; the company is enrolled in its next session open to CL-RM
    case = cpe.do(case_id, "Task_Capacitacion", {"talleres": ["taller_123_exporta"],
                                                 "programa_complementario": "ninguno"}, user="eje.rm")
    [enrolment] = case["data"]["inscripcion_taller"]["inscripciones"]
    assert enrolment["sesion_id"] == session["id"] != elsewhere["id"]
    assert [(w["session"]["id"], w["status"], w["registered_by"]) for w in W.company_workshops(engine, company_id)] \
        == [(session["id"], "registered", "eje.rm")]
    assert ("capacitacion", f"Inscripción en talleres: Taller 123 Exporta ({_local(session['starts_at'])}, "
                            "Oficina ProChile)") in _activities(engine, case_id)
    # the case waits for the session, then a day for the attendance
    assert cpe.ready(case_id) == {}
    assert datetime.fromisoformat(case["next_timer_at"]) == session["starts_at"]
    clock.set(session["starts_at"] + timedelta(minutes=1))
    assert engine.fire_due_timers() == 1 and cpe.ready(case_id) == {}
    W.mark_attendance(engine, session["id"], [company_id], by="eje.rm")  # attendance taken on the day
    clock.advance(hours=23)
    assert engine.fire_due_timers() == 0
    clock.advance(hours=1, minutes=1)
    assert engine.fire_due_timers() == 1
    case = engine.case(case_id)
    assert case["data"]["verificacion_capacitacion"] == {"capacitada": True, "talleres": 1}
    assert list(cpe.ready(case_id)) == ["Task_Asesoria"]  # trained: the case moves on
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    assert [tipo for tipo, _ in _activities(engine, case_id)] == ["tpe", "entrevista", "capacitacion", "asesoria"]
    # the registry shows the workshop and the SRA activities; the attendance indicator counts it
    record = company_record(engine, ANALYST, company_id)
    assert [(w["session"]["workshop_key"], w["status"]) for w in record["talleres"]] == [
        ("taller_123_exporta", "attended")]
    assert {"capacitacion", "asesoria"} <= {a["tipo"] for a in record["actividades"]}
    timeline = [(e["kind"], e["text"]) for e in record["timeline"]]
    assert ("taller", "Taller 123 Exporta") in timeline
    attendance = indicators(engine)["asistencia"]["taller_123_exporta"]
    assert attendance["asistieron"] == 1 and attendance["valor"] > 0


def test_absent_company_returns_to_choose_another_session(cpe):
    """Manual §4.1: the company must be trained before any promotion action; a session it did not
    attend does not train it, so the executive chooses another session."""
    engine, clock = cpe.engine, cpe.clock
    case_id = _amarillo(cpe)
    company_id = cpe.company_id(case_id)
    first = W.create_session(engine, "ecommerce", clock.now() + timedelta(days=3), "Oficina ProChile", 20,
                             region="CL-RM")
    cpe.do(case_id, "Task_Capacitacion", {"talleres": ["ecommerce"], "programa_complementario": "ninguno"})
    clock.set(first["starts_at"] + timedelta(minutes=1))
    engine.fire_due_timers()
    W.mark_attendance(engine, first["id"], [], by="eje.rm")  # absent
    clock.advance(days=1, minutes=1)
    engine.fire_due_timers()
    case = engine.case(case_id)
    assert case["data"]["verificacion_capacitacion"] == {"capacitada": False, "talleres": 0}
    assert list(cpe.ready(case_id)) == ["Task_Capacitacion"]  # back to choose another session
    second = W.create_session(engine, "ecommerce", clock.now() + timedelta(days=7), "En línea", 50, online=True)
    case = cpe.do(case_id, "Task_Capacitacion", {"talleres": ["ecommerce"], "programa_complementario": "ninguno"})
    assert [i["sesion_id"] for i in case["data"]["inscripcion_taller"]["inscripciones"]] == [second["id"]]
    clock.set(second["starts_at"] + timedelta(minutes=1))
    engine.fire_due_timers()
    W.mark_attendance(engine, second["id"], [company_id], by="eje.rm")
    clock.advance(days=1, minutes=1)
    engine.fire_due_timers()
    assert list(cpe.ready(case_id)) == ["Task_Asesoria"]
    assert [w["status"] for w in W.company_workshops(engine, company_id)] == ["attended", "absent"]
    assert [tipo for tipo, _ in _activities(engine, case_id)].count("capacitacion") == 2


def test_a_workshop_without_sessions_returns_the_task_at_once(cpe):
    """Manual §4.1: the company is enrolled before the workshop; with no upcoming session of the chosen
    workshop open to its region nothing is registered and the executive chooses again."""
    engine, clock = cpe.engine, cpe.clock
    case_id = _amarillo(cpe)
    W.create_session(engine, "talleres_mercado", clock.now() + timedelta(days=3), "CPE Biobío", 20, region="CL-BI")
    case = cpe.do(case_id, "Task_Capacitacion", {"talleres": ["talleres_mercado"],
                                                 "programa_complementario": "ninguno"})
    assert case["data"]["inscripcion_taller"]["sin_sesion"] == ["talleres_mercado"]
    assert list(cpe.ready(case_id)) == ["Task_Capacitacion"] and case["next_timer_at"] is None
    assert W.company_workshops(engine, cpe.company_id(case_id)) == []
    assert "capacitacion" not in [tipo for tipo, _ in _activities(engine, case_id)]


def test_verde_already_trained_goes_to_specialised_advice(cpe):
    """Manual §4.1 and §4.2: a verde company that already attended a workshop (here, registered
    from its portal) needs no second training; the specialised advice is an SRA activity (§9)."""
    engine, clock = cpe.engine, cpe.clock
    case_id = cpe.start(ventas_uf=60000, rubro="alimentos_procesados")
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.ALIMENTOS_VERDE})
    company_id = cpe.company_id(case_id)
    session = W.create_session(engine, "taller_123_exporta", clock.now() + timedelta(days=1), "Oficina", 20,
                               region="CL-RM")
    W.register(engine, session["id"], company_id, W.PORTAL_ACTOR, self_service=True)
    clock.set(session["starts_at"])
    W.mark_attendance(engine, session["id"], [company_id], by="eje.rm")
    cpe.do(case_id, "Task_AgendarEntrevista", {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:30",
                                               "lugar_entrevista": "empresa"})
    case = cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_ALTA, "brechas": "Logística."})
    assert case["segmento"] == "verde" and list(cpe.ready(case_id)) == ["Task_AsesoriaEspecializada"]
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    assert ("asesoria_especializada", "Asesoría especializada; plan de negocios internacional: completo") \
        in _activities(engine, case_id)


def _local(moment) -> str:
    return as_utc(moment).astimezone(W.LOCAL_TZ).strftime("%d-%m-%Y %H:%M")


# -- the form offers the catalogue; the operator ------------------------------------------------

def test_the_form_offers_the_workshop_catalogue():
    form = json.loads((ROOT / "forms" / "capacitacion.json").read_text())
    offered = [(o["const"], o["title"]) for o in form["properties"]["talleres"]["items"]["oneOf"]]
    assert offered == [(w["key"], w["name"]) for w in W.load_catalogue()]


@pytest.mark.parametrize("value, error", [
    (["taller_123_exporta"], None),
    ([" ecommerce "], None),
    ([], "debe ser una lista no vacía de textos"),
    ("taller_123_exporta", "debe ser una lista no vacía de textos"),
    ([""], "debe ser un texto no vacío"),
    ([3], "debe ser un texto no vacío"),
    (["x"] * 21, "no puede tener más de 20 elementos"),
])
def test_the_workshop_list_check(value, error):
    check = checks.text_list()
    if error is None:
        assert check(value) == [v.strip() for v in value]
    else:
        with pytest.raises(ValueError, match=error):
            check(value)


@pytest.fixture
def seeded(engine):
    W.seed_catalogue(engine)
    return engine


def _company(engine, rut, region):
    now = engine.now()
    with engine.transaction() as s:
        company = Company(rut=rut, razon_social=f"Empresa {rut}", region=region, created_at=now, updated_at=now)
        s.add(company)
        s.flush()
        return company.id


def _enrol(engine, company_id, talleres, actor="eje.rm"):
    with engine.transaction() as s:
        ctx = ServiceContext(session=s, case=Case(company_id=company_id), now=engine.now(), form=None, actor=actor)
        return call(ctx, "inscribir_taller", {"talleres": talleres})


def test_the_operator_takes_the_next_open_session_with_seats(seeded, clock):
    rm, bi = _company(seeded, "76.086.428-5", "CL-RM"), _company(seeded, "76.555.666-K", "CL-BI")
    other = _company(seeded, "76.333.444-9", "CL-RM")
    soon = clock.now() + timedelta(days=2)
    full = W.create_session(seeded, "taller_123_exporta", soon, "Sala chica", 1, region="CL-RM")
    W.register(seeded, full["id"], other, "eje.rm")
    regional = W.create_session(seeded, "taller_123_exporta", soon + timedelta(days=1), "CPE RM", 20, region="CL-RM")
    national = W.create_session(seeded, "taller_123_exporta", soon + timedelta(days=5), "Santiago", 20)
    cancelled = W.create_session(seeded, "ecommerce", soon, "CPE RM", 20, region="CL-RM")
    W.cancel_session(seeded, cancelled["id"], "eje.rm")
    result = _enrol(seeded, rm, ["taller_123_exporta", "ecommerce", "taller_123_exporta"])
    assert [i["sesion_id"] for i in result["inscripciones"]] == [regional["id"]]  # not full, not cancelled
    assert result["sin_sesion"] == ["ecommerce"] and result["ultima_sesion"] == regional["starts_at"].isoformat()
    assert _enrol(seeded, rm, ["taller_123_exporta"])["inscripciones"][0]["sesion_id"] == regional["id"]  # kept
    assert [i["sesion_id"] for i in _enrol(seeded, bi, ["taller_123_exporta"])["inscripciones"]] == [national["id"]]
    with seeded.Session() as s:
        rows = s.execute(select(WorkshopRegistration.company_id, WorkshopRegistration.session_id,
                                WorkshopRegistration.registered_by).order_by(WorkshopRegistration.id)).all()
    assert [tuple(r) for r in rows] == [(other, full["id"], "eje.rm"), (rm, regional["id"], "eje.rm"),
                                        (bi, national["id"], "eje.rm")]


@pytest.mark.parametrize("talleres, company, message", [
    (["origami"], True, "taller desconocido «origami»"),
    (["taller_123_exporta"], False, "el caso no tiene una empresa registrada"),
    ([], True, "parámetro 'talleres' debe ser una lista no vacía"),
])
def test_the_operator_refuses_bad_input_and_writes_nothing(seeded, clock, talleres, company, message):
    company_id = _company(seeded, "76.086.428-5", "CL-RM") if company else None
    W.create_session(seeded, "taller_123_exporta", clock.now() + timedelta(days=2), "CPE RM", 20, region="CL-RM")
    with pytest.raises(ServiceError, match=message):
        _enrol(seeded, company_id, talleres)
    with seeded.Session() as s:
        assert s.scalar(select(WorkshopRegistration.id)) is None


@pytest.mark.parametrize("data, state", [
    ({"segmento": "amarillo"}, "current"),
    ({"segmento": "amarillo", "verificacion_capacitacion": {"capacitada": False, "talleres": 0}}, "current"),
    ({"segmento": "amarillo", "verificacion_capacitacion": {"capacitada": True, "talleres": 1}}, "done"),
    ({"segmento": "amarillo", "verificacion_capacitacion": "sí"}, "current"),
    ({"segmento": "amarillo", "capacitada": True}, "done"),  # a case of a version before the enrolment
])
def test_the_portal_shows_training_from_the_attendance_check(data, state):
    from engine.programme.portal import stages

    data = {"puntaje_tpe": 50, "puntaje_entrevista": 50, **data}
    assert {s["key"]: s["state"] for s in stages(data, "active")}["capacitacion"] == state


@pytest.mark.parametrize("catalogue, error", [("talleres", None), ("cursos", "«x-catalogo» desconocido"),
                                              (["talleres"], "«x-catalogo» desconocido")])
def test_a_form_names_a_known_catalogue(catalogue, error):
    from engine.models.forms import load_form

    form = {"type": "object", "properties": {"talleres": {
        "type": "array", "x-catalogo": catalogue, "items": {"type": "string", "oneOf": [{"const": "a"}]}}}}
    if error is None:
        assert load_form(json.dumps(form))["properties"]["talleres"]["x-catalogo"] == "talleres"
    else:
        with pytest.raises(ValueError, match=error):
            load_form(json.dumps(form))
