"""engine/simulate/compare_designs.py: what differs between two simulated designs."""

from __future__ import annotations

import pytest

from engine.simulate.compare_designs import differences, step_names


def _result(**groups):
    return {"resultados": {}, "indicadores": {}, "duracion_dias": {}, "carga_ejecutivos": {}, **groups}


@pytest.mark.parametrize("group,key,a,b,change,verdict", [
    ("resultados", "derivada", 20, 13, -0.35, "mejor"),
    ("resultados", "derivada", 10, 12, 0.2, "peor"),
    ("resultados", "exportadora", 4, 6, 0.5, "mejor"),
    ("resultados", "desercion", 5, 5, 0.0, "igual"),
    ("resultados", "exportadora", 0, 3, None, "mejor"),  # no relative change from zero
    ("indicadores", "eficacia", 0.1, 0.15, 0.05, "mejor"),  # ratios: points, not percent
    ("indicadores", "desercion", 0.2, 0.25, 0.05, "peor"),
    ("duracion_dias", "permanencia_media", 100.0, 150.0, 0.5, None),  # longer is neither good nor bad
    ("carga_ejecutivos", "tareas_asignadas", 200, 300, 0.5, None),
    ("talleres", "asistencias", 40, 30, -0.25, "peor"),
    ("talleres", "asistencia", 0.8, 0.9, 0.1, "mejor"),
])
def test_differences(group, key, a, b, change, verdict):
    rows = differences(_result(**{group: {key: a}}), _result(**{group: {key: b}}))
    row = next(r for r in rows if (r["grupo"], r["clave"]) == (group, key))
    assert (row["a"], row["b"], row["cambio"], row["valoracion"]) == (a, b, change, verdict)


def test_missing_values_are_skipped_or_not_compared():
    rows = differences(_result(resultados={"derivada": 3}), _result(resultados={}))
    assert [r for r in rows if r["clave"] == "derivada"][0]["cambio"] is None
    assert not any(r["clave"] == "mediana" for r in rows)


def test_workshops_are_compared_only_when_a_design_simulated_them():
    none = {"simulados": False, "inscripciones": None, "asistencias": None, "asistencia": None}
    some = {"simulados": True, "inscripciones": 12, "asistencias": 10, "asistencia": 0.8333}
    assert not any(r["grupo"] == "talleres" for r in differences(_result(talleres=none), _result(talleres=none)))
    rows = [r for r in differences(_result(talleres=none), _result(talleres=some)) if r["grupo"] == "talleres"]
    assert [(r["clave"], r["a"], r["b"], r["cambio"]) for r in rows] == [
        ("inscripciones", None, 12, None), ("asistencias", None, 10, None), ("asistencia", None, 0.8333, None)]


def test_step_names():
    xml = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
           '<userTask id="T1" name="Aplicar&#10;TPE"/><startEvent id="S"/></process></definitions>')
    assert step_names(xml) == {"T1": "Aplicar TPE"}
    assert step_names("<no") == {}
