"""A restricted environment for BPMN expressions, conditions and script tasks.

SpiffWorkflow evaluates these with plain `eval`/`exec`. Diagrams are edited by analysts
and uploaded through the browser, so they are untrusted: every snippet is compiled with
RestrictedPython (no imports, no names or attributes starting with "_") and run with a
small set of builtins. `check()` gives deploy-time errors naming the problem.
"""

from __future__ import annotations

import ast
import operator
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
_INPLACE = {
    "+=": operator.add, "-=": operator.sub, "*=": operator.mul, "/=": operator.truediv,
    "//=": operator.floordiv, "%=": operator.mod,
}
_ALLOWED_ATTRS = {
    "get", "keys", "values", "items", "append", "extend", "lower", "upper", "strip",
    "startswith", "endswith", "split", "join", "replace", "title", "count", "index",
    "isoformat", "year", "month", "day",
}


class SandboxError(Exception):
    pass


def _getattr(obj, name, default=None):
    if name not in _ALLOWED_ATTRS:
        raise SandboxError(f"acceso no permitido al atributo '{name}'")
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
    return allowed


BASE_GLOBALS = {
    "__builtins__": _builtins(),
    "_getattr_": _getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_write_": lambda obj: obj,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "dias_habiles": dias_habiles,
    "ahora": ahora,
}


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


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    _check_size(source)
    _check_ast(source, "eval")
    result = compile_restricted_eval(source.strip())
    if result.errors:
        raise SandboxError("; ".join(result.errors))
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str):
    _check_size(source)
    _check_ast(source, "exec")
    result = compile_restricted_exec(source)
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
        return eval(compile_expression(expression), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        scope = self._globals(context, external_context)
        exec(compile_script(script), scope)
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

