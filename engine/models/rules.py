"""The programme's rules as the models state them, each with its source (issue 16 item 12).

A rule is a value an analyst may change without code: a cut-off in a decision table, a timer's
duration, a gateway condition, a score formula in a script. The models mark them, so the models
page can list them with where they come from ("tesis §…", "manual §…" or "supuesto del equipo"):

- in a BPMN file, any element with the SpiffWorkflow extension properties `regla` (what the rule
  is, in words) and `fuente` (its source); the rule's value is read from the element itself: a
  timer's expression, a sequence flow's condition, a script's text, a service task's operator and
  parameters;
- in a DMN file, every rule row whose description (the "Annotations" column of dmn-js and Camunda
  Modeler) holds `Fuente: …`: its value is the row's conditions and output, its source the text after
  `Fuente:`. (DMN 1.3's separate annotation clauses are comments the engine drops, see
  engine/models/spiff.py `without_annotations`; they are not read here.)

Pure functions over the stored XML; the XML is parsed with the hardened parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.basics.xmlsafe import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
TIMER_PARTS = ("timeDuration", "timeDate", "timeCycle")
SOURCE_MARK = re.compile(r"\bfuente\s*:", re.IGNORECASE)
MAX_VALUE = 400  # characters of a rule's value shown; a long script is cut with an ellipsis


@dataclass(frozen=True)
class Rule:
    element_id: str
    element_name: str
    regla: str
    valor: str
    fuente: str

    @property
    def origen(self) -> str:
        """`tesis` when the source is the thesis or its annexed manual, `supuesto` when the team
        chose it, `mixta` when it cites the thesis but says part of it (a threshold, a term) is the team's
        assumption, `otra` for anything else (a source the analyst wrote differently)."""
        text = self.fuente.strip().lower()
        if text.startswith(("tesis", "manual")):
            return "mixta" if "supuesto" in text else "tesis"
        if text.startswith("supuesto"):
            return "supuesto"
        return "otra"


def rules_of(kind: str, content: bytes | str) -> list[Rule]:
    """The marked rules of a stored process or decision (an empty list for forms)."""
    if kind == "process":
        return process_rules(content)
    if kind == "decision":
        return decision_rules(content)
    return []


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _short(text: str) -> str:
    text = " ".join(line.strip() for line in (text or "").strip().splitlines() if line.strip())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _properties(element) -> dict[str, str]:
    found = {}
    for prop in element.iterfind(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"):
        name, value = prop.get("name"), prop.get("value")
        if name in ("regla", "fuente") and value is not None:
            found[name] = value
    return found


def _bpmn_value(element) -> str:
    name = _local(element.tag)
    if name == "sequenceFlow":
        condition = element.find(f"{{{BPMN}}}conditionExpression")
        return _short(condition.text if condition is not None else "")
    if name == "scriptTask":
        script = element.find(f"{{{BPMN}}}script")
        return _short(script.text if script is not None else "")
    operator = element.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}serviceTaskOperator")
    if operator is not None:  # a service task: its operator with the parameters the diagram gives it
        params = ", ".join(f"{p.get('id')} = {p.get('value')}"
                           for p in operator.iterfind(f"{{{SPIFF}}}parameters/{{{SPIFF}}}parameter"))
        return _short(f"{operator.get('id')}({params})")
    for part in TIMER_PARTS:
        found = element.find(f".//{{{BPMN}}}timerEventDefinition/{{{BPMN}}}{part}")
        if found is not None:
            return _short(found.text or "")
    return ""


def process_rules(content: bytes | str) -> list[Rule]:
    root = parse_xml(content).getroot()
    rules = []
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN}}}"):
            continue
        props = _properties(element)
        if "regla" not in props:
            continue
        rules.append(Rule(element.get("id") or "", element.get("name") or "", props["regla"],
                          _bpmn_value(element), props.get("fuente", "")))
    return rules


def _texts(elements) -> list[str]:
    return [" ".join((e.findtext("{*}text") or "").split()) for e in elements]


def decision_rules(content: bytes | str) -> list[Rule]:
    root = parse_xml(content).getroot()
    rules = []
    for decision in root.iterfind("{*}decision"):
        table = decision.find("{*}decisionTable")
        if table is None:
            continue
        inputs = [_input_name(i) for i in table.iterfind("{*}input")]
        outputs = [o.get("name") or o.get("label") or "" for o in table.iterfind("{*}output")]
        for row in table.iterfind("{*}rule"):
            described = " ".join((row.findtext("{*}description") or "").split())
            parts = SOURCE_MARK.split(described, maxsplit=1)
            if len(parts) < 2:
                continue
            conditions = [f"{name.strip()} {_condition(entry)}" for name, entry
                          in zip(inputs, _texts(row.iterfind("{*}inputEntry")), strict=False)
                          if entry not in ("", "-")]
            results = [f"{name} = {value}" for name, value
                       in zip(outputs, _texts(row.iterfind("{*}outputEntry")), strict=False)]
            when = f"si {' y '.join(conditions)}" if conditions else "en otro caso"
            rules.append(Rule(row.get("id") or "", decision.get("name") or decision.get("id") or "",
                              parts[0].strip() or ", ".join(results), _short(f"{when}: {', '.join(results)}"),
                              parts[1].strip()))
    return rules


def _input_name(element) -> str:
    """How an input reads in a rule: its expression when that is a plain variable name, else its label."""
    expression = (element.findtext("{*}inputExpression/{*}text") or "").strip()
    if expression.isidentifier() or not element.get("label"):
        return expression
    return element.get("label")


def _condition(entry: str) -> str:
    """An input entry as it reads after the input's name: `< 35` stays, `True` becomes `= True`."""
    return entry if entry[:1] in "<>=!" or entry.startswith(("in ", "not ")) else f"= {entry}"
