"""A restricted environment for BPMN expressions, conditions and script tasks.

SpiffWorkflow evaluates these with plain `eval`/`exec`. Diagrams are edited by analysts
and uploaded through the browser, so they are untrusted: every snippet is compiled with
RestrictedPython (no imports, no names or attributes starting with "_") and run with a
small set of builtins. `check()` gives deploy-time errors naming the problem.

Running code is also bounded: every loop and comprehension goes through a counted iterator
that stops the code after `MAX_ITERATIONS` steps, after `MAX_SECONDS`, or when the process has
grown by `MAX_GROWTH_BYTES`; `+`, `%`, `*`, `**` and `<<` are rewritten into checked calls so one
operation cannot build a huge string, list or integer; `range`, `sum`, `str.join`,
`str.replace` and `list.extend` refuse results over `MAX_ITEMS`.
"""

from __future__ import annotations

import ast
import contextvars
import operator
import re
import time
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock
from .services.workdays import add_working_days

MAX_SOURCE = 4000
MAX_ITEMS = 100_000  # elements of a string, list or range one operation may build
MAX_INT_BITS = 4096  # size of an integer one operation may build
MAX_ITERATIONS = 200_000  # loop and comprehension steps per evaluation
MAX_SECONDS = 2.0  # time per evaluation, checked at every loop step
MAX_GROWTH_BYTES = 256 * 1024 * 1024  # resident memory an evaluation may add, checked every 256 steps
_ALLOWED_ATTRS = {
    "get", "keys", "values", "items", "append", "extend", "lower", "upper", "strip",
    "startswith", "endswith", "split", "join", "replace", "title", "count", "index",
    "isoformat", "year", "month", "day",
}


class SandboxError(Exception):
    pass


def _too_big(what):
    raise SandboxError(f"la operación produciría {what} demasiado grande")


def _length(value):
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def cpe_mult(a, b):
    """`a * b` without building a sequence of more than MAX_ITEMS elements or a huge integer."""
    for seq, times in ((a, b), (b, a)):
        size = _length(seq)
        if size is not None and isinstance(times, int) and size * max(times, 0) > MAX_ITEMS:
            _too_big("un texto o una lista")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        _too_big("un número")
    return a * b


def cpe_add(a, b):
    """`a + b` without joining sequences into more than MAX_ITEMS elements."""
    left, right = _length(a), _length(b)
    if left is not None and right is not None and left + right > MAX_ITEMS:
        _too_big("un texto o una lista")
    return a + b


_PERCENT_SPEC = re.compile(r"%[#0 +-]*(\d*)(?:\.(\d*))?")


def cpe_mod(a, b):
    """`a % b`; as printf-style formatting, widths and precisions stay small."""
    if isinstance(a, str) and any(len(group or "") > 3 for match in _PERCENT_SPEC.finditer(a)
                                  for group in match.groups()):
        raise SandboxError("formato no permitido en el texto (ancho o precisión demasiado grande)")
    return a % b


def _sum(iterable, start=0):
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise SandboxError("sum() solo suma números")
    return sum(iterable, start)


def cpe_pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b > 0 and a.bit_length() * b > MAX_INT_BITS:
        _too_big("un número")
    return a ** b


def cpe_lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + max(b, 0) > MAX_INT_BITS:
        _too_big("un número")
    return a << b


def _range(*args):
    result = range(*args)
    if len(result) > MAX_ITEMS:
        _too_big("un rango")
    return result


def _join(separator):
    def join(items):
        items = list(items)
        if len(separator) * len(items) + sum(len(i) for i in items if isinstance(i, str)) > MAX_ITEMS:
            _too_big("un texto")
        return separator.join(items)
    return join


def _extend(target):
    def extend(items):
        items = list(items)
        if len(target) + len(items) > MAX_ITEMS:
            _too_big("una lista")
        target.extend(items)
    return extend


def _replace(text):
    def replace(old, new, count=-1):
        hits = text.count(old) if old else len(text) + 1
        if count >= 0:
            hits = min(hits, count)
        if len(text) + hits * max(len(new) - len(old), 0) > MAX_ITEMS:
            _too_big("un texto")
        return text.replace(old, new, count)
    return replace


class _Budget:
    """What one evaluation may still use; one per evaluate/execute call."""

    __slots__ = ("steps", "deadline", "rss_limit")

    def __init__(self):
        self.steps = MAX_ITERATIONS
        self.deadline = time.monotonic() + MAX_SECONDS
        rss = _resident_bytes()
        self.rss_limit = None if rss is None else rss + MAX_GROWTH_BYTES

    def step(self):
        self.steps -= 1
        if self.steps < 0:
            raise SandboxError(f"el código superó {MAX_ITERATIONS} pasos de ciclo")
        if time.monotonic() > self.deadline:
            raise SandboxError(f"el código superó {MAX_SECONDS:g} s de ejecución")
        if self.rss_limit is not None and self.steps % 256 == 0:
            rss = _resident_bytes()
            if rss is not None and rss > self.rss_limit:
                raise SandboxError("el código usó demasiada memoria")


_PAGE = 4096
try:
    import os as _os

    _PAGE = _os.sysconf("SC_PAGE_SIZE")
except (ImportError, ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
    pass


def _resident_bytes():
    """Resident memory of this process (Linux /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("sandbox_budget", default=None)


def _getiter(obj):
    budget = _budget.get()
    if budget is None:
        return iter(obj)
    return _counted(iter(obj), budget)


def _counted(iterator, budget):
    for item in iterator:
        budget.step()
        yield item


class _Bounded:
    """Run `func` with a fresh budget (nested evaluations share the outer one)."""

    def __init__(self):
        self.token = None

    def __enter__(self):
        if _budget.get() is None:
            self.token = _budget.set(_Budget())

    def __exit__(self, *exc):
        if self.token is not None:
            _budget.reset(self.token)


_INPLACE = {
    "+=": cpe_add, "-=": operator.sub, "*=": cpe_mult, "/=": operator.truediv,
    "//=": operator.floordiv, "%=": cpe_mod, "**=": cpe_pow, "<<=": cpe_lshift,
}


def _getattr(obj, name, default=None):
    if name not in _ALLOWED_ATTRS:
        raise SandboxError(f"acceso no permitido al atributo '{name}'")
    if isinstance(obj, str) and name == "join":
        return _join(obj)
    if isinstance(obj, str) and name == "replace":
        return _replace(obj)
    if isinstance(obj, list) and name == "extend":
        return _extend(obj)
    return safer_getattr(obj, name, default)


def _inplacevar(op, x, y):
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise SandboxError(f"operador no permitido: {op}") from None


def dias_habiles(n):
    """ISO date-time n working days (Monday to Friday) from now, for timeDate timers."""
    return add_working_days(clock.now(), int(n)).isoformat()


def ahora():
    return clock.now().isoformat()


def _builtins():
    allowed = dict(safe_builtins)
    for name in ("min", "max", "sum", "list", "dict", "set", "any", "all", "enumerate", "sorted", "reversed"):
        allowed[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("setattr", "delattr", "compile", "__build_class__"):
        allowed.pop(name, None)
    allowed["range"] = _range
    allowed["sum"] = _sum
    return allowed


BASE_GLOBALS = {
    "__builtins__": _builtins(),
    "_getattr_": _getattr,
    "_getitem_": operator.getitem,
    "_getiter_": _getiter,
    "_write_": lambda obj: obj,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "dias_habiles": dias_habiles,
    "ahora": ahora,
    "cpe_add": cpe_add,
    "cpe_mod": cpe_mod,
    "cpe_mult": cpe_mult,
    "cpe_pow": cpe_pow,
    "cpe_lshift": cpe_lshift,
}

_CHECKED_OPS = {ast.Add: "cpe_add", ast.Mod: "cpe_mod", ast.Mult: "cpe_mult", ast.Pow: "cpe_pow",
                ast.LShift: "cpe_lshift"}


class _CheckedOperators(ast.NodeTransformer):
    """`a + b`, `a % b`, `a * b`, `a ** b`, `a << b` -> `cpe_add(a, b)` …: sized before they are computed."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        name = _CHECKED_OPS.get(type(node.op))
        if name is None:
            return node
        call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)


_FORBIDDEN_NODES = {
    ast.Import: "no se permiten imports",
    ast.ImportFrom: "no se permiten imports",
    ast.FunctionDef: "no se permite definir funciones",
    ast.AsyncFunctionDef: "no se permite definir funciones",
    ast.Lambda: "no se permiten funciones lambda",
    ast.ClassDef: "no se permite definir clases",
    ast.Global: "no se permite 'global'",
    ast.Nonlocal: "no se permite 'nonlocal'",
    ast.While: "no se permiten ciclos 'while' (use 'for' sobre una lista)",
    ast.Try: "no se permite 'try'",
    ast.With: "no se permite 'with'",
    ast.Await: "no se permite 'await'",
    ast.Yield: "no se permite 'yield'",
}


def _check_size(source: str):
    if len(source) > MAX_SOURCE:
        raise SandboxError(f"el código supera {MAX_SOURCE} caracteres")


def _check_ast(source: str, mode: str):
    """Spanish, element-level reasons before RestrictedPython's own (second) line of defence."""
    try:
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except SyntaxError as exc:
        raise SandboxError(f"error de sintaxis en la línea {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        for kind, reason in _FORBIDDEN_NODES.items():
            if isinstance(node, kind):
                raise SandboxError(reason)
        name = getattr(node, "id", None) if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str) and name.startswith("_"):
            raise SandboxError(f"nombre no permitido '{name}' (empieza con '_')")
        if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_ATTRS:
            raise SandboxError(f"atributo no permitido '.{node.attr}'")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = node.format_spec
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) for p in parts) or \
                    any(len(digits) > 3 for p in parts for digits in _digit_runs(str(p.value))):
                raise SandboxError("formato no permitido en el texto (ancho o precisión demasiado grande)")
    return tree


def _digit_runs(text):
    run = ""
    for char in text:
        if char.isdigit():
            run += char
            continue
        if run:
            yield run
        run = ""
    if run:
        yield run


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    _check_size(source)
    tree = _CheckedOperators().visit(_check_ast(source, "eval"))
    result = compile_restricted_eval(ast.fix_missing_locations(tree))
    if result.errors:
        raise SandboxError("; ".join(result.errors))
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str):
    _check_size(source)
    tree = _CheckedOperators().visit(_check_ast(source, "exec"))
    result = compile_restricted_exec(ast.fix_missing_locations(tree))
    if result.errors:
        raise SandboxError("; ".join(result.errors))
    return result.code


def check(source: str, mode: str = "eval") -> str | None:
    """Return a Spanish description of why `source` is refused, or None if it is fine."""
    try:
        (compile_expression if mode == "eval" else compile_script)(source)
    except SandboxError as exc:
        return str(exc)
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self):
        super().__init__(BASE_GLOBALS)

    def _globals(self, context, external_context):
        scope = dict(self.globals)
        if external_context:
            scope.update(external_context)
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        with _Bounded():
            return eval(code, self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        scope = self._globals(context, external_context)
        code = compile_script(script)
        with _Bounded():
            exec(code, scope)
        reserved = set(self.globals) | set(external_context or {})
        for key in list(context):
            if key not in scope:
                del context[key]
        for key, value in scope.items():
            if key in reserved or key.startswith("_") or callable(value):
                continue
            context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise SandboxError("los servicios se invocan a través del motor")

