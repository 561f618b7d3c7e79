"""The shipped diagrams carry complete diagram interchange and read cleanly in the
libraries bpmn-js, dmn-js and Camunda Modeler are built on (bpmn-moddle, dmn-moddle)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn")) + sorted((ROOT / "tests" / "models").glob("*/*.bpmn"))
DECISIONS = sorted((ROOT / "processes").glob("*.dmn")) + sorted((ROOT / "tests" / "models").glob("*/*.dmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC"}
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "task", "callActivity",
              "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway")


def _shipped():
    return [p for p in DIAGRAMS if p.parent == ROOT / "processes"]


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.name)
def test_every_element_has_diagram_interchange(path):
    root = etree.parse(str(path)).getroot()
    elements = {e.get("id") for tag in FLOW_NODES for e in root.iter(f"{{{NS['bpmn']}}}{tag}")}
    elements |= {e.get("id") for e in root.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
    elements |= {e.get("id") for e in root.iter(f"{{{NS['bpmn']}}}lane")}
    elements |= {e.get("id") for e in root.iter(f"{{{NS['bpmn']}}}participant")}
    drawn = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    drawn |= {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert elements - drawn == set()
    assert drawn - elements == set()


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.name)
def test_shapes_do_not_overlap(path):
    root = etree.parse(str(path)).getroot()
    kinds = {e.get("id"): etree.QName(e).localname for tag in FLOW_NODES
             for e in root.iter(f"{{{NS['bpmn']}}}{tag}")}
    boxes = []
    for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape"):
        if kinds.get(shape.get("bpmnElement")) in (None, "boundaryEvent"):
            continue
        b = shape.find("dc:Bounds", NS)
        boxes.append((shape.get("bpmnElement"), *(float(b.get(k)) for k in ("x", "y", "width", "height"))))
    for i, (a, ax, ay, aw, ah) in enumerate(boxes):
        for b, bx, by, bw, bh in boxes[i + 1:]:
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"


def _moddle_report(paths):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "bpmn-moddle").exists():
        if os.environ.get("CI"):
            pytest.fail("node and the npm packages (npm ci) are required in CI")
        pytest.skip("node or node_modules missing: run `make install`")
    out = subprocess.run([node, str(ROOT / "tests" / "js" / "check_moddle.mjs"), *map(str, paths)],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_diagrams_and_decisions_read_cleanly_in_the_modelers():
    report = _moddle_report(DIAGRAMS + DECISIONS)
    assert report == {str(p): [] for p in DIAGRAMS + DECISIONS}


def test_the_moddle_check_reports_broken_references(tmp_path):
    broken = tmp_path / "roto.bpmn"
    broken.write_text((ROOT / "processes" / "cpe_actual.bpmn").read_text(encoding="utf-8")
                      .replace('targetRef="Service_VerificarTamano"', 'targetRef="No_Existe"'), encoding="utf-8")
    [warnings] = _moddle_report([broken]).values()
    assert any("No_Existe" in w for w in warnings)
