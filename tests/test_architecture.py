"""The architecture, read from the source (nothing is imported): README «Arquitectura»."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "webapp", "cli", "tooling")
LAYERS = {"engine": -1, "engine.basics": 0, "engine.domain": 1, "engine.store": 2, "engine.accounts": 3,
          "engine.operators": 3, "engine.models": 4, "engine.cases": 5, "engine.programme": 6,
          "engine.assembly": 7, "engine.simulate": 8, "webapp.shared": 9, "webapp.pages": 10,
          "webapp.api": 10, "webapp": 11, "webapp.wsgi": 12, "tooling": 13, "cli": 14}
EXACT = {"engine", "webapp"}  # the package roots themselves, not a module dropped beside them
ISOLATED = {"webapp.pages"}
LIGHT = ("engine/__init__.py", "engine/basics/__init__.py", "engine/domain/__init__.py", "engine/models/__init__.py")
ROLE_NAMES = ("PYME", "EJECUTIVO_CPE", "EJECUTIVO_PROCHILE", "JEFE_REGIONAL", "ANALISTA")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "alembic/versions" not in path.as_posix():
                parts = list(path.relative_to(ROOT).with_suffix("").parts)
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def imports(module: str, path: Path) -> set[str]:
    """Project modules imported, lazy ones too; `from a import b` is module a.b if it is one, else a."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                source = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES} - {module}


def layer(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS and (prefix not in EXACT or prefix == module):
            return prefix
    raise AssertionError(f"{module} is in no layer (LAYERS, README «Arquitectura»)")


def test_imports_go_down():
    wrong = set()
    for module, path in MODULES.items():
        here = layer(module)
        for target in imports(module, path):
            there = layer(target)
            if LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here] and there != here) \
                    or (here == there and here in ISOLATED):
                wrong.add((module, target))
    assert sorted(wrong) == [], "an import goes up or sideways: README «Arquitectura»"


def test_the_sandbox_child_starts_light():
    for name in LIGHT:
        assert not [n for n in _tree(ROOT / name).body if isinstance(n, (ast.Import, ast.ImportFrom))], name


def test_every_package_says_what_belongs_there():
    for init in sorted(p for top in PACKAGES for p in (ROOT / top).rglob("__init__.py")):
        assert len(ast.get_docstring(_tree(init)) or "") > 40, init.relative_to(ROOT)


def test_role_names_are_written_once():
    body = _tree(ROOT / "engine/domain/roles.py").body
    roles = {n.value.value for n in body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
             and n.targets[0].id in ROLE_NAMES}
    assert len(roles) == 5
    found = [f"{path.relative_to(ROOT)}:{node.lineno}" for module, path in MODULES.items()
             if module != "engine.domain.roles" for node in ast.walk(_tree(path))
             if isinstance(node, ast.Constant) and node.value in roles]
    quoted = re.compile("['\"](" + "|".join(sorted(roles)) + ")['\"]")
    for path in [*(ROOT / "webapp/templates").rglob("*.html"), *(ROOT / "webapp/static/js").glob("*.js")]:
        found += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                  if quoted.search(line)]
    assert found == [], "use engine.domain.roles"


def test_only_the_engine_package_uses_its_private_methods():
    [cls] = [n for n in _tree(ROOT / "engine/cases/engine.py").body
             if isinstance(n, ast.ClassDef) and n.name == "Engine"]
    private = {f.name for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("_")
               and not f.name.startswith("__")}
    inside = {"engine.cases.engine", "engine.cases.recovery", "engine.cases.migration", "engine.cases.messages"}
    found = [f"{path.relative_to(ROOT)}:{node.lineno}" for module, path in MODULES.items() if module not in inside
             for node in ast.walk(_tree(path)) if isinstance(node, ast.Attribute) and node.attr in private]
    assert found == [], "use a public Engine verb"


def test_web_code_runs_no_sql():
    found = []
    for module, path in MODULES.items():
        if module.startswith("webapp"):
            found += [t for t in imports(module, path) if t.startswith("engine.store")]
            found += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(_tree(path))
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                      and n.func.attr in ("Session", "transaction", "execute", "scalar", "scalars")]
    assert found == [], "put the query in an engine function"
