"""A second, different diagram (own forms, own DMN, only documented operators) deploys
with `cpe deploy` and runs to completion with no Python change."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from engine.models.validation import collect_files
from engine.store.schema import Activity, Derivation, OutboxMessage

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76086428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-BI", "ventas_uf": 9000}


def _deploy(engine):
    return engine.deploy(collect_files([MODEL]), author="analista", message="diagnóstico rápido")


def test_second_model_runs_to_completion_through_timer(engine, clock):
    results = _deploy(engine)
    assert {(r["kind"], r["key"]) for r in results} == {
        ("process", "diagnostico_rapido"), ("decision", "dr_nivel"),
        ("form", "dr_registro"), ("form", "dr_cuestionario"), ("form", "dr_llamada")}
    case_id = engine.start("diagnostico_rapido", REGISTRO, actor="test")
    case = engine.case(case_id)
    assert case["data"]["rut"] == "76.086.428-5"  # normalised by the start form
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["bpmn_id"] == "Task_Cuestionario" and task["lane"] == "pyme"
    engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}})
    case = engine.case(case_id)
    assert case["data"]["puntaje"] == 75.0 and case["data"]["nivel"] == "alto"
    assert engine.ready_tasks(case_id=case_id) == []
    assert case["next_timer_at"] is not None

    assert engine.fire_due_timers() == 0  # not due yet
    clock.advance(days=4)
    assert engine.fire_due_timers() == 1
    assert engine.fire_due_timers() == 0  # fires exactly once
    [call] = engine.ready_tasks(case_id=case_id)
    assert call["bpmn_id"] == "Task_Llamada" and call["lane"] == "ejecutivo_cpe"
    engine.complete(call["id"], {"contactada": True, "nota": "Interesada en Perú"})
    case = engine.case(case_id)
    assert case["status"] == "completed"
    with engine.Session() as s:
        assert [a.tipo for a in s.scalars(select(Activity))] == ["diagnostico"]
        [message] = s.scalars(select(OutboxMessage)).all()
        assert message.mensaje == "Su nivel es alto"
        assert (message.to_address, message.status) == (None, "sin_direccion")  # no contact email: never attempted


def test_second_model_low_level_is_derived(engine):
    _deploy(engine)
    case_id = engine.start("diagnostico_rapido", REGISTRO)
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "no", "idiomas": "ninguno"}})
    assert engine.case(case_id)["status"] == "completed"
    with engine.Session() as s:
        [derivation] = s.scalars(select(Derivation)).all()
    assert derivation.motivo == "sercotec" and derivation.region == "CL-BI"
    assert "SERCOTEC" in derivation.institucion.upper()


def test_second_model_deploys_from_the_cli(engine, tmp_path):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    runner = CliRunner()
    result = runner.invoke(cpe, ["deploy", str(MODEL), "--message", "v1", "--json"], obj=CliContext.for_app(app))
    assert result.exit_code == 0, result.output
    assert all(r["created"] for r in json.loads(result.output))
    again = runner.invoke(cpe, ["deploy", str(MODEL), "--json"], obj=CliContext.for_app(app))
    assert not any(r["created"] for r in json.loads(again.output))  # identical content: no-op
