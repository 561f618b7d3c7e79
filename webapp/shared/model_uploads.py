"""What the Models page and the model editors share about an uploaded model: the size cap of a diagram
and how deploy problems are sent to the editors (with the element id to select)."""

from __future__ import annotations

import re

MAX_XML = 2 * 1024 * 1024
ELEMENT_ID = re.compile(r"^\w+ ([A-Za-z_][\w.-]*)")


def problems_payload(problems) -> list[dict]:
    """Deploy problems as the editors read them: text, line, element, message, the element's id and the
    severity ("error" refuses the deploy, "warning" does not)."""
    result = []
    for p in problems:
        match = ELEMENT_ID.match(p.element or "")
        result.append({"text": str(p), "line": p.line, "element": p.element, "message": p.message,
                       "severity": p.severity, "element_id": match.group(1) if match else None})
    return result
