"""Random mutations of a working model (seeded: the same every run): validate never crashes, deploy
refuses exactly when validate finds an error and with the same problems, and no problem outside the
XSD check carries English or internal text (issue 17, item 4)."""

from __future__ import annotations

import random
import re

import pytest
from lxml import etree

from engine.basics.errors import DeployError, errors_of
from engine.models.validation import collect_files
from tests.test_validation import MODEL

REFERENCES = ("sourceRef", "targetRef", "attachedToRef", "default", "calledElement")
ENGLISH = re.compile(r"\b(the|is|was|not found|object|has no|attribute|must|Error|Exception)\b")


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


@pytest.mark.parametrize("files", list(_mutations(45)))
def test_validate_and_deploy_agree_on_every_mutation(engine, files):
    problems = engine.validate(files)
    for problem in problems:
        if problem.element != "xsd":
            assert not ENGLISH.search(problem.message), str(problem)
    if errors_of(problems):
        with pytest.raises(DeployError) as info:
            engine.deploy(files)
        assert [str(p) for p in info.value.problems] == [str(p) for p in problems]
    else:
        engine.deploy(files)
