"""Due dates of user tasks come from the diagram: a `plazo` property, or the timer attached
to the task as a boundary event. The inbox filters and sorts by them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.basics.errors import DeployError
from engine.cases.queries import InboxFilters, inbox
from engine.models.validation import collect_files

from .profiles import VINA_AMARILLO, empresa

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76086428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}


def _due(task):
    return datetime.fromisoformat(task["due_at"]) if task["due_at"] else None


def test_boundary_timer_is_the_due_date(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    case_id = deployed.start("cpe_actual", empresa())
    [tpe] = deployed.ready_tasks(case_id=case_id)
    # the first timer attached to the TPE: the reminder to the company after 10 working days
    assert _due(tpe) == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    deployed.complete(tpe["id"], {"respuestas": VINA_AMARILLO})
    [agenda] = deployed.ready_tasks(case_id=case_id)
    assert agenda["bpmn_id"] == "Task_AgendarEntrevista"
    # Monday 2 March 2026 09:00 + 5 working days (escalation timer) = Monday 9 March
    assert _due(agenda) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert _due(agenda) == datetime.fromisoformat(deployed.case(case_id)["next_timer_at"])


@pytest.mark.parametrize("bpmn_id, expected", [
    ("Task_Cuestionario", datetime(2026, 3, 12, 9, 0, tzinfo=UTC)),  # "P10D"
])
def test_plazo_property_is_the_due_date(engine, bpmn_id, expected):
    engine.deploy(collect_files([MODEL]))
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["bpmn_id"] == bpmn_id and _due(task) == expected


def test_plazo_with_working_days(engine, clock):
    engine.deploy(collect_files([MODEL]))
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}})
    clock.advance(days=4)
    engine.fire_due_timers()
    [call] = engine.ready_tasks(case_id=case_id)
    assert call["bpmn_id"] == "Task_Llamada"
    created = datetime.fromisoformat(call["created_at"])
    assert created.weekday() == 4  # Friday 6 March: two working days later is Tuesday 10 March
    assert _due(call).date().isoformat() == "2026-03-10"


def test_plazo_expression_is_checked_at_deploy(engine, tmp_path):
    for path in MODEL.iterdir():
        text = path.read_text()
        if path.suffix == ".bpmn":
            text = text.replace('value="&quot;P10D&quot;"', 'value="__import__(\'os\')"')
        (tmp_path / path.name).write_text(text)
    with pytest.raises(DeployError) as raised:
        engine.deploy(collect_files([tmp_path]))
    assert any("Task_Cuestionario" in str(p) and "plazo" in str(p) for p in raised.value.problems)


def test_inbox_filters_and_sorts_by_due_date(engine, clock):
    engine.deploy(collect_files([MODEL]))
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    early = engine.start("diagnostico_rapido", REGISTRO)
    clock.advance(days=5)
    late = engine.start("diagnostico_rapido", dict(REGISTRO, rut="96790240-3"))
    by_due = inbox(engine, "eje.rm", InboxFilters(order="due")).items
    assert [t["case_id"] for t in by_due] == [early, late]
    assert inbox(engine, "eje.rm").counts["overdue"] == 0
    clock.advance(days=8)  # early was due on 12 March, late is due on 17 March, now is 15 March
    overdue = inbox(engine, "eje.rm", InboxFilters(due="overdue"))
    assert [t["case_id"] for t in overdue.items] == [early] and overdue.counts["overdue"] == 1
    assert overdue.items[0]["overdue"] is True
    soon = inbox(engine, "eje.rm", InboxFilters(due="soon")).items
    assert [t["case_id"] for t in soon] == [late] and soon[0]["due_soon"] is True
    assert inbox(engine, "eje.rm", InboxFilters(due="none")).items == []
    assert [t["case_id"] for t in inbox(engine, "eje.rm", InboxFilters(version=1)).items] == [early, late]
    assert inbox(engine, "eje.rm", InboxFilters(version=2)).items == []
