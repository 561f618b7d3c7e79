"""Minimal hand-written BPMN and DMN files for tests of what validate and deploy accept: each test
builds the few elements it is about, in the shapes other modelers (bpmn-js, SpiffArena, Camunda
Modeler) save them."""

from __future__ import annotations

import json

NSDECL = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')
FORM = ("f.json", json.dumps({"title": "F", "type": "object", "properties": {"ok": {"type": "boolean"}}}).encode())


def user(ident, name=None):
    label = f' name="{name}"' if name else ""
    return (f'<bpmn:userTask id="{ident}"{label}><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="f.json"/></spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:userTask>\n')


def flow(ident, source, target, condition=None):
    cond = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{ident}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>\n'


def script(ident, text):
    return f'<bpmn:scriptTask id="{ident}"><bpmn:script>{text}</bpmn:script></bpmn:scriptTask>\n'


def rule_task(ident, decision_id):
    return (f'<bpmn:businessRuleTask id="{ident}"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            f'{decision_id}</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>\n')


def lanes(**members):
    """A lane set: lane id (a role) -> the ids of the flow nodes it lists."""
    body = "".join(f'<bpmn:lane id="{lane}">' + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
                   + "</bpmn:lane>" for lane, nodes in members.items())
    return f'<bpmn:laneSet id="LaneSet_1">{body}</bpmn:laneSet>\n'


def bpmn(process_id, body, lane_set=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NSDECL} id="D_{process_id}" '
            f'targetNamespace="http://bpmn.io/schema/bpmn">\n<bpmn:process id="{process_id}" isExecutable="true">\n'
            f"{lane_set}{body}</bpmn:process>\n</bpmn:definitions>\n").encode()


def decision(ident, output, value):
    return (f'<decision id="{ident}" name="{ident}"><decisionTable id="T_{ident}">'
            f'<input id="I_{ident}" label="x"><inputExpression id="IE_{ident}" typeRef="number"><text>x</text>'
            f'</inputExpression></input><output id="O_{ident}" label="{output}" name="{output}" typeRef="string"/>'
            f'<rule id="R_{ident}"><inputEntry id="RI_{ident}"><text>-</text></inputEntry>'
            f'<outputEntry id="RO_{ident}"><text>"{value}"</text></outputEntry></rule></decisionTable></decision>\n')


def dmn(ident, *decisions):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
            f'id="{ident}" name="{ident}" namespace="http://cpe.prochile.cl/dmn">\n' + "".join(decisions)
            + "</definitions>\n").encode()
