"""Random mutations of working models (seeded: the same every run): validate never crashes, deploy refuses
exactly when validate finds an error and with the same problems, and every problem names a line and an
element and says it in Spanish, with no English or internal text (issue 17, item 4). The models: our own
small one, the Camunda-style model sets written for the tests (tests/interop/hand_written/, and
tests/interop/camunda_modeler/ when it is there), and, when the corpus folder is present
(tests/interop/test_corpus.py), the public models of other tools."""

from __future__ import annotations

import random
import re

import pytest
from lxml import etree

from engine.basics.errors import DeployError, errors_of
from engine.models.validation import collect_files
from tests.interop import test_corpus as corpus
from tests.test_validation import MODEL

REFERENCES = ("sourceRef", "targetRef", "attachedToRef", "default", "calledElement")
ENGLISH = re.compile(r"\b(the|is|was|not found|object|has no|attribute|must|Error|Exception|Traceback|None|"
                     r"expected|missing|required|invalid|element|allowed)\b")
# what a message quotes of the file (names, ids, values, code) may be in any language
QUOTED = re.compile(r"«[^»]*»|'[^']*'|\"[^\"]*\"")
HAND_WRITTEN = corpus.ROOT / "tests" / "interop" / "hand_written"
HAND_LANES = {"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# every reference of BPMN and DMN a mutation may point elsewhere
FOREIGN_REFERENCES = (*REFERENCES, "processRef", "messageRef", "signalRef", "errorRef", "escalationRef",
                      "dataObjectRef", "calledDecisionId", "bpmnElement", "href", "camunda:decisionRef")
# what a mutation may write into an element's text (an expression, a script, a cell, a reference)
TEXTS = ("", "x ==", "${monto > 5}", "[5..8]", "import os", "__import__('os')", "1/0", "ninguno", "a b",
         "PT30S", "timedelta(", "«»", "x" * 300)


def _mutations(count, seed=17):
    files = dict(collect_files([MODEL]))
    original = files["diagnostico_rapido.bpmn"]
    rng = random.Random(seed)
    for index in range(count):
        root = etree.fromstring(original)
        process = root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
        nodes = [n for n in process.iter() if isinstance(n.tag, str) and n is not process]
        ids = [n.get("id") for n in nodes if n.get("id")]
        node = rng.choice(nodes)
        kind = index % 3
        if kind == 0:
            node.getparent().remove(node)
        elif kind == 1 and node.attrib:
            del node.attrib[rng.choice(sorted(node.attrib))]
        else:
            referring = [n for n in nodes if any(n.get(a) for a in REFERENCES)] or nodes
            target = rng.choice(referring)
            for attribute in REFERENCES:
                if target.get(attribute):
                    target.set(attribute, rng.choice(ids))
        changed = dict(files)
        changed["diagnostico_rapido.bpmn"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        yield list(changed.items())


def mutate(content: bytes, rng: random.Random, kind: int) -> bytes:
    """`content` with one seeded change of the model (not of its drawing): an element removed (0), an
    attribute removed (1), a reference pointed at another id (2), or an element's text replaced (3)."""
    root = etree.fromstring(content)
    drawing = {n for n in root.iter() if isinstance(n.tag, str) and ("DI" in (etree.QName(n).namespace or ""))}
    nodes = [n for n in root.iter() if isinstance(n.tag, str) and n is not root and n not in drawing
             and not any(a in drawing for a in n.iterancestors())]
    if not nodes:
        return content
    ids = sorted({n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")}) or ["x"]
    node = rng.choice(nodes)
    if kind == 0:
        node.getparent().remove(node)
    elif kind == 1 and node.attrib:
        del node.attrib[rng.choice(sorted(node.attrib))]
    elif kind == 2:
        referring = [(n, a) for n in nodes for a in n.attrib
                     if etree.QName(a).localname in {r.split(":")[-1] for r in FOREIGN_REFERENCES}]
        referring += [(n, None) for n in nodes if etree.QName(n).localname in ("incoming", "outgoing", "flowNodeRef")]
        if referring:
            target, attribute = rng.choice(referring)
            if attribute is None:
                target.text = rng.choice(ids)
            else:
                target.set(attribute, rng.choice(ids))
    else:
        with_text = [n for n in nodes if (n.text or "").strip() and len(n) == 0] or nodes
        rng.choice(with_text).text = rng.choice(TEXTS)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def foreign_mutations(files: list[tuple[str, bytes]], seed: str, count: int):
    """`count` seeded mutations of a set of model files, each of one of its BPMN or DMN files in turn."""
    rng = random.Random(seed)
    models = sorted(name for name, _ in files if name.endswith((".bpmn", ".dmn")))
    for index in range(count):
        name = models[index % len(models)]
        changed = dict(files)
        changed[name] = mutate(changed[name], rng, index % 4)
        yield f"{seed} #{index} ({name})", list(changed.items())


def told_badly(problem) -> str | None:
    """Why a problem is not one an analyst can act on, or None: it must name a line and an element and be
    Spanish, without English or internal text outside what it quotes of the file."""
    if not problem.element or not problem.message:
        return "sin elemento"
    if not problem.line and not problem.file.endswith(".json"):  # a form's problem names its file and field
        return "sin línea"
    if "{http" in problem.message or "Traceback" in problem.message:
        return "texto interno"
    found = ENGLISH.search(QUOTED.sub("", problem.message))
    return f"inglés: {found.group(0)!r}" if found else None


def check(engine, files, lanes=None) -> list[str]:
    """What is wrong with validate and deploy on `files` (nothing: [])."""
    wrong = []
    problems = engine.validate(files, lanes=lanes)
    wrong += [f"{p} — {why}" for p in problems if (why := told_badly(p))]
    if errors_of(problems):
        try:
            engine.deploy(files, lanes=lanes)
        except DeployError as exc:
            refused = [str(p) for p in exc.problems]
            if refused != [str(p) for p in problems]:
                wrong.append(f"deploy y validate difieren: {refused} / {[str(p) for p in problems]}")
        else:
            wrong.append("deploy aceptó lo que validate rechaza")
    else:
        engine.deploy(files, lanes=lanes)
    return wrong


@pytest.mark.parametrize("files", list(_mutations(45)))
def test_validate_and_deploy_agree_on_every_mutation(engine, files):
    assert check(engine, files) == []


def test_the_hand_written_camunda_model_deploys_and_runs(engine):
    files = collect_files([HAND_WRITTEN])
    assert errors_of(engine.validate(files, lanes=HAND_LANES)) == []
    engine.deploy(files, lanes=HAND_LANES)
    for role in ("analista", "ejecutivo_cpe", "jefe_regional"):
        engine.create_user(role, corpus.PASSWORD, role, region=corpus.REGION)
    case_id = engine.start("solicitud_camunda", {"region": corpus.REGION})
    answers = {"Task_registrar": ("ejecutivo_cpe", {"empresa": "Uno", "monto": 6000, "sector": "agro"}),
               "Task_aprobar": ("jefe_regional", {"aprobada": True}),
               "Task_notificar": ("analista", {"comentario": "enviada"})}
    done = []
    while tasks := engine.ready_tasks(case_id=case_id):
        user, data = answers[tasks[0]["bpmn_id"]]
        engine.complete(tasks[0]["id"], data, user=user)
        done.append(tasks[0]["bpmn_id"])
    assert done == ["Task_registrar", "Task_aprobar", "Task_notificar"]
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["data"]["riesgo"] == "alto", case["error"]


def _committed_models():
    """The Camunda-style model sets written for these tests and committed here, with their lane mappings."""
    yield pytest.param(HAND_WRITTEN, HAND_LANES, id="hand_written")
    drawn = corpus.ROOT / "tests" / "interop" / "camunda_modeler"
    if drawn.is_dir():
        from tests.interop.test_camunda_modeler import LANES

        yield pytest.param(drawn, LANES, id="camunda_modeler")


@pytest.mark.parametrize("folder, lanes", list(_committed_models()))
def test_mutations_of_the_committed_camunda_style_models(engine, folder, lanes):
    files = collect_files([folder])
    wrong = [f"{label}: {w}" for label, changed in foreign_mutations(files, folder.name, 40)
             for w in check(engine, changed, lanes)]
    assert wrong == []


@corpus.needs_corpus
@pytest.mark.parametrize("origin", sorted({m.origin for m in corpus.MODELS}))
def test_mutations_of_the_corpus(engine, origin):
    wrong = []
    for model in (m for m in corpus.MODELS if m.origin == origin):
        files = collect_files(corpus.paths(model))
        for label, changed in foreign_mutations(files, model.name, 2):
            wrong += [f"{label}: {w}" for w in check(engine, changed, model.lanes or None)]
    assert wrong == []
