"""A failing service task puts the case in a visible error state; nothing is lost and the
step can be retried."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.basics.errors import Conflict
from engine.models.validation import collect_files
from engine.programme import operators
from engine.store.schema import Derivation

MODEL = Path(__file__).parent / "models" / "diagnostico"
MICRO = {"rut": "76086428-5", "razon_social": "Pequeñita", "region": "CL-VS", "ventas_uf": 900}


def test_operator_failure_sets_error_state_and_retry_resumes(engine, monkeypatch):
    engine.deploy(collect_files([MODEL]))
    original = operators.OPERATORS["derivar"]
    calls = []

    def flaky(ctx, motivo, region, institucion=None):
        calls.append(motivo)
        if len(calls) == 1:
            raise ValueError("directorio de derivación no disponible")
        return original.run(ctx, motivo, region, institucion)

    monkeypatch.setitem(operators.OPERATORS, "derivar", dataclasses.replace(original, run=flaky))
    case_id = engine.start("diagnostico_rapido", MICRO)
    case = engine.case(case_id)
    assert case["status"] == "error"
    assert case["error"]["bpmn_id"] == "Service_Derivar"
    assert "directorio de derivación no disponible" in case["error"]["message"]
    assert case["history"][-1]["kind"] == "error"
    assert case["data"]["razon_social"] == "Pequeñita"  # nothing lost
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Derivation)) == 0

    result = engine.retry(case_id, actor="analista")
    assert result["status"] == "completed"
    case = engine.case(case_id)
    assert case["error"] is None and case["data"]["derivacion"]["fecha"]
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Derivation)) == 1
    with pytest.raises(Conflict, match="no está en error"):
        engine.retry(case_id)


def test_expression_error_names_the_element(engine):
    files = dict(collect_files([MODEL]))
    files["diagnostico_rapido.bpmn"] = files["diagnostico_rapido.bpmn"].replace(
        b'value="region" />', b'value="region_inexistente" />')
    engine.deploy(list(files.items()))
    case_id = engine.start("diagnostico_rapido", MICRO)
    case = engine.case(case_id)
    assert case["status"] == "error" and case["error"]["bpmn_id"] == "Service_Derivar"
    assert "region_inexistente" in case["error"]["message"]
