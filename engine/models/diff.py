"""What changed between two versions of a model: for BPMN/DMN, the elements (by id) that were
added, removed or changed, ignoring layout (diagram interchange) so that moving a shape is
not a change; for forms, a line diff of the JSON Schema."""

from __future__ import annotations

import copy
import difflib
import json

from lxml import etree

from engine.basics.xmlsafe import parse_xml

LAYOUT_NAMESPACES = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "http://www.omg.org/spec/DMN/20180521/DMNDI/",
)


def _is_layout(node) -> bool:
    return isinstance(node.tag, str) and etree.QName(node).namespace in LAYOUT_NAMESPACES


def _elements(xml: str) -> dict[str, dict]:
    """Every identified element outside the layout, with a signature of its own content
    (attributes, text and unidentified children; identified children count on their own)."""
    root = parse_xml(xml).getroot()
    found = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or node is root or node.get("id") is None:
            continue
        if _is_layout(node) or any(_is_layout(a) for a in node.iterancestors()):
            continue
        own = copy.deepcopy(node)
        for child in list(own):
            if isinstance(child.tag, str) and (child.get("id") is not None or _is_layout(child)):
                own.remove(child)
        own.tail = None
        found[node.get("id")] = {"id": node.get("id"), "type": etree.QName(node).localname,
                                 "name": node.get("name") or "",
                                 "signature": etree.tostring(own, method="c14n")}
    return found


def compare_xml(old: str, new: str) -> dict:
    before, after = _elements(old), _elements(new)

    def public(item):
        return {k: v for k, v in item.items() if k != "signature"}

    return {
        "added": [public(after[i]) for i in after if i not in before],
        "removed": [public(before[i]) for i in before if i not in after],
        "changed": [public(after[i]) for i in after if i in before and after[i]["signature"] != before[i]["signature"]],
    }


def compare_text(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    """A unified diff, of the JSON pretty-printed when both sides are JSON."""
    def lines(text):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True)
        except ValueError:
            pass
        return text.splitlines()
    return list(difflib.unified_diff(lines(old), lines(new), old_label, new_label, lineterm=""))
