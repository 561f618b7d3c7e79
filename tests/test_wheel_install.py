"""The installed package works without the source tree: build the wheel as production does
(tooling/build_assets.py after `npm ci`, then `pip wheel`), install it into a new virtual environment and,
from a folder outside the repository, run `cpe db upgrade`, `cpe deploy` (no paths: the shipped models),
`cpe demo`, open as the demo analyst the pages with a diagram, the editors and the charts, and GET every
/vendor/ file they (and the templates) use.

The new environment holds only the wheel; its dependencies come from this interpreter's site-packages
(a .pth line, so this machine's editable install of the project is not on the path and nothing has to
be downloaded). Skipped only where node_modules was never installed and not in CI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

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
    assert report["unlisted"] == 404
    assert all(status == 200 for status, _ in report["pages"].values()), report["pages"]
    assert set().union(*(names for _, names in report["pages"].values())) == set(FILES), report["pages"]
    for name, (status, mimetype, digest) in report["served"].items():
        assert status == 200, name
        assert mimetype == ("text/css" if name.endswith(".css") else "text/javascript"), (name, mimetype)
        assert digest == hashlib.sha256((NODE_MODULES / FILES[name]).read_bytes()).hexdigest(), name
