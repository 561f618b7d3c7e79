"""The Capacitación task page (issue 16 item 2): the executive sees the upcoming workshop sessions
open to the case's region, and completing the task enrols the company in one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine.models.validation import collect_files
from engine.programme import workshops as W
from tests import profiles as P
from tests.driver import Driver

ROOT = Path(__file__).resolve().parents[2]


def test_the_training_task_lists_the_regions_sessions_and_enrols(client, auth, engine, clock):
    """Manual §4.1: the company is enrolled in a workshop before it takes place."""
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="modelos")
    engine.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    W.seed_catalogue(engine)
    cpe = Driver(engine, clock, "cpe_actual")
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    task = cpe.ready(case_id)["Task_Capacitacion"]
    ours = W.create_session(engine, "mujer_exporta", clock.now() + timedelta(days=6), "Oficina <Santiago>", 12,
                            region="CL-RM")
    W.create_session(engine, "talleres_mercado", clock.now() + timedelta(days=6), "CPE Concepción", 12,
                     region="CL-BI")
    auth.login(task["assignee"])
    html = client.get(f"/tareas/{task['id']}").text
    listed = html[html.index('id="sesiones-taller"'):html.index("</section>", html.index('id="sesiones-taller"'))]
    assert "Taller Mujer Exporta" in listed and "Oficina &lt;Santiago&gt;" in listed
    assert "Talleres de Mercado" not in listed  # a session of another region
    done = client.post(f"/tareas/{task['id']}", data={"talleres": ["mujer_exporta"],
                                                        "programa_complementario": "ninguno"})
    assert done.status_code == 302
    [registration] = W.company_workshops(engine, cpe.company_id(case_id))
    assert registration["session"]["id"] == ours["id"] and registration["registered_by"] == task["assignee"]


def test_other_task_pages_list_no_sessions(client, auth, start, engine):
    [task] = engine.ready_tasks(case_id=start())
    auth.login()
    assert 'id="sesiones-taller"' not in client.get(f"/tareas/{task['id']}").text
