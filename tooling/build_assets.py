"""Copy into the Python packages what the installed package needs besides code (run after `npm ci`,
before `pip install .` or building a wheel; `make install` runs it). Standard library only, so it
runs before the project's dependencies are installed: `python3 tooling/build_assets.py`.

- webapp/static/vendor/: exactly the front-end files webapp/shared/vendor_files.json lists, from
  node_modules, after checking each npm package is at the version package-lock.json pins; with the
  licence of each package served and of every package its bundles are built from (its dependencies in
  the lockfile), and versions.json (name, version, licence of each), written last: webapp/shared/vendor.py
  serves from the folder only once that file exists.
- engine/programme/shipped_models/: the programme's models (processes/*.bpmn|*.dmn, forms/*.json), for
  `cpe demo`, `cpe deploy` and `cpe bench` where there is no source tree (engine/programme/shipped.py).
  processes/ and forms/ stay the analysts' source of truth; the copy is generated.

Both folders are git-ignored and rebuilt from scratch on every run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = Path("webapp/shared/vendor_files.json")
VENDOR_DIR = Path("webapp/static/vendor")
MODELS_DIR = Path("engine/programme/shipped_models")
MODEL_SOURCES = {"processes": ("*.bpmn", "*.dmn"), "forms": ("*.json",)}
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "license", "license.md")


class BuildError(Exception):
    pass


def package_of(path: str) -> str:
    """The npm package a node_modules path belongs to ("@scope/name" or "name")."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def _licence_file(folder: Path) -> Path | None:
    return next((folder / n for n in LICENCE_NAMES if (folder / n).is_file()), None)


def _locked(lock: dict, where: str, name: str) -> str | None:
    """The lockfile key of dependency `name` as seen from package key `where` (node's resolution:
    the nearest node_modules up the tree)."""
    base = where
    while True:
        key = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if key in lock["packages"]:
            return key
        if not base:
            return None
        base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""


def _closure(lock: dict, roots: list[str]) -> list[str]:
    """Lockfile keys of the served packages and of all their (non-dev) dependencies."""
    seen, todo = [], [f"node_modules/{r}" for r in roots]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.append(key)
        for dep in lock["packages"][key].get("dependencies", {}):
            found = _locked(lock, key, dep)
            if found is None:
                raise BuildError(f"package-lock.json no resuelve {dep} (dependencia de {key})")
            todo.append(found)
    return sorted(seen)


def copy_vendor(root: Path, node_modules: Path, out: Path) -> dict:
    files: dict[str, str] = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    served = sorted({package_of(p) for p in files.values()})
    versions = {}
    for key in _closure(lock, served):
        name = key.rsplit("node_modules/", 1)[1]
        pinned = lock["packages"][key].get("version")
        folder = node_modules / key.removeprefix("node_modules/")
        meta = folder / "package.json"
        if not meta.is_file():
            raise BuildError(f"falta {meta}: ejecute `npm ci`")
        installed = json.loads(meta.read_text(encoding="utf-8")).get("version")
        if installed != pinned:
            raise BuildError(f"{name} {installed} instalado, package-lock.json fija {pinned}: ejecute `npm ci`")
        licence = _licence_file(folder)
        if licence is None and name in served:
            raise BuildError(f"{name} no trae archivo de licencia")
        target = out / key.removeprefix("node_modules/")
        entry = {"version": pinned, "license": lock["packages"][key].get("license"), "served": name in served}
        if licence is not None:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(licence, target / licence.name)
            entry["license_file"] = (target / licence.name).relative_to(out).as_posix()
        versions[key.removeprefix("node_modules/")] = entry
    for path in files.values():
        source = node_modules / path
        if not source.is_file():
            raise BuildError(f"falta {source}: ejecute `npm ci`")
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out / path)
    (out / "versions.json").write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return versions


def copy_models(root: Path, out: Path) -> int:
    count = 0
    for folder, patterns in MODEL_SOURCES.items():
        (out / folder).mkdir(parents=True)
        for source in sorted({p for pattern in patterns for p in (root / folder).glob(pattern)}):
            shutil.copyfile(source, out / folder / source.name)
            count += 1
        if not any((out / folder).iterdir()):
            raise BuildError(f"{root / folder} no tiene modelos")
    return count


def _replace(target: Path, fill) -> object:
    """Build into a temporary folder beside `target`, then swap it in (no half-written folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        result = fill(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build(root: Path = ROOT, node_modules: Path | None = None) -> dict:
    node_modules = node_modules or root / "node_modules"
    versions = _replace(root / VENDOR_DIR, lambda out: copy_vendor(root, node_modules, out))
    models = _replace(root / MODELS_DIR, lambda out: copy_models(root, out))
    return {"vendor": versions, "models": models}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the source tree (default: this repository)")
    parser.add_argument("--node-modules", type=Path, default=None, help="default: ROOT/node_modules")
    args = parser.parse_args(argv)
    try:
        result = build(args.root.resolve(), args.node_modules)
    except (BuildError, OSError, ValueError) as exc:
        print(f"build_assets: {exc}", file=sys.stderr)
        return 1
    served = [f"{n} {v['version']}" for n, v in result["vendor"].items() if v["served"]]
    print(f"build_assets: {', '.join(served)} (+{len(result['vendor']) - len(served)} licencias de dependencias) "
          f"en {VENDOR_DIR}/; {result['models']} modelos en {MODELS_DIR}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
