"""The instance folder (engine/basics/installation.py): CPE_INSTANCE_DIR when set, else `instance/` at the
repository's root in a source checkout (`make run`) and `./instance` in the current folder for an installed
package; the web app and the `cpe` command always use the same one. (tests/test_wheel_install.py checks the
installed default with the real wheel.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli.context
from cli.context import CliContext
from cli.main import cpe
from engine.basics import installation
from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bare(monkeypatch, tmp_path):
    """No database URL, secret key nor instance folder in the environment; the current folder is a new one."""
    for name in ("CPE_DATABASE_URL", "CPE_SECRET_KEY", "CPE_INSTANCE_DIR"):
        monkeypatch.delenv(name, raising=False)
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.chdir(run)
    return run


def _cli_instance(monkeypatch) -> str:
    """The instance folder the `cpe` command gives its engine (captured, nothing is opened)."""
    seen = {}

    def capture(url, **kwargs):
        seen.update(url=url, **kwargs)
        return object()
    monkeypatch.setattr(cli.context, "build_engine", capture)
    CliContext.from_environment().engine  # noqa: B018 - builds it
    assert seen["url"] is None
    return seen["instance_dir"]


def test_a_source_checkout_keeps_instance_at_the_repository_root(bare, monkeypatch):
    assert installation.source_checkout()
    assert installation.instance_dir() == ROOT / "instance"
    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})
    assert Path(app.instance_path) == ROOT / "instance"
    assert Path(_cli_instance(monkeypatch)) == ROOT / "instance"
    assert not (bare / "instance").exists()


def test_an_installed_package_uses_instance_in_the_current_folder(bare, monkeypatch):
    monkeypatch.setattr(installation, "source_checkout", lambda: False)
    assert installation.instance_dir() == bare / "instance"
    app = create_app()  # no secret key, no database URL: both go to the instance folder
    assert Path(app.instance_path) == bare / "instance"
    assert (bare / "instance" / "secret_key").read_text().strip() == app.config["SECRET_KEY"]
    assert app.extensions["cpe_engine"].url == f"sqlite:///{bare / 'instance' / 'cpe.sqlite3'}"
    result = CliRunner().invoke(cpe, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (bare / "instance" / "cpe.sqlite3").stat().st_size > 0
    assert Path(_cli_instance(monkeypatch)) == bare / "instance"
    assert not (ROOT / "site-packages").exists()


@pytest.mark.parametrize("checkout", [True, False])
def test_cpe_instance_dir_is_used_by_the_web_app_and_the_command(bare, monkeypatch, tmp_path, checkout):
    monkeypatch.setattr(installation, "source_checkout", lambda: checkout)
    monkeypatch.setenv("CPE_INSTANCE_DIR", "datos/cpe")  # relative: from the current folder
    folder = bare / "datos" / "cpe"
    assert installation.instance_dir() == folder
    app = create_app()
    assert Path(app.instance_path) == folder
    assert (folder / "secret_key").is_file()
    assert app.extensions["cpe_engine"].url == f"sqlite:///{folder / 'cpe.sqlite3'}"
    assert Path(_cli_instance(monkeypatch)) == folder
    monkeypatch.setenv("CPE_INSTANCE_DIR", str(tmp_path / "absoluta"))
    assert installation.instance_dir() == tmp_path / "absoluta"
    assert Path(create_app({"SECRET_KEY": "test"}).instance_path) == tmp_path / "absoluta"
    assert Path(_cli_instance(monkeypatch)) == tmp_path / "absoluta"


def test_the_health_address_answers_without_a_session(bare):
    client = create_app({"SECRET_KEY": "test", "DATABASE_URL": "sqlite://"}).test_client()
    response = client.get("/salud")
    assert response.status_code == 200 and response.get_json() == {"estado": "ok"}
    assert "Set-Cookie" not in response.headers
