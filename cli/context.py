"""What every `cpe` command works with: the Engine built from the environment (as the web app builds
it), the settings the commands read, and the web app only for the commands that need one (`serve`,
and `export registro` for its Spanish column names). Nothing is built until a command asks for it,
so `cpe --help` touches no database."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping

import click

from engine.assembly import build_engine
from engine.basics.installation import instance_dir
from engine.cases.engine import Engine
from engine.programme import shipped


def environment_settings() -> dict:
    """The settings the commands read, with `webapp.create_app`'s defaults."""
    return {"DATABASE_URL": os.environ.get("CPE_DATABASE_URL"),
            "PROCESSES_DIR": str(shipped.processes_dir()),
            "FORMS_DIR": str(shipped.forms_dir())}


class CliContext:
    """The click context object (`ctx.obj`) of `cpe`: `.engine`, `.config` and `.app`, each built once."""

    def __init__(self, config: Mapping, make_engine: Callable[[], Engine], app=None):
        self.config = config
        self._make_engine = make_engine
        self._engine: Engine | None = None
        self._app = app

    @classmethod
    def from_environment(cls) -> CliContext:
        """The command as installed: CPE_DATABASE_URL (or cpe.sqlite3 in the instance folder, CPE_INSTANCE_DIR:
        engine/basics/installation.py) and the shipped models (the repository's processes/ and forms/, or the
        installed package's copy: engine/programme/shipped.py)."""
        config = environment_settings()
        folder = str(instance_dir())
        return cls(config, lambda: build_engine(config["DATABASE_URL"], instance_dir=folder))

    @classmethod
    def for_app(cls, app) -> CliContext:
        """The commands over an app already built (tests): its engine, its configuration, itself."""
        return cls(app.config, lambda: app.extensions["cpe_engine"], app=app)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    @property
    def app(self):
        """The web app over this context's engine, built on first use."""
        if self._app is None:
            from webapp import create_app

            self._app = create_app({"ENGINE": self.engine})
        return self._app


def current_context() -> CliContext:
    return click.get_current_context().find_object(CliContext)


def current_engine() -> Engine:
    return current_context().engine


def cli_actor() -> str:
    """Who runs a `cpe` command, as the audit names them: `cli:<system user>`."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "desconocido"
    return f"cli:{name}"[:80]
