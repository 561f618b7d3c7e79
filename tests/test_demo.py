"""`cpe demo` loads, once: users of every role, a programme's past run through the real process on a
backdated clock (tooling/demo.py, engine/simulate/backfill.py), cases of today at each early stage and
private portal links."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from engine.domain.roles import EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL, PYME
from engine.programme import indicators, portal
from engine.store.schema import Case, CaseEvent, Company, User, WorkshopRegistration, WorkshopSession
from tooling.demo import DEMO_COMPANIES, DEMO_PASSWORD, DEMO_PORTAL, DEMO_USERS, load_demo, regional_staff

from .conftest import ROOT, fresh_database

HISTORY = 60  # companies: enough for every kind of outcome with the demo's seed, small enough for the suite


def test_demo_loads_once_with_working_portal_links(engine):
    result = load_demo(engine, ROOT / "processes", ROOT / "forms", companies=0)
    assert result["usuarios"] == len(DEMO_USERS) and result["casos"] == len(DEMO_COMPANIES)
    assert "historia" not in result
    assert set(result["portal"]) == set(DEMO_PORTAL)
    for name, path in result["portal"].items():
        company_id = portal.company_for_token(engine, path.rsplit("/", 1)[1])
        assert portal.overview(engine, company_id)["company"]["razon_social"] == name
    segments = {c["segmento"] for c in (engine.case(i) for i in range(1, len(DEMO_COMPANIES) + 1))}
    assert {"amarillo", "verde", "rojo_oscuro"} <= segments
    assert engine.authenticate("analista", DEMO_PASSWORD) is not None
    again = load_demo(engine, ROOT / "processes", ROOT / "forms")
    assert again["casos"] == 0 and again["nota"] == "la demo ya estaba cargada"


def test_the_regional_staff_covers_every_region_and_keeps_the_demo_users():
    staff = regional_staff()
    names = [a["username"] for a in staff] + [u for u, *_ in DEMO_USERS]
    assert len(names) == len(set(names))
    by_role = Counter((a["role"], a["region"]) for a in staff)
    by_role.update((role, region) for _, role, region, *_ in DEMO_USERS if region)
    assert by_role[(EJECUTIVO_CPE, "CL-RM")] == 6 and by_role[(EJECUTIVO_PROCHILE, "CL-RM")] == 2
    assert by_role[(EJECUTIVO_CPE, "CL-AI")] == 2 and by_role[(JEFE_REGIONAL, "CL-BI")] == 1
    assert regional_staff() == staff, "the same seed gives the same people"


def _programme(engine) -> dict:
    """What a company went through, by RUT: its case's outcome and segment."""
    with engine.Session() as s:
        rows = s.execute(select(Company.rut, Case.resultado, Case.segmento, Case.status)
                         .join(Case, Case.company_id == Company.id).order_by(Company.rut)).all()
    return {rut: (resultado, segmento, status) for rut, resultado, segmento, status in rows}


def test_the_demo_history_is_a_living_programme_worked_by_its_staff(engine):
    """Two years of a CPE through the real diagrams: every outcome, segments, workshops with
    attendance, and histories written by the staff and the companies (never «simulacion»)."""
    result = load_demo(engine, ROOT / "processes", ROOT / "forms", companies=HISTORY, months=18, workers=1)
    history = result["historia"]
    assert history["errores"] == [] and history["empresas"] == HISTORY
    assert {"exportadora", "derivada", "en_curso"} <= set(history["resultados"]), history
    assert history["talleres"]["asistencias"] > 0 and history["tareas"] > HISTORY
    with engine.Session() as s:
        cases = s.scalar(select(func.count()).select_from(Case))
        assert cases == HISTORY + len(DEMO_COMPANIES)
        first = s.scalar(select(func.min(Case.created_at)))
        assert (engine.now() - first.replace(tzinfo=engine.now().tzinfo)).days > 300, "the past goes back months"
        actors = set(s.scalars(select(CaseEvent.actor).distinct()))
        staff = set(s.scalars(select(User.username)))
        assert "simulacion" not in actors
        assert actors - staff <= {PYME, "sistema", "temporizador", "demo"}, actors - staff
        assert len(actors & staff) > 5, "the work is spread over the regional staff"
        segments = set(s.scalars(select(Case.segmento).distinct()))
        assert {"rojo", "amarillo", "verde"} <= segments
        sessions = s.scalar(select(func.count()).select_from(WorkshopSession))
        registered = s.scalar(select(func.count()).select_from(WorkshopRegistration))
        assert registered > sessions > len(result["portal"])  # sessions are shared (monthly per region)
        assert s.scalar(select(func.count()).select_from(WorkshopRegistration)
                        .where(WorkshopRegistration.attended.is_(True))) > 0
        assert "simulacion" not in set(s.scalars(select(WorkshopSession.created_by).distinct()))
        names = list(s.scalars(select(Company.razon_social)))
    assert not [n for n in names if any(ch.isdigit() for ch in n)], "company names look like names"
    figures = indicators.indicators(engine)
    # SPEC §6: registered companies that were not classified (size gate, no TPE yet) did not enter
    assert figures["registradas"] >= HISTORY and figures["exportadoras"] > 0 and figures["desertaron"] > 0, figures
    assert 0 < figures["ingresadas"] < figures["registradas"]
    assert figures["ingresadas"] + sum(figures["antes_del_ingreso"].values()) == figures["registradas"]


def test_the_same_seed_gives_the_same_programme_whatever_the_processes(engine, tmp_path, clock):
    """Reproducible by seed: one process or two (regions apart), the same companies end the same way."""
    from engine.assembly import build_engine

    load_demo(engine, ROOT / "processes", ROOT / "forms", companies=24, months=9, workers=1)
    with fresh_database(tmp_path, "otra") as url:
        other = build_engine(url=url, clock=clock)
        try:
            load_demo(other, ROOT / "processes", ROOT / "forms", companies=24, months=9, workers=2)
            assert _programme(other) == _programme(engine)
        finally:
            other.db.dispose()


@pytest.mark.parametrize("companies, months", [(-1, 24), (10, 0)])
def test_bad_sizes_are_refused(engine, companies, months):
    with pytest.raises(ValueError):
        load_demo(engine, ROOT / "processes", ROOT / "forms", companies=companies, months=months)


def test_every_demo_address_is_reserved_for_examples(engine):
    """Mail queued by the demo's past can reach nobody (RFC 2606 domains), even with SMTP configured."""
    from engine.store.schema import OutboxMessage

    load_demo(engine, ROOT / "processes", ROOT / "forms", companies=12, months=6, workers=1)
    with engine.Session() as s:
        addresses = set(s.scalars(select(User.email))) | set(s.scalars(select(Company.contacto_email)))
        addresses |= set(s.scalars(select(OutboxMessage.to_address)))
    addresses.discard(None)
    assert addresses and all(a.endswith(".example") for a in addresses), sorted(addresses)[:5]
