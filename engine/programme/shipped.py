"""Where the programme's shipped models are read from (`cpe demo`, `cpe deploy` without paths,
`cpe bench`, the web app's PROCESSES_DIR and FORMS_DIR): the repository's processes/ and forms/ in a
source checkout (the analysts' source of truth), else the copy the installed package carries in
engine/programme/shipped_models/ (made by tooling/build_assets.py when the package is built)."""

from __future__ import annotations

from pathlib import Path

from engine.basics.installation import SOURCE_TREE, source_checkout

PACKAGED = Path(__file__).resolve().parent / "shipped_models"


def _folder(name: str) -> Path:
    """The checkout's folder only in a checkout (its pyproject.toml beside it): installed, the package's
    parent is site-packages, where a stray processes/ or forms/ must not be taken for the models."""
    source = SOURCE_TREE / name
    return source if source.is_dir() and source_checkout() else PACKAGED / name


def processes_dir() -> Path:
    return _folder("processes")


def forms_dir() -> Path:
    return _folder("forms")
