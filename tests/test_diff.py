"""Comparing two versions of a model: elements added, removed and changed; layout ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.models.diff import compare_xml
from engine.models.validation import collect_files

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(__file__).parent / "models" / "diagnostico"
BPMN = (ROOT / "processes" / "cpe_actual.bpmn").read_text()


def _ids(result, key):
    return sorted(item["id"] for item in result[key])


@pytest.mark.parametrize("label, edit, added, removed, changed", [
    ("identical", lambda t: t, [], [], []),
    ("rename a task", lambda t: t.replace('name="Asesoría"', 'name="Asesoría técnica"'), [], [], ["Task_Asesoria"]),
    ("move a shape (layout only)", lambda t: t.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1), [], [], []),
    ("change a condition", lambda t: t.replace('>verificacion_capacitacion["capacitada"]</bpmn:conditionExpression>',
                                               '>verificacion_capacitacion["capacitada"] and True'
                                               '</bpmn:conditionExpression>', 1), [], [], None),
])
def test_compare_bpmn(label, edit, added, removed, changed):
    result = compare_xml(BPMN, edit(BPMN))
    assert _ids(result, "added") == added and _ids(result, "removed") == removed
    if changed is None:  # the flow that carries the condition
        [flow] = result["changed"]
        assert flow["type"] == "sequenceFlow"
    else:
        assert _ids(result, "changed") == changed


def test_added_and_removed_elements():
    new = BPMN.replace('id="Task_Asesoria"', 'id="Task_AsesoriaNueva"')
    result = compare_xml(BPMN, new)
    assert _ids(result, "added") == ["Task_AsesoriaNueva"] and _ids(result, "removed") == ["Task_Asesoria"]
    assert result["added"][0] == {"id": "Task_AsesoriaNueva", "type": "userTask", "name": "Asesoría"}


def test_engine_compare_versions(engine, tmp_path):
    engine.deploy(collect_files([MODEL]))
    folder = tmp_path / "v2"
    folder.mkdir()
    for path in MODEL.iterdir():
        text = path.read_text()
        if path.name == "diagnostico_rapido.bpmn":
            text = text.replace('name="Llamar a la empresa"', 'name="Llamar"')
        if path.name == "dr_llamada.json":
            text = text.replace('"Nota"', '"Nota de la llamada"')
        (folder / path.name).write_text(text)
    engine.deploy(collect_files([folder]))
    process = engine.compare("process", "diagnostico_rapido", 1, 2)
    assert _ids(process, "changed") == ["Task_Llamada"] and process["to_version"] == 2
    form = engine.compare("form", "dr_llamada", 1, 2)
    assert any(line.startswith("+") and "Nota de la llamada" in line for line in form["diff"])
