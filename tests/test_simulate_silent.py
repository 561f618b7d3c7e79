"""Silent companies in a simulation (issue 16, item 4): a simulated company that stops answering
(`personas.abandono_por_tarea`, engine/simulate/shard.py) leaves its company tasks pending, and
the diagrams' timers close its case as `abandono` (SPEC §9) in simulated time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select

from engine.basics.clock import as_utc
from engine.simulate import simulate
from engine.store.schema import Case, OutboxMessage, TaskRow


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_companies_that_never_answer_end_as_abandono(deployed, tmp_path, process_id):
    """Every company stops answering at its first task (the TPE, manual §3.1): each one of the
    size the CPE serves gets one reminder and ends as `abandono` 6 months later; micro and large
    companies are derived at the size gate and never reach a task (SPEC §1 step 2)."""
    url = f"sqlite:///{tmp_path}/simulacion.sqlite3"
    result = simulate(deployed, process_id, 24, seed=5, workers=1, horizon_months=14, database_url=url,
                      config={"personas": {"abandono_por_tarea": 1.0}})
    db = create_engine(url)
    with db.connect() as c:
        cases = c.execute(select(Case.id, Case.status, Case.resultado, Case.data)).all()
        to_company = c.execute(select(OutboxMessage.case_id, OutboxMessage.asunto)
                               .where(OutboxMessage.destinatario == "pyme")).all()
    db.dispose()
    assert len(cases) == 24 and result["resultados"]["error"] == 0
    eligible = [c for c in cases if c.data["tamano"]["tramo"] in ("pequena", "mediana")]
    assert eligible and len(eligible) < 24  # the seed gives both kinds
    assert all(c.status == "completed" and c.resultado == "abandono" for c in eligible)
    assert all(c.resultado == "derivada" for c in cases if c not in eligible)
    reminders = [m.case_id for m in to_company if m.asunto.startswith("Recordatorio")]
    assert sorted(reminders) == sorted(c.id for c in eligible)  # one reminder each
    # and the derived ones their derivation, with its contact (the diagrams' milestone message)
    derived = [m.case_id for m in to_company if m.asunto.startswith("Su empresa fue derivada")]
    assert sorted(derived) == sorted(c.id for c in cases if c not in eligible)
    assert len(to_company) == len(reminders) + len(derived)
    assert result["resultados"]["abandono"] == len(eligible) and result["resultados"]["activa"] == 0
    assert result["personas"]["empresas_que_dejaron_de_responder"] == len(eligible)
    # silent before their first TPE: they never entered (SPEC §6), so they are not desertion but their own figure
    assert result["indicadores"]["desertaron"] == 0
    assert result["indicadores"]["cerrada_sin_ingresar"] == len(eligible)


def test_in_a_cohort_silent_companies_do_not_stay_waiting(deployed, tmp_path):
    """A seeded cohort where companies go silent at any task: at the horizon no case waits for a
    company answer offered more than 6 months earlier (the abandonment timer took it), and the
    companies silent at a company task ended as `abandono`."""
    url = f"sqlite:///{tmp_path}/simulacion.sqlite3"
    result = simulate(deployed, "cpe_actual", 40, seed=3, workers=1, horizon_months=24, database_url=url,
                      config={"personas": {"abandono_por_tarea": 0.15}})
    end = datetime.fromisoformat(result["configuracion"]["inicio"]) + timedelta(days=round(30.44 * 24))
    db = create_engine(url)
    with db.connect() as c:
        waiting = c.execute(select(TaskRow.created_at).join(Case, Case.id == TaskRow.case_id)
                            .where(TaskRow.state == "ready", TaskRow.lane == "pyme", Case.status == "active")
                            ).scalars().all()
    db.dispose()
    assert result["resultados"]["error"] == 0
    assert result["personas"]["empresas_que_dejaron_de_responder"] > 0
    assert result["resultados"]["abandono"] > 0
    assert all(as_utc(created) > end - timedelta(days=184) for created in waiting)
