"""The installed package works without the source tree: build the wheel as production does
(tooling/build_assets.py after `npm ci`, then `pip wheel`), install it into a new virtual environment and,
from a folder outside the repository, run `cpe db upgrade`, `cpe deploy` (no paths: the shipped models),
`cpe demo`, open as the demo analyst the pages with a diagram, the editors and the charts, and GET every
/vendor/ file they (and the templates) use.

Then production itself: the README's production block (read from README.md, so the two cannot drift) run
line by line on the test database (PostgreSQL when CPE_TEST_DATABASE_URL is set), gunicorn and `cpe worker`
as real processes, and Debian's Chromium seeing a case's diagram, the modeler and the indicator charts
with no console error and no failed request.

The new environment holds only the wheel; its dependencies come from this interpreter's site-packages
(a .pth line, so this machine's editable install of the project is not on the path and nothing has to
be downloaded), and the `gunicorn` command pip would have written for that dependency is written from its
entry point. Skipped only where node_modules was never installed and not in CI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import fresh_database

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
FILES = json.loads((ROOT / "webapp/shared/vendor_files.json").read_text(encoding="utf-8"))
SOURCES = ("pyproject.toml", "README.md", "package.json", "package-lock.json", "engine", "webapp", "cli", "tooling",
           "processes", "forms")
GENERATED = ("webapp/static/vendor", "engine/programme/shipped_models")

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "bpmn-js").is_dir() and not os.environ.get("CI"),
                                reason="node_modules is not installed (`npm ci`); CI never skips this")

CHECK_APP = """
import hashlib, json, re, sys
import cli, engine, tooling, webapp
from engine.programme import shipped
from webapp import create_app
from webapp.shared import vendor
client = create_app({"WTF_CSRF_ENABLED": False}).test_client()
assert client.post("/ingresar", data={"username": "analista", "password": "cpe-demo-2026"}).status_code == 302
pages = {}
for url in ("/casos/1", "/modelos/cpe_actual/editar", "/modelos/decision/segmento_cpe/editar", "/indicadores/"):
    r = client.get(url)
    pages[url] = [r.status_code, sorted(set(re.findall(r'/vendor/([\\w.-]+)', r.get_data(as_text=True))))]
served = {}
for name in json.loads(sys.argv[1]):
    r = client.get("/vendor/" + name)
    served[name] = [r.status_code, r.mimetype, hashlib.sha256(r.data).hexdigest()]
print(json.dumps({"modules": [m.__file__ for m in (cli, engine, tooling, webapp)],
                  "models": [str(shipped.processes_dir()), str(shipped.forms_dir())],
                  "assets_root": str(vendor.assets_root()), "served": served,
                  "instance": client.application.instance_path,
                  "unlisted": client.get("/vendor/versions.json").status_code, "pages": pages}))
"""


def _run(args, cwd, env=None, timeout=120):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _copy_sources(target: Path):
    skip = {ROOT / g for g in GENERATED}

    def ignore(folder, names):
        return [n for n in names if Path(folder, n) in skip or n == "__pycache__" or n.endswith((".pyc", ".egg-info"))]

    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    assert (NODE_MODULES / "bpmn-js").is_dir(), "node_modules is missing: run `npm ci` (CI must)"
    src = tmp_path_factory.mktemp("src")
    _copy_sources(src)
    _run([sys.executable, "tooling/build_assets.py", "--node-modules", str(NODE_MODULES)], cwd=src)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", ".", "-w", str(dist)], cwd=src, timeout=180)
    (built,) = dist.glob("cpe_workflow-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], cwd=venv)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
          str(wheel)], cwd=venv, timeout=180)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=venv)
                .strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_cpe_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    entry = _run([str(python), "-c", "from importlib.metadata import entry_points; "
                  "(e,) = entry_points(group='console_scripts', name='gunicorn'); print(e.value)"], cwd=venv).strip()
    module, function = entry.split(":")  # the script pip writes for a console entry point
    script = venv / "bin" / "gunicorn"
    script.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\n"
                      f"if __name__ == '__main__':\n    sys.exit({function}())\n", encoding="utf-8")
    script.chmod(0o755)
    return venv, site


def test_the_wheel_carries_the_served_files_their_licences_and_the_models(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if "node_modules" in n]
    assert {f"webapp/static/vendor/{path}" for path in FILES.values()} <= names
    versions = json.loads(zipfile.ZipFile(wheel).read("webapp/static/vendor/versions.json"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for package in ("bpmn-js", "dmn-js", "chart.js"):
        assert versions[package]["version"] == lock[f"node_modules/{package}"]["version"]
        assert f"webapp/static/vendor/{versions[package]['license_file']}" in names
    vendored = {n for n in names if n.startswith("webapp/static/vendor/")}
    licences = {f"webapp/static/vendor/{v['license_file']}" for v in versions.values() if "license_file" in v}
    assert vendored == {f"webapp/static/vendor/{p}" for p in FILES.values()} | licences | {
        "webapp/static/vendor/versions.json"}, "the wheel carries exactly what is served, and licences"
    for folder, patterns in (("processes", ("*.bpmn", "*.dmn")), ("forms", ("*.json",))):
        shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith(f"engine/programme/shipped_models/{folder}/")}
        assert shipped == {p.name for pattern in patterns for p in (ROOT / folder).glob(pattern)}


def test_every_vendor_name_the_templates_use_is_listed():
    used = set()
    for template in (ROOT / "webapp/templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if "vendor.asset" in text:
            used |= {m for m in re.findall(r"(?<!filename=)'([\w.-]+\.(?:js|css))'", text)}
    assert used and used == set(FILES)


def test_the_installed_package_runs_the_demo_and_serves_the_front_end(installed, tmp_path):
    venv, site = installed
    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CPE_", "PYTHON"))}
    env.update(CPE_DATABASE_URL=f"sqlite:///{run / 'cpe.sqlite3'}", CPE_SECRET_KEY="wheel-test")
    cpe = str(venv / "bin" / "cpe")
    _run([cpe, "db", "upgrade"], cwd=run, env=env)
    deployed = json.loads(_run([cpe, "deploy", "--json", "-m", "versión inicial"], cwd=run, env=env))
    assert {r["key"] for r in deployed} >= {"cpe_actual", "segmento_cpe", "tpe_bienes"}
    demo = json.loads(_run([cpe, "demo", "--json", "--empresas", "30", "--meses", "6"], cwd=run, env=env,
                           timeout=180))
    assert demo["casos"] > 0 and demo["usuarios"] > 0 and demo["historia"]["errores"] == []
    report = json.loads(_run([str(venv / "bin" / "python"), "-c", CHECK_APP, json.dumps(sorted(FILES))],
                             cwd=run, env=env))
    assert all(Path(m).is_relative_to(site) for m in report["modules"]), report["modules"]
    assert all(Path(m).is_relative_to(site / "engine/programme/shipped_models") for m in report["models"])
    assert Path(report["assets_root"]) == site / "webapp/static/vendor"
    assert Path(report["instance"]) == run / "instance", "installed: ./instance in the current folder"
    assert not (site / "instance").exists()
    assert report["unlisted"] == 404
    assert all(status == 200 for status, _ in report["pages"].values()), report["pages"]
    assert set().union(*(names for _, names in report["pages"].values())) == set(FILES), report["pages"]
    for name, (status, mimetype, digest) in report["served"].items():
        assert status == 200, name
        assert mimetype == ("text/css" if name.endswith(".css") else "text/javascript"), (name, mimetype)
        assert digest == hashlib.sha256((NODE_MODULES / FILES[name]).read_bytes()).hexdigest(), name


# -- production as the README says it --------------------------------------------------------------------------
MARKER = "<!-- production-commands:"
SITE_SPECIFIC = ("CPE_DATABASE_URL", "CPE_SECRET_KEY", "CPE_INSTANCE_DIR")  # the values the test replaces
DEFAULT_BIND = "127.0.0.1:8000"


def production_steps(readme: str) -> list[tuple]:
    """The README's marked block, line by line: ("export", name, value), ("run", args) or ("start", args) for
    a line ending in `&`. Only simple commands: anything a shell would have to interpret is refused."""
    assert readme.count(MARKER) == 1, "README.md needs exactly one production-commands block"
    block = re.match(r"[^\n]*-->\s*\n```bash\n(.*?)\n```", readme.split(MARKER, 1)[1], re.S)
    assert block, "the marker must be followed by a ```bash block"
    steps = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        assert not {"&&", "||", "|", ";", ">", "<"} & set(words) and "$" not in line and "\\" not in line, line
        if not words:
            continue
        if words[0] == "export":
            steps += [("export", *word.split("=", 1)) for word in words[1:]]
        elif words[-1] == "&":
            steps.append(("start", words[:-1]))
        else:
            steps.append(("run", words))
    return steps


def test_the_readme_production_block_is_what_the_production_test_needs():
    steps = production_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    exported = [step[1] for step in steps if step[0] == "export"]
    assert set(SITE_SPECIFIC) <= set(exported) and len(exported) == len(set(exported))
    ran = [step[1] for step in steps if step[0] == "run"]
    assert [args[:2] for args in ran] == [["cpe", "db"], ["cpe", "deploy"], ["cpe", "demo"]] and ran[0][2] == "upgrade"
    started = [step[1] for step in steps if step[0] == "start"]
    assert [args[0] for args in started] == ["gunicorn", "cpe"] and started[1][1:] == ["worker"]
    assert _bind(started[0]) == DEFAULT_BIND
    with pytest.raises(AssertionError):
        production_steps(f"{MARKER} x -->\n```bash\ncpe db upgrade && cpe demo\n```\n")


def _bind(args) -> str:
    (at,) = [n for n, word in enumerate(args) if word in ("-b", "--bind")]
    return args[at + 1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM, then SIGKILL to its whole process group (gunicorn's workers too) if it does not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


@contextmanager
def _services():
    """The long-running processes the test starts: never left behind, whatever happens."""
    started: list[subprocess.Popen] = []
    try:
        yield started
    finally:
        failure = None
        for process in started:  # every one is stopped, even if stopping another failed
            try:
                _stop(process)
            except Exception as exc:  # noqa: BLE001 - raised after the others are stopped too
                failure = failure or exc
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything of its group still alive
            except (ProcessLookupError, PermissionError):
                pass
        if failure is not None:
            raise failure


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited ({process.returncode}):\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200 and json.loads(response.read()) == {"estado": "ok"}:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered:\n{log.read_text()}")


def test_production_as_the_readme_says_serves_the_diagrams_and_charts(installed, tmp_path):
    from .browser.conftest import CHROMIUM, _chromium_or_skip

    sync_playwright = _chromium_or_skip()
    venv, site = installed
    bin_dir = venv / "bin"
    run = tmp_path / "run"
    run.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CPE_", "PYTHON"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    logs = tmp_path / "logs"
    logs.mkdir()
    with fresh_database(tmp_path, "wp") as database_url, _services() as started:
        ours = {"CPE_DATABASE_URL": database_url, "CPE_SECRET_KEY": secrets.token_hex(32),
                "CPE_INSTANCE_DIR": str(tmp_path / "instancia")}
        for step in production_steps((ROOT / "README.md").read_text(encoding="utf-8")):
            if step[0] == "export":
                env[step[1]] = ours.get(step[1], step[2])
                continue
            kind, args = step
            program = shutil.which(args[0], path=str(bin_dir))
            assert program, f"{args[0]} is not in the new environment"
            args = [program, *args[1:]]
            if args[0].endswith("gunicorn"):
                args[args.index(DEFAULT_BIND)] = f"127.0.0.1:{port}"
            if kind == "run":
                _run(args, cwd=run, env=env, timeout=300)
                continue
            log = logs / f"{len(started)}-{Path(program).name}.log"
            with open(log, "w", encoding="utf-8") as out:
                started.append(subprocess.Popen(args, cwd=run, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True))
        assert len(started) == 2, "gunicorn and `cpe worker`"
        web, worker = started
        _wait_healthy(f"http://127.0.0.1:{port}/salud", web, logs / "0-gunicorn.log")
        assert not (run / "instance").exists() and not (site / "instance").exists(), "CPE_INSTANCE_DIR is used"

        problems = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
                page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
                base = f"http://127.0.0.1:{port}"
                page.goto(f"{base}/ingresar")
                page.fill("#username", "analista")
                page.fill("#password", "cpe-demo-2026")
                page.press("#password", "Enter")  # the first submit button is the language switch
                page.wait_for_url("**/bandeja")

                page.goto(f"{base}/casos")
                page.locator("a[href^='/casos/']", has_text="#").first.click()
                page.wait_for_selector("#case-diagram[data-ready='1']")
                assert page.locator("#case-diagram svg .djs-shape").count() > 3, "the case's BPMN diagram"

                page.goto(f"{base}/modelos/cpe_actual/editar")
                page.wait_for_selector("#modeler-app[data-ready='1']")
                assert page.locator("#modeler-canvas svg .djs-shape").count() > 3
                assert page.locator("#modeler-canvas .djs-palette").is_visible()

                page.goto(f"{base}/indicadores/")
                page.wait_for_selector("body[data-charts-ready='1']")
                drawn = page.evaluate("[...document.querySelectorAll('canvas')].map(c => "
                                      "!!(window.Chart && Chart.getChart(c)) && c.width > 0 && c.height > 0)")
                assert len(drawn) >= 4 and all(drawn), drawn
                assert page.locator(".ind-chart-ready").count() == len(drawn)
                page.close()
            finally:
                browser.close()
        assert problems == []

        assert worker.poll() is None, (logs / "1-cpe.log").read_text()
        assert [_stop(process) for process in started] == [0, 0]
        for log in logs.iterdir():
            assert not re.search(r"Traceback|\[ERROR\]|error", log.read_text()), (log.name, log.read_text())
