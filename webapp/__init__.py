"""Flask application factory: builds the app from configuration and registers each part."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from engine.core import Engine

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("CPE_DATABASE_URL"),
        SECRET_KEY=os.environ.get("CPE_SECRET_KEY"),
        PROCESSES_DIR=str(ROOT / "processes"),
        FORMS_DIR=str(ROOT / "forms"),
    )
    if config:
        app.config.update(config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    engine = app.config.get("ENGINE") or Engine(url=app.config["DATABASE_URL"], instance_dir=app.instance_path)
    app.extensions["cpe_engine"] = engine

    from . import cli

    cli.init_app(app)
    return app


def _instance_secret(folder: Path) -> str:
    """A per-installation secret kept under instance/, so sessions survive restarts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
