"""The Correos de Chile benefit (manual §8, processes/correos_mensual.bpmn): started by its monthly
timer from `cpe worker`, one extract per region and month exactly once, personas naturales only
with the signed authorisation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from cli.context import CliContext
from cli.main import cpe
from engine.assembly import build_engine
from engine.cases import scheduler
from engine.domain.regions import REGIONS
from engine.programme import benefits
from engine.store.schema import BenefitExtract, Case, Company, OutboxMessage
from webapp import create_app

from . import profiles as P
from .driver import Driver

APRIL = datetime(2026, 4, 1, 12, 0, 1, tzinfo=UTC)  # 09:00:01 in Santiago (UTC-3)
MAY = datetime(2026, 5, 1, 13, 0, 1, tzinfo=UTC)  # 09:00:01 in Santiago (UTC-4 from April)


@pytest.mark.parametrize("tipo,consent,segment,result,status,expected", [
    ("juridica", True, "amarillo", None, "active", True),
    ("juridica", None, "verde", None, "active", True),  # a legal person needs no authorisation
    ("juridica", False, "verde", "exportadora", "completed", True),
    ("natural", True, "amarillo", None, "active", True),
    ("natural", False, "amarillo", None, "active", False),
    ("natural", None, "verde", None, "active", False),
    (None, None, "verde", None, "active", False),  # unknown kind of person: as a persona natural
    (None, True, "verde", None, "error", True),
    ("juridica", True, "rojo", "derivada", "completed", False),
    ("juridica", True, "rojo_oscuro", "derivada", "completed", False),
    ("juridica", True, "amarillo", "desercion", "completed", False),
    ("juridica", True, "verde", "abandono", "completed", False),
    ("juridica", True, "verde", None, "cancelled", False),
    ("juridica", True, None, None, "active", False),  # not classified yet: not in the programme
])
def test_who_is_entitled(tipo, consent, segment, result, status, expected):
    assert benefits.entitled(tipo, consent, segment, result, status) is expected


@pytest.mark.parametrize("value", ["2026-13", "2026-4", "abril", "", None, 202604, "2026-04-01"])
def test_bad_periods_are_refused(value):
    with pytest.raises(ValueError):
        benefits.check_period(value)


@pytest.fixture
def programme(deployed, clock):
    return make_programme(deployed, clock)


def make_programme(deployed, clock):
    """Companies of the programme (through the engine), their executives and the regional heads."""
    for username, region in (("eje.rm", "CL-RM"), ("eje.bi", "CL-BI")):
        if deployed.get_user(username) is None:  # the web tests' app already has some
            deployed.create_user(username, "una-clave-larga", "ejecutivo_cpe", region=region)
    cpe = Driver(deployed, clock, "cpe_actual")
    made = {}
    for name, rut, region, extra, tpe in [
        ("viña", "76.086.428-5", "CL-RM", {}, P.VINA_AMARILLO),
        ("natural_con", "12.345.678-5", "CL-RM", {"tipo_persona": "natural", "razon_social": "Ana Rojas"},
         P.VINA_AMARILLO),
        ("natural_retira", "11.111.111-1", "CL-BI", {"tipo_persona": "natural", "razon_social": "Luis Soto"},
         P.ALIMENTOS_VERDE),
        ("exportadora", "77.777.777-7", "CL-BI", {"razon_social": "Exportadora Regular SpA"}, P.EXPORTADORA_REGULAR),
    ]:
        case_id = cpe.start(rut=rut, region=region, **extra)
        cpe.through_interview(case_id, tpe, P.ENTREVISTA_MEDIA if tpe is P.VINA_AMARILLO else P.ENTREVISTA_ALTA)
        made[name] = deployed.case(case_id)
    # Luis Soto withdraws his authorisation to hand his data to partners
    with deployed.transaction() as s:
        s.execute(update(Company).where(Company.rut == "11.111.111-1").values(consentimiento_datos=False))
    deployed.create_user("jefe.rm", "una-clave-larga", "jefe_regional", region="CL-RM", email="jefe.rm@prochile.cl")
    deployed.create_user("jefe.bi", "una-clave-larga", "jefe_regional", region="CL-BI", email="jefe.bi@prochile.cl")
    return made


def _worker(engine):
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    result = CliRunner().invoke(cpe, ["worker", "--once"], obj=CliContext.for_app(app))
    assert result.exit_code == 0, result.output
    return result


def _extracts(engine):
    with engine.Session() as s:
        return s.scalars(select(BenefitExtract).order_by(BenefitExtract.periodo, BenefitExtract.id)).all()


def test_monthly_extract_from_the_worker_exactly_once(deployed, clock, programme):
    assert {c["segmento"] for c in programme.values()} == {"amarillo", "verde", "rojo_oscuro"}
    _worker(deployed)  # March: the schedule is made, nothing is due
    assert _extracts(deployed) == []
    assert scheduler.listing(deployed)[0]["next_at"] == "2026-04-01T12:00:00+00:00"

    clock.set(APRIL)
    first = _worker(deployed)
    assert "1 caso(s) avanzados: inicios programados" in first.stderr
    _worker(deployed)  # a second round in the same month changes nothing
    april = _extracts(deployed)
    assert [e.periodo for e in april] == ["2026-04"] * len(REGIONS)
    assert {e.region for e in april} == set(REGIONS)
    by_region = {e.region: [row["rut"] for row in e.filas] for e in april}
    assert by_region["CL-RM"] == ["12.345.678-5", "76.086.428-5"]  # by razón social: Ana Rojas, Viña…
    assert by_region["CL-BI"] == []  # Luis Soto withdrew his consent; the exporter is not in the programme
    assert sum(len(v) for v in by_region.values()) == 2
    [case_id] = {e.case_id for e in april}
    case = deployed.case(case_id)
    assert case["process_id"] == "correos_mensual" and case["status"] == "completed"
    assert case["data"]["extracto"]["total"] == 2
    with deployed.Session() as s:
        outbox = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    assert len(outbox) == len(REGIONS)
    rm = next(m for m in outbox if m.to_address == "jefe.rm@prochile.cl")
    assert "2 empresa(s)" in rm.mensaje and rm.asunto == "Beneficio Correos de Chile: listado de 2026-04"
    assert any(m.to_address == "jefe.bi@prochile.cl" and "0 empresa(s)" in m.mensaje for m in outbox)

    clock.set(MAY)
    _worker(deployed)
    _worker(deployed)
    extracts = _extracts(deployed)
    assert [e.periodo for e in extracts].count("2026-05") == len(REGIONS)
    assert len(extracts) == 2 * len(REGIONS)
    with deployed.Session() as s:
        started = s.scalars(select(Case.id).where(Case.process_key == "correos_mensual")).all()
    assert len(started) == 2
    assert scheduler.listing(deployed)[0]["next_at"] == "2026-06-01T13:00:00+00:00"


def test_rerunning_a_month_is_a_no_op(deployed, clock, programme):
    scheduler.sync(deployed)  # what a running worker does right after the deploy
    clock.set(APRIL)
    scheduler.run_due(deployed)
    before = [(e.id, e.region, len(e.filas)) for e in _extracts(deployed)]
    # a later case of the same month (e.g. an analyst re-running the diagram) adds nothing
    case_id = deployed.start("correos_mensual", {"inicio_programado": "2026-04-01T12:00:00+00:00"})
    again = deployed.case(case_id)
    assert again["data"]["extracto"]["nuevos"] == 0 and again["data"]["avisos"] == []
    assert again["status"] == "completed" and again["next_timer_at"] is None  # run now, not a waiting timer
    assert [(e.id, e.region, len(e.filas)) for e in _extracts(deployed)] == before


def test_a_persona_natural_without_consent_is_never_included(deployed, clock, programme):
    scheduler.sync(deployed)
    clock.set(APRIL)
    scheduler.run_due(deployed)
    ruts = {row["rut"] for e in _extracts(deployed) for row in e.filas}
    assert "11.111.111-1" not in ruts and "12.345.678-5" in ruts
    for e in _extracts(deployed):
        for row in e.filas:
            assert row["tipo_persona"] == "juridica" or row["consentimiento_datos"] is True


def test_two_workers_make_one_extract_per_region(deployed, clock, programme, database_url):
    scheduler.sync(deployed)
    clock.set(MAY)  # April and May are both due
    workers = [build_engine(url=database_url, clock=clock) for _ in range(2)]
    barrier = threading.Barrier(2)
    counts = []

    def run(worker):
        barrier.wait()
        counts.append(scheduler.run_due(worker) + scheduler.run_due(worker))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 2
    extracts = _extracts(deployed)
    assert len(extracts) == 2 * len(REGIONS)
    assert len({(e.periodo, e.region) for e in extracts}) == 2 * len(REGIONS)
    for worker in workers:
        worker.db.dispose()
