"""Instance migration: deploy v1 → start → deploy v2 (the case stays on v1) → dry run →
migrate → the case goes on in v2; unsafe migrations are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.basics.errors import Conflict, NotFound
from engine.models.validation import collect_files

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76086428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}
ANSWERS = {"respuestas": {"web": "si", "idiomas": "ingles"}}


def _deploy(engine, tmp_path, name, edit=lambda text: text):
    folder = tmp_path / name
    folder.mkdir()
    for path in MODEL.iterdir():
        text = path.read_text()
        (folder / path.name).write_text(edit(text) if path.suffix == ".bpmn" else text)
    return engine.deploy(collect_files([folder]), message=name)


def _rename_call(text):
    return text.replace('name="Llamar a la empresa"', 'name="Llamar y registrar el interés"')


def test_deploy_start_deploy_dry_run_migrate_continue(engine, tmp_path, clock):
    _deploy(engine, tmp_path, "v1")
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], ANSWERS)
    clock.advance(days=4)
    engine.fire_due_timers()
    [call] = engine.ready_tasks(case_id=case_id)
    assert call["name"] == "Llamar a la empresa"

    _deploy(engine, tmp_path, "v2", _rename_call)
    assert engine.case(case_id)["version"] == 1  # a new version never changes running cases
    preview = engine.migrate(case_id, 2, dry_run=True)
    assert preview["safe"] is True and preview["reasons"] == []
    assert preview["from_version"] == 1 and preview["to_version"] == 2
    assert [c["bpmn_id"] for c in preview["changed"]] == ["Task_Llamada"]
    assert "bpmn_name" in preview["changed"][0]["attributes"]
    assert {"bpmn_id": "Task_Llamada", "name": "Llamar a la empresa"} in preview["reset"]
    assert engine.case(case_id)["version"] == 1  # the dry run changed nothing
    assert engine.ready_tasks(case_id=case_id)[0]["id"] == call["id"]

    engine.migrate(case_id, 2, actor="analista")
    case = engine.case(case_id)
    assert case["version"] == 2 and case["status"] == "active"
    [moved] = engine.ready_tasks(case_id=case_id)
    assert moved["bpmn_id"] == "Task_Llamada" and moved["name"] == "Llamar y registrar el interés"
    assert moved["process_version"] == 2
    assert [e["kind"] for e in case["history"]].count("migrated") == 1
    event = next(e for e in case["history"] if e["kind"] == "migrated")
    assert event["actor"] == "analista" and event["name"] == "v1 → v2"
    engine.complete(moved["id"], {"contactada": True, "nota": "Interesada en Perú"})
    assert engine.case(case_id)["status"] == "completed"


def test_unsafe_migration_is_refused_with_the_reason(engine, tmp_path):
    _deploy(engine, tmp_path, "v1")
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], ANSWERS)  # the case passed through Rule_Nivel and waits on the timer

    def drop_timer(text):  # the case is waiting on Timer_Espera: v2 removes it
        text = text.replace('sourceRef="Service_Sra" targetRef="Timer_Espera"', 'sourceRef="Service_Sra" '
                            'targetRef="Task_Llamada"')
        start, end = text.index('<bpmn:intermediateCatchEvent id="Timer_Espera"'), \
            text.index("</bpmn:intermediateCatchEvent>") + len("</bpmn:intermediateCatchEvent>")
        text = text[:start] + text[end:]
        text = text.replace('<bpmn:sequenceFlow id="F13" sourceRef="Timer_Espera" targetRef="Task_Llamada" />', "")
        text = text.replace("<bpmn:flowNodeRef>Timer_Espera</bpmn:flowNodeRef>", "")
        return text.replace("<bpmn:incoming>F13</bpmn:incoming>", "<bpmn:incoming>F12</bpmn:incoming>")

    _deploy(engine, tmp_path, "v2", drop_timer)
    preview = engine.migrate(case_id, 2, dry_run=True)
    assert preview["safe"] is False and "Timer_Espera" in preview["reasons"][0]
    with pytest.raises(Conflict, match="Timer_Espera"):
        engine.migrate(case_id, 2)
    case = engine.case(case_id)
    assert case["version"] == 1 and not any(e["kind"] == "migrated" for e in case["history"])


def test_migration_refusals(engine, tmp_path):
    _deploy(engine, tmp_path, "v1")
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    with pytest.raises(Conflict, match="ya está en la versión 1"):
        engine.migrate(case_id, 1)
    with pytest.raises(NotFound, match="versión 7"):
        engine.migrate(case_id, 7)
    with pytest.raises(NotFound):
        engine.migrate(999, 1)
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "no", "idiomas": "ninguno"}})  # low level: derived, ends
    _deploy(engine, tmp_path, "v2", _rename_call)
    with pytest.raises(Conflict, match="solo se migran casos en curso"):
        engine.migrate(case_id, 2)


def test_migrate_every_case_of_a_version(engine, tmp_path, clock):
    _deploy(engine, tmp_path, "v1")
    waiting = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=waiting)
    engine.complete(task["id"], ANSWERS)
    fresh = engine.start("diagnostico_rapido", dict(REGISTRO, rut="96790240-3"))
    _deploy(engine, tmp_path, "v2", _rename_call)
    preview = engine.migrate_version("diagnostico_rapido", 1, 2, dry_run=True)
    assert [(r["case_id"], r["safe"], r["migrated"]) for r in preview] == [(waiting, True, False), (fresh, True, False)]
    done = engine.migrate_version("diagnostico_rapido", 1, 2, actor="analista")
    assert [r["migrated"] for r in done] == [True, True]
    assert {engine.case(waiting)["version"], engine.case(fresh)["version"]} == {2}
    assert engine.migrate_version("diagnostico_rapido", 1, 2) == []
