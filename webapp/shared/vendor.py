"""Front-end libraries installed from npm (package-lock.json), served at /vendor/<name>.

vendor_files.json is the one list of what is served: public name → path under node_modules. The
build step (`python3 tooling/build_assets.py`, run by `make install` and before building a wheel)
copies exactly those files, with each npm package's licence, into webapp/static/vendor/ (generated,
git-ignored), which the package carries (pyproject package-data). They are served from there.

Only in a source checkout where that folder was never generated (versions.json absent) are they
served straight from the repository's node_modules, so `npm ci` alone is enough to develop. An
installed package has no node_modules beside it: there, the packaged copy is the only source.
Only the files listed are reachable, so neither folder is browsable.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, send_from_directory

HERE = Path(__file__).resolve().parent
FILES: dict[str, str] = json.loads((HERE / "vendor_files.json").read_text(encoding="utf-8"))
PACKAGED = HERE.parent / "static" / "vendor"
NODE_MODULES = HERE.parents[1] / "node_modules"

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


def assets_root() -> Path:
    """The packaged copy when it was generated (its versions.json written last), else node_modules."""
    return PACKAGED if (PACKAGED / "versions.json").is_file() else NODE_MODULES


@bp.get("/<name>")
def asset(name):
    path = FILES.get(name)
    root = assets_root()
    if path is None or not (root / path).is_file():
        abort(404)
    return send_from_directory(root, path, max_age=86400)
