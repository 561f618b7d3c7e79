"""Front-end libraries installed from npm (package-lock.json), served from node_modules.

Only the files listed here are reachable, so node_modules is never browsable.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
FILES = {
    "bpmn-viewer.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    "bpmn-modeler.js": "bpmn-js/dist/bpmn-modeler.production.min.js",
    "bpmn-font.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css",
    "dmn-modeler.js": "dmn-js/dist/dmn-modeler.production.min.js",
    "dmn-diagram-js.css": "dmn-js/dist/assets/diagram-js.css",
    "dmn-js-shared.css": "dmn-js/dist/assets/dmn-js-shared.css",
    "dmn-js-drd.css": "dmn-js/dist/assets/dmn-js-drd.css",
    "dmn-js-decision-table.css": "dmn-js/dist/assets/dmn-js-decision-table.css",
    "dmn-js-decision-table-controls.css": "dmn-js/dist/assets/dmn-js-decision-table-controls.css",
    "dmn-js-literal-expression.css": "dmn-js/dist/assets/dmn-js-literal-expression.css",
    "dmn-font.css": "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css",
    "chart.js": "chart.js/dist/chart.umd.min.js",
}

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<name>")
def asset(name):
    path = FILES.get(name)
    if path is None or not (NODE_MODULES / path).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, path, max_age=86400)
