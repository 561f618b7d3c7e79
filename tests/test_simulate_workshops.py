"""Simulated workshop attendance (engine/simulate/workshop_attendance.py): a diagram that asks
`verificar_capacitacion` whether its company was trained gets its answer from registrations and
attendance written by the engine's own workshop functions in the throwaway database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.models.validation import collect_files
from engine.simulate import simulate
from engine.simulate.workshop_attendance import enabled, next_session_day
from engine.store.schema import Activity, WorkshopRegistration, WorkshopSession

MODEL = Path(__file__).parent / "models" / "capacitacion"
ALWAYS = {"talleres": {"asistencia_mensual": [1.0, 0.0], "presentes": 1.0}}
NEVER = {"talleres": {"asistencia_mensual": [0.0, 0.0]}}


@pytest.fixture
def trained(engine):
    engine.deploy(collect_files([MODEL]), author="analista", message="capacitación antes de promoción")
    return engine


def _run(engine, config=None, cases=30, **kwargs):
    return simulate(engine, "formacion_previa", cases, seed=5, horizon_months=6, workers=1, config=config, **kwargs)


def _dump(result):
    return json.dumps(result, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 10, 14, tzinfo=UTC)),  # Monday → Tuesday after next
    (datetime(2026, 3, 3, 20, tzinfo=UTC), datetime(2026, 3, 10, 14, tzinfo=UTC)),  # Tuesday → a week later
    (datetime(2026, 3, 4, 0, tzinfo=UTC), datetime(2026, 3, 17, 14, tzinfo=UTC)),  # Wednesday
    (datetime(2026, 12, 28, 12, tzinfo=UTC), datetime(2027, 1, 5, 14, tzinfo=UTC)),  # across the year
])
def test_next_session_day(now, expected):
    day = next_session_day(now)
    assert day == expected and day.weekday() == 1 and (day.date() - now.date()).days >= 7


@pytest.mark.parametrize("setting, operators, expected", [
    ("auto", {"verificar_capacitacion", "derivar"}, True),
    ("auto", {"derivar"}, False),
    ("auto", {"inscribir_taller", "verificar_capacitacion"}, True),
    (False, {"inscribir_taller", "verificar_capacitacion"}, True),  # enrolling needs sessions
    (True, set(), True),
    (False, {"verificar_capacitacion"}, False),
])
def test_workshops_are_simulated_when_the_process_reads_them(setting, operators, expected):
    assert enabled({"talleres": {"simular": setting}}, operators) is expected


def test_companies_that_always_attend_are_all_trained(trained, tmp_path):
    url = f"sqlite:///{tmp_path}/sim.sqlite3"
    result = _run(trained, ALWAYS, database_url=url)
    talleres, resultados = result["talleres"], result["resultados"]
    finished = 30 - resultados["activa"]
    assert finished > 0 and resultados["exportadora"] == finished and resultados["desercion"] == 0
    assert talleres["simulados"] and talleres["sesiones"] > 0 and talleres["sin_cupo"] == 0
    assert talleres["inscripciones"] >= finished and talleres["asistencias"] == talleres["inscripciones"]
    assert talleres["asistencia"] == 1.0
    run = build_engine(url=url)  # written by the engine's workshop functions
    try:
        with run.Session() as s:
            assert s.scalar(select(func.count()).select_from(WorkshopRegistration)) == talleres["inscripciones"]
            assert s.scalar(select(func.count()).where(WorkshopRegistration.attended.is_(True))) == \
                talleres["asistencias"]
            assert s.scalar(select(func.count()).select_from(WorkshopSession)) == talleres["sesiones"]
    finally:
        run.db.dispose()


def test_companies_that_never_attend_are_never_trained(trained):
    for config in (NEVER, {"talleres": {"simular": False}}):
        result = _run(trained, config)
        resultados = result["resultados"]
        assert resultados["exportadora"] == 0 and resultados["desercion"] == 30 - resultados["activa"] > 0
        assert not result["talleres"]["inscripciones"] and not result["talleres"]["asistencias"]
    assert _run(trained, NEVER)["talleres"]["inscripciones"] == 0  # simulated: nobody chose to go
    assert _run(trained, {"talleres": {"simular": False}})["talleres"]["simulados"] is False


def test_attendance_follows_the_assumptions_and_the_seed(trained):
    default = _run(trained, cases=40)
    assert 0 < default["resultados"]["exportadora"] < 40 - default["resultados"]["activa"]
    assert _dump(default) == _dump(_run(trained, cases=40))
    registered, attended = default["talleres"]["inscripciones"], default["talleres"]["asistencias"]
    assert 0 < attended < registered  # 85 % turn up by default
    full = _run(trained, {"talleres": {"cupo": 1, "asistencia_mensual": [1.0, 0.0]}}, cases=40)
    assert full["talleres"]["sin_cupo"] > 0  # one seat a session: the others wait for the next month


def test_the_result_with_workshops_does_not_depend_on_the_process_split(trained):
    one = simulate(trained, "formacion_previa", 24, seed=8, horizon_months=4, workers=1)
    two = simulate(trained, "formacion_previa", 24, seed=8, horizon_months=4, workers=2)
    assert _dump(one) == _dump(two) and one["talleres"]["simulados"]


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_the_shipped_designs_enrol_companies_in_simulated_sessions(deployed, tmp_path, process_id):
    """The Capacitación task of the shipped designs enrols the company (`inscribir_taller`) in a
    session the simulated region holds; companies attend or not, and only those that attended move on
    to advice (manual §4.1). Workshops are simulated even when the configuration says not to: the
    process cannot run without sessions."""
    url = f"sqlite:///{tmp_path}/sim.sqlite3"
    config = {"talleres": {"simular": False, "asistencia_mensual": [0.0, 0.0], "presentes": 0.5}}
    result = simulate(deployed, process_id, 40, seed=3, horizon_months=8, workers=1, config=config,
                      database_url=url)
    talleres = result["talleres"]
    assert talleres["simulados"] and talleres["sesiones"] > 0
    assert 0 < talleres["asistencias"] < talleres["inscripciones"]
    run = build_engine(url=url)
    try:
        with run.Session() as s:
            held = select(WorkshopRegistration).where(WorkshopRegistration.marked_at.is_not(None)).subquery()
            assert s.scalar(select(func.count()).select_from(held)) == talleres["inscripciones"]
            assert s.scalar(select(func.count()).where(WorkshopRegistration.attended.is_(True))) == \
                talleres["asistencias"]
            trained = set(s.scalars(select(WorkshopRegistration.company_id)
                                    .where(WorkshopRegistration.attended.is_(True))))
            kinds = s.execute(select(Activity.company_id, Activity.tipo)).all()
        advised = {company for company, tipo in kinds if tipo in ("asesoria", "asesoria_especializada")}
        assert advised and advised <= trained  # no advice before the training was attended
        assert {tipo for _, tipo in kinds} >= {"capacitacion", "asesoria"}
    finally:
        run.db.dispose()


def test_companies_that_never_turn_up_never_get_advice(deployed):
    config = {"talleres": {"asistencia_mensual": [0.0, 0.0], "presentes": 0.0}}
    result = simulate(deployed, "cpe_actual", 20, seed=3, horizon_months=6, workers=1, config=config)
    assert result["talleres"]["inscripciones"] > 0 and result["talleres"]["asistencias"] == 0
    assert result["resultados"]["exportadora"] == 0
