"""What one upload may hold and how the work of validate and deploy grows with it: each file is read
once however many processes it holds, a DMN file's decisions are split without copying the whole
document once per decision, an upload over the caps is refused at validate in Spanish, a long chain
of calls gives a result (never a RecursionError), and redeploying one file of processes that call
each other across files is not refused because a deployed version pins the file's older version."""

from __future__ import annotations

import time

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.models import parser_errors, spiff, validation, versions
from engine.models.validation import MAX_DECISIONS, MAX_PROCESSES
from tests.minimal_models import NSDECL, decision, dmn, flow


def process(ident, calls=None, body=None):
    """An executable process: start, a call to `calls` (or a script), end."""
    if calls:
        middle = f'<bpmn:callActivity id="C_{ident}" calledElement="{calls}"/>'
    else:
        middle = f'<bpmn:scriptTask id="C_{ident}"><bpmn:script>{body or "x = 1"}</bpmn:script></bpmn:scriptTask>'
    return (f'<bpmn:process id="{ident}" isExecutable="true"><bpmn:startEvent id="S_{ident}"/>{middle}'
            f'{flow("F1_" + ident, "S_" + ident, "C_" + ident)}{flow("F2_" + ident, "C_" + ident, "E_" + ident)}'
            f'<bpmn:endEvent id="E_{ident}"/></bpmn:process>\n')


def bpmn_file(name, *processes):
    return (name, (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NSDECL} id="D_{name[:-5]}" '
                   'targetNamespace="http://bpmn.io/schema/bpmn">\n' + "".join(processes)
                   + "</bpmn:definitions>\n").encode())


def many(name, count, first=0):
    return bpmn_file(name, *(process(f"p{i}") for i in range(first, first + count)))


# -- 1. the caps and reading each file once -------------------------------------------------

def test_the_caps_are_well_above_the_shipped_models():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("processes/*"), *root.glob("tests/models/*/*")]
    processes = sum(p.read_text().count("<bpmn:process ") for p in files if p.suffix == ".bpmn")
    decisions = max(p.read_text().count("<decision ") for p in files if p.suffix == ".dmn")
    assert processes * 10 <= MAX_PROCESSES and decisions * 10 <= MAX_DECISIONS


def test_an_upload_with_one_process_over_the_cap_is_refused_quickly(engine):
    files = [many("a.bpmn", MAX_PROCESSES // 2), many("b.bpmn", MAX_PROCESSES // 2 + 1, first=MAX_PROCESSES)]
    started = time.monotonic()
    problems = engine.validate(files)
    assert time.monotonic() - started < 5
    [text] = [str(p) for p in problems]
    assert text.startswith("b.bpmn:") and f"{MAX_PROCESSES + 1} procesos" in text
    assert f"máximo es {MAX_PROCESSES}" in text and "varias cargas" in text
    assert engine.models() == []


def test_a_dmn_file_with_one_decision_over_the_cap_is_refused(engine):
    content = dmn("muchas", *(decision(f"d{i}", "r", str(i)) for i in range(MAX_DECISIONS + 1)))
    [text] = [str(p) for p in engine.validate([("muchas.dmn", content)])]
    assert text.startswith("muchas.dmn:") and f"{MAX_DECISIONS + 1} decisiones" in text
    assert f"máximo es {MAX_DECISIONS}" in text and "varios archivos DMN" in text


def test_an_upload_at_the_cap_reads_each_file_once(engine, monkeypatch):
    added = []
    real = SpiffBpmnParser.add_bpmn_xml
    monkeypatch.setattr(SpiffBpmnParser, "add_bpmn_xml",
                        lambda self, bpmn, filename=None: (added.append(filename), real(self, bpmn, filename))[1])
    files = [many("a.bpmn", MAX_PROCESSES - 1), bpmn_file("b.bpmn", process("solo"))]
    started = time.monotonic()
    assert engine.validate(files) == []
    assert time.monotonic() - started < 60
    assert sorted(added) == ["a.bpmn", "b.bpmn"]  # one parser per group of files, not one per process


def test_a_dmn_file_is_split_without_copying_it_once_per_decision(monkeypatch):
    root = etree.fromstring(dmn("dos", *(decision(f"d{i}", "r", str(i)) for i in range(50))))
    copied = []
    real = spiff.deepcopy
    monkeypatch.setattr(spiff, "deepcopy", lambda node: (copied.append(sum(1 for _ in node.iter())), real(node))[1])
    parts = spiff.one_decision_each(root)
    assert [[d.get("id") for d in p] for p in parts] == [[f"d{i}"] for i in range(50)]
    assert all(p.tag == root.tag and dict(p.attrib) == dict(root.attrib) and p.nsmap == root.nsmap for p in parts)
    assert sum(copied) < sum(1 for _ in root.iter())  # each decision once: linear, not quadratic


# -- 2. long chains of calls ----------------------------------------------------------------

DEPTH = 1100


def _chain_artifacts(depth, circle=False):
    arts = [validation.Artifact("process", f"p{i}", f"p{i}", "a.bpmn" if i % 2 else "b.bpmn", "", "")
            for i in range(depth)]
    node = etree.fromstring('<callActivity id="C"/>')
    for caller, called in zip(arts, arts[1:], strict=False):
        caller.uses_processes.add((called.key, node))
    if circle:
        arts[-1].uses_processes.add((arts[0].key, node))
    return arts


def test_the_call_checks_walk_a_long_chain_without_recursion():
    arts = _chain_artifacts(DEPTH)
    assert validation._call_cycles(arts) == []
    assert [a.key for a in validation.call_order(arts)] == [f"p{i}" for i in reversed(range(DEPTH))]
    [circle] = validation._call_cycles(_chain_artifacts(DEPTH, circle=True))
    assert "llamada circular" in circle.message and circle.message.count("→") == DEPTH


def test_a_chain_of_1100_calls_in_two_files_builds_without_recursion():
    ids = [f"p{i}" for i in range(DEPTH)]
    bodies = [process(ident, ids[i + 1] if i + 1 < DEPTH else None) for i, ident in enumerate(ids)]
    files = [(name, content.decode()) for name, content in
             (bpmn_file("a.bpmn", *bodies[::2]), bpmn_file("b.bpmn", *bodies[1::2]))]
    spec, subs = spiff.parse_process("p0", files, [])
    assert spec.name == "p0" and len(subs) == DEPTH - 1


def test_validate_over_a_deployed_chain_of_1100_pinned_versions_gives_a_result(engine):
    from engine.store.schema import ModelVersion

    with engine.transaction() as s:
        for i in reversed(range(DEPTH)):
            name, content = bpmn_file(f"c{i}.bpmn", process(f"c{i}", f"c{i + 1}" if i + 1 < DEPTH else None))
            text = content.decode()
            deps = {"forms": {}, "decisions": {}} | ({"processes": {f"c{i + 1}": 1}} if i + 1 < DEPTH else {})
            s.add(ModelVersion(kind="process", key=f"c{i}", version=1, name=f"c{i}", filename=name,
                               checksum=validation.checksum(text), content=text, dependencies=deps,
                               author="t", message="", created_at=engine.now()))
    with engine.Session() as s:
        bpmn, _dmn, rows = versions._sources(s, versions.latest_row(s, "process", "c0"), {})
        assert len(bpmn) == len(rows) == DEPTH
    assert engine.validate([bpmn_file("top.bpmn", process("top", "c0"))]) == []


# -- 3. redeploying one file of processes that call each other across files ---------------

X = bpmn_file("x.bpmn", process("A", "B"), process("C", body="c = 1"))
Y = bpmn_file("y.bpmn", process("B", "C"))


def test_redeploying_one_file_whose_older_version_a_deployed_process_pins(engine):
    engine.deploy([X, Y])
    changed = bpmn_file("x.bpmn", process("A", "B").replace('id="S_A"/>', 'id="S_A" name="Inicio"/>'),
                        process("C", body="c = 2"))
    assert engine.validate([changed]) == []
    engine.deploy([changed])
    [a] = [m for m in engine.models() if m["key"] == "A" and m["version"] == 2]
    assert a["dependencies"]["processes"] == {"B": 1}
    case = engine.case(engine.start("A"))
    assert case["status"] == "completed" and case["data"]["c"] == 2  # the called C of the file just deployed


@pytest.mark.parametrize("text", ["Duplicate process ID: A.", "Duplicate process ID: A.b."])
def test_a_duplicate_process_is_named_without_the_sentence_period(text):
    assert parser_errors._translate(text) == f"el proceso '{text[22:-1]}' está definido en más de un archivo"


def test_a_process_calling_one_of_its_file_that_calls_another_file_deploys_and_runs(engine):
    engine.deploy([bpmn_file("y.bpmn", process("B", body="b = 1"))])
    x = bpmn_file("x.bpmn", process("A", "C"), process("C", "B"))
    assert engine.validate([x]) == []
    engine.deploy([x])
    [a] = [m for m in engine.models() if m["key"] == "A"]
    assert a["dependencies"]["processes"] == {"B": 1}  # what A runs through C is pinned with A
    case = engine.case(engine.start("A"))
    assert case["status"] == "completed" and case["data"]["b"] == 1


def test_a_problem_of_a_process_called_in_its_own_file_is_told_once(engine):
    x = bpmn_file("x.bpmn", process("A", "C"), process("C", "nada"))
    [text] = [str(p) for p in engine.validate([x])]
    assert "callActivity C_C" in text and "'nada'" in text
