"""A restricted environment for BPMN expressions, conditions, DMN cells, timer expressions,
operator parameters and script tasks.

Diagrams and decision tables are edited by analysts and uploaded through the browser, so the
code in them is untrusted. Every snippet is compiled with RestrictedPython (no imports, no names
or attributes starting with "_", a small set of builtins, at most MAX_SOURCE characters);
`check()` gives the deploy-time errors naming the problem.

Dates and durations
-------------------
As in SpiffArena's script environment, code may use `datetime` (whose `now()`, `utcnow()` and
`today()` read the engine's clock, in UTC; `datetime.datetime` and `datetime.timedelta` also work,
as in SpiffWorkflow's examples, which offer the module) and `timedelta`. On a date, date-time, time
or duration, or on its class, every public attribute of its type is allowed (`timestamp()`,
`isocalendar()`, `replace()` …: they give only dates, numbers, texts and tuples); `strftime` and
`strptime` take formats of at most MAX_DATE_TEXT characters, and whichever date class code reaches,
`now`/`utcnow`/`today` read the engine's clock. On any other value only the names of _ALLOWED_ATTRS
are. Case values are plain JSON, so what an expression gives or a script leaves is
turned into ISO 8601 text in the child (`plain_times`): a date-time or date its `isoformat()`, a
duration "PT30S"/"P2DT3H" — what timer definitions take (a timer `timedelta(seconds=30)` waits
30 seconds). `unavailable_names` tells at deploy which functions and SpiffArena modules do not
exist here (a call to one would always fail).

Where model code runs
---------------------
Model code runs in a separate **sandbox child process** (engine/models/sandbox_child.py), never in the
engine's process, except for the *fast path* below. A small pool of long-lived children per
process (created lazily per PID, so it survives forks: gunicorn and simulation workers; thread
safe: a thread checks out an idle child, starts a new one up to POOL_SIZE, or waits) receives
length-prefixed JSON requests over pipes: the source, the case values the code names (checked
with engine.basics.case_values.check), the external context (DMN's `dmninputexpr`) and the engine's clock
(`ahora()` and `dias_habiles()` use it). The child runs with OS limits (address space
CHILD_MEMORY_BYTES, no files, few descriptors, a CPU-time backstop re-armed per request, SIGINT
ignored), catches every BaseException (SystemExit, KeyboardInterrupt, GeneratorExit,
MemoryError, RecursionError …) and answers with the result or a Spanish message. The parent
waits at most MAX_SECONDS (+ CHILD_GRACE_SECONDS for the child's own, friendlier message): on
timeout or a dead child it SIGKILLs and reaps it and raises SandboxError; the next evaluation
starts a fresh child. Replies are capped (MAX_REPLY_BYTES), decoded without NaN, and the values
they carry are checked again with engine.basics.case_values.check (the child is untrusted). So the time and
memory limits hold *by construction*: they do not depend on counting what the code does.

Inside the child, the counted iterators and checked operators below stay as defence in depth
and for friendlier messages: every loop and comprehension goes through a counted iterator
(MAX_ITERATIONS steps, MAX_SECONDS, MAX_GROWTH_BYTES of growth); `+`, `%`, `*`, `**` and `<<`
are rewritten into checked calls; `pow`, `round`, `range`, `sum`, `str.join`, `str.replace` and
`list.extend` refuse results over MAX_ITEMS elements or MAX_INT_BITS bits; printf-style formats
refuse `*` widths and widths or precisions of more than three digits.

The fast path
-------------
Code runs in the engine's process, without a round trip, when its syntax tree has only these
nodes (decided once per source text, `fast_path`):

- names, constants, comparisons (every operator, `in`/`not in`/`is`/`is not` included),
  `and`/`or`, `not`, unary `-`/`+`, conditional expressions `a if c else b`;
- binary `+`, `-`, `*`, `/` and `//`;
- subscripts `a[k]` whose index is a name, a constant or a negative constant (no slices);
- tuple, list, set and dict displays of those (no `*`/`**` unpacking);
- calls, without `*`/keyword arguments, of `str`, `round`, `int`, `float`, `abs`, `len`, `bool`,
  `dias_habiles`, `ahora` and of `.get` (the only attribute);
- for a script: only assignments of such expressions to a single name (no loops, no subscript or
  augmented assignment, no `del`), and no display holding a name the script itself assigns
  (`a1 = [a0, a0]` line after line would double a structure of shared references: comparing or
  hashing it would cost 2**lines; `_shares_its_own_results`).

The code is the same RestrictedPython-compiled code, run with guarded helpers in place of the
checked operators and builtins (FAST_GLOBALS): `+` only adds numbers of less than 64 bits or
texts up to FAST_TEXT characters, `*` only multiplies such numbers, `str`/`round`/`int`/`float`/
`abs` only take such numbers (and `str` short texts, `int`/`float` texts of 100 characters),
`dias_habiles(n)` takes n ≤ FAST_WORKDAYS, `.get` works only on dicts. Any other operand
trips a guard (`_NotFast`), and so does a name not found here: the code, which cannot have had a
side effect (no calls that mutate, no stores but to a fresh scope), then runs in a child, which
gives the real result or the real error.

Why this is safe: such code cannot loop and calls only helpers of constant cost (`len` and
`bool` are O(1); `.get` returns an existing object) whose results are small; comparisons,
`and`/`or`, `not` and subscripts give a boolean or an existing object; displays hold references,
at most as many as the source has elements; `-`, `/` and `//` on numbers give a number at most a
bit longer (its operands are at most 128-bit products, 18-digit case integers or literals), and
on sets (only from displays) a smaller set. So each node costs at most time linear in the size of
its operands — the case's values, and every value that enters a case is plain bounded JSON
(engine.basics.case_values.check: at most 100 000 elements and 2 000 000 characters, 32 levels, integers of
18 digits) — and allocates at most FAST_TEXT characters: the code costs at most
(nodes ≤ MAX_SOURCE) × (value size) elementary C steps and a few MB. `%`, `**`, `<<`, `>>`, `@`,
`~`, slices, comprehensions, f-strings, lambdas, loops and every other call go to a child. The
gateway conditions (`segmento == "verde"`), DMN cells (`puntaje < 35`, `35 <= ? < 65`, `"rojo"`),
assignees, timers (`dias_habiles(5)`), operator parameters and almost every script of the shipped
processes take it (tests/test_sandbox_limits.py), so their speed is what it was.
"""

from __future__ import annotations

import ast
import atexit
import contextvars
import json
import operator
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.basics import case_values, clock
from engine.basics.errors import ValueRefused
from engine.domain.workdays import add_working_days

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
# Dates, times and durations: on a value (or class) of these types every public attribute of its
# type is allowed (`_date_attribute`). They are immutable, small, and their methods give only
# dates, numbers, texts and tuples, so none leads anywhere else; the two that take a format are
# size-checked and the clock readers read the engine's clock.
_DATE_KINDS = (date, dt_time, timedelta)  # datetime is a date
_DATE_ATTRS = frozenset(name for kind in (date, datetime, dt_time, timedelta) for name in dir(kind)
                        if not name.startswith("_")) | {"datetime", "timedelta"}  # the module's names, see CaseDatetime
_CLOCK_READERS = frozenset({"now", "utcnow", "today"})
MAX_DATE_TEXT = 200  # characters of a date format or of a text strptime reads


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


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d*)(?:\.(\*|\d*))?")


def cpe_mod(a, b):
    """`a % b`; as printf-style formatting, widths and precisions stay small and literal."""
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        for match in _PERCENT_SPEC.finditer(text):
            if any(group == "*" or len(group or "") > 3 for group in match.groups()):
                raise SandboxError("formato no permitido en el texto (ancho o precisión demasiado grande o con *)")
    return a % b


MAX_ROUND_DIGITS = 400


def _pow(base, exp, mod=None):
    """`pow()` with the size check of `**` (with a modulus the result stays small)."""
    if mod is None:
        return cpe_pow(base, exp)
    if isinstance(exp, int) and exp.bit_length() > MAX_INT_BITS:
        _too_big("un número")
    return pow(base, exp, mod)


def _round(number, ndigits=None):
    if ndigits is not None and isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise SandboxError(f"round() admite a lo más {MAX_ROUND_DIGITS} dígitos")
    return round(number, ndigits) if ndigits is not None else round(number)


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


def _is_date_kind(obj) -> bool:
    return isinstance(obj, _DATE_KINDS) or (isinstance(obj, type) and issubclass(obj, _DATE_KINDS))


def _date_attribute(obj, name, default):
    """A public attribute of a date, date-time, time or duration (or of its class)."""
    if name in _CLOCK_READERS:  # the engine's clock, whatever date class the code reached
        if isinstance(obj, datetime) or (isinstance(obj, type) and issubclass(obj, datetime)):
            return getattr(CaseDatetime, name)
        return _today
    if name == "strftime":
        if isinstance(obj, type):
            return lambda moment, pattern: _strftime(moment)(pattern)
        return _strftime(obj)
    if name == "strptime":
        return _strptime
    return safer_getattr(obj, name, default)


def _today():
    return CaseDatetime.now().date()


def _date_text(text, what):
    if not isinstance(text, str) or len(text) > MAX_DATE_TEXT or any(len(run) > 3 for run in _digit_runs(text)):
        raise SandboxError(f"{what} no permitido (hasta {MAX_DATE_TEXT} caracteres, anchos de hasta 3 dígitos)")


def _strptime(text, pattern):
    _date_text(pattern, "formato de fecha")
    if not isinstance(text, str) or len(text) > MAX_DATE_TEXT:
        raise SandboxError(f"texto de fecha no permitido (hasta {MAX_DATE_TEXT} caracteres)")
    return CaseDatetime.strptime(text, pattern)


def _getattr(obj, name, default=None):
    if name in _DATE_ATTRS and _is_date_kind(obj):
        return _date_attribute(obj, name, default)
    if name not in _ALLOWED_ATTRS:
        raise SandboxError(f"acceso no permitido al atributo '{name}'")
    if isinstance(obj, str) and name == "join":
        return _join(obj)
    if isinstance(obj, str) and name == "replace":
        return _replace(obj)
    if isinstance(obj, list) and name == "extend":
        return _extend(obj)
    return safer_getattr(obj, name, default)


def _strftime(moment):
    if not isinstance(moment, (date, dt_time)):
        raise SandboxError("strftime necesita una fecha o una hora")

    def strftime(pattern):
        _date_text(pattern, "formato de fecha")
        return moment.strftime(pattern)
    return strftime


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


class CaseDatetime(datetime):
    """`datetime` as model code sees it (SpiffArena offers it to expressions and scripts): `now()`,
    `utcnow()` and `today()` read the engine's clock (UTC), so virtual time moves them too."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return cls.fromisoformat((moment.astimezone(tz) if tz is not None else moment).isoformat())

    @classmethod
    def utcnow(cls):
        return cls.now()

    @classmethod
    def today(cls):
        return cls.now()


# Code written for SpiffWorkflow's examples, which offer the `datetime` module, says
# `datetime.datetime.utcnow()` and `datetime.timedelta(...)`: the class answers those names too.
CaseDatetime.datetime = CaseDatetime
CaseDatetime.timedelta = timedelta


def iso_duration(delta: timedelta) -> str:
    """A timedelta as an ISO 8601 duration ("PT30S", "P2DT3H"), what a timer's timeDuration takes."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    sign, micros = ("-", -micros) if micros < 0 else ("", micros)
    days, rest = divmod(micros, 86400 * 1_000_000)
    hours, rest = divmod(rest, 3600 * 1_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if fraction:
        clock_part += f"{seconds}.{fraction:06d}".rstrip("0") + "S"
    elif seconds or not (days or clock_part):
        clock_part += f"{seconds}S"
    return text + (f"T{clock_part}" if clock_part else "")


def plain_times(value, depth: int = 0):
    """`value` with its dates, date-times and durations as ISO 8601 texts (case values are plain
    JSON): what an expression gives or a script leaves. Deeper than case values may be, nothing is
    changed (the check of the value refuses it)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if depth > case_values.MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [plain_times(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: plain_times(item, depth + 1) for key, item in value.items()}
    return value


def _builtins():
    allowed = dict(safe_builtins)
    for name in ("min", "max", "sum", "list", "dict", "set", "any", "all", "enumerate", "sorted", "reversed"):
        allowed[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("setattr", "delattr", "compile", "__build_class__"):
        allowed.pop(name, None)
    allowed["range"] = _range
    allowed["sum"] = _sum
    allowed["pow"] = _pow
    allowed["round"] = _round
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
    "datetime": CaseDatetime,
    "timedelta": timedelta,
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
        raise SandboxError(syntax_message(exc)) from None
    for node in ast.walk(tree):
        for kind, reason in _FORBIDDEN_NODES.items():
            if isinstance(node, kind):
                raise SandboxError(reason)
        name = getattr(node, "id", None) if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str) and name.startswith("_"):
            raise SandboxError(f"nombre no permitido '{name}' (empieza con '_')")
        if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_ATTRS and node.attr not in _DATE_ATTRS:
            raise SandboxError(f"atributo no permitido '.{node.attr}'")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = node.format_spec
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) for p in parts) or \
                    any(len(digits) > 3 for p in parts for digits in _digit_runs(str(p.value))):
                raise SandboxError("formato no permitido en el texto (ancho o precisión demasiado grande)")
    return tree


_SYNTAX_HINTS = (  # Python's own (English) words -> what an analyst reads
    ("unterminated string", "un texto no tiene su comilla de cierre"),
    ("unterminated triple-quoted", "un texto no tiene sus comillas de cierre"),
    ("was never closed", "un paréntesis o corchete abierto no se cierra"),
    ("unmatched", "un paréntesis o corchete se cierra sin haberse abierto"),
    ("does not match opening", "un paréntesis o corchete se cierra con otro tipo"),
    ("forgot a comma", "¿falta una coma?"),
    ("cannot assign", "no se puede asignar a eso (¿quiso comparar con '=='?)"),
    ("maybe you meant '=='", "¿quiso comparar con '=='?"),
    ("invalid character", "hay un carácter que Python no admite"),
    ("invalid decimal literal", "un número está mal escrito"),
    ("leading zeros", "un número no puede empezar con ceros"),
    ("unexpected indent", "sangría inesperada"),
    ("expected an indented block", "falta la sangría de un bloque"),
    ("unindent does not match", "la sangría no coincide"),
    ("unexpected EOF", "el código termina antes de tiempo"),
    ("expected ':'", "falta ':'"),
    ("null bytes", "el código contiene un carácter nulo"),
)


def syntax_message(exc: SyntaxError) -> str:
    """A Spanish description of a Python syntax error (line, column, and what Python meant)."""
    where = (f" en la línea {exc.lineno}" + (f", columna {exc.offset}" if exc.offset else "")) if exc.lineno else ""
    msg = (exc.msg or "").lower()
    hints = [text for words, text in _SYNTAX_HINTS if words.lower() in msg]
    return f"error de sintaxis de Python{where}" + (f": {'; '.join(hints[:2])}" if hints else "")


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


def _restricted_message(errors) -> str:
    """RestrictedPython's refusals (English) as a Spanish reason, its words kept as detail."""
    text = "; ".join(errors)
    for words, reason in (("Eval calls", "no se permite llamar a eval"), ("Exec calls", "no se permite llamar a exec"),
                          ("invalid variable name", "nombre no permitido"),
                          ("invalid attribute name", "atributo no permitido")):
        if words in text:
            return f"{reason} ({text[:300]})"
    return f"el código usa una construcción no permitida ({text[:300]})"


_TOO_DEEP = "el código está demasiado anidado (divídalo en partes más simples)"


def _compile(source: str, mode: str):
    _check_size(source)
    try:
        tree = _CheckedOperators().visit(_check_ast(source, mode))
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(ast.fix_missing_locations(tree))
    except (RecursionError, MemoryError):
        raise SandboxError(_TOO_DEEP) from None
    except ValueError:  # e.g. a NUL character in the source
        raise SandboxError("el código contiene un carácter no válido (por ejemplo, un carácter nulo)") from None
    if result.errors:
        raise SandboxError(_restricted_message(result.errors))
    return result.code


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    return _compile(source, "eval")


@lru_cache(maxsize=1024)
def compile_script(source: str):
    return _compile(source, "exec")


def check(source: str, mode: str = "eval") -> str | None:
    """Return a Spanish description of why `source` is refused, or None if it is fine."""
    try:
        (compile_expression if mode == "eval" else compile_script)(source)
    except SandboxError as exc:
        return str(exc)
    return None



# Names of SpiffArena's script environment (spiffworkflow-backend) that are not offered here: its
# modules (reached as `modulo.funcion(...)`) and its helper scripts (called by name).
SPIFFARENA_MODULES = frozenset({"calendar", "dateparser", "decimal", "json", "pytz", "random", "re", "time", "uuid"})
SPIFFARENA_HELPERS = frozenset({
    "get_current_user", "get_env", "get_secret", "set_secret", "get_frontend_url", "get_group_members",
    "get_groups_for_user", "get_localtime", "get_process_initiator_user", "get_last_user_completing_task",
    "get_task_data_value", "get_current_task_info", "get_toplevel_process_info", "get_url_for_task",
    "get_url_for_task_with_bpmn_identifier", "get_user", "get_user_properties", "set_user_properties",
    "get_users_assigned_to_task", "get_task_potential_owners", "get_data_sizes", "get_encoded_file_data",
    "get_all_permissions", "markdown_file_download_link", "times_executed_by_user", "user_has_started_instance",
    "update_task_data_with_dictionary", "extract_from_task_data", "generate_markdown_table", "set_feature_flags",
    "refresh_permissions", "fact_service", "delete_process_instances_with_criteria", "get_current_task_data",
    "create_unique_kkv_top_level_key", "filter", "map", "format",
})
FEEL_FUNCTIONS = frozenset({"date", "time", "duration", "number", "string", "substring", "contains", "matches", "today",
                            "now", "floor", "ceiling", "count", "mean", "append", "concatenate"})
HELPERS = ("ahora", "dias_habiles", "datetime", "timedelta")


@lru_cache(maxsize=4096)
def unavailable_names(source: str, mode: str = "eval") -> str | None:
    """A Spanish reason when code that compiles calls a function that does not exist here (case
    values are plain JSON and code cannot define functions, so such a call always fails) or uses a
    SpiffArena module; None otherwise (also for code that does not parse: `check` tells why)."""
    try:
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    assigned = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    known = set(BASE_GLOBALS) | set(BASE_GLOBALS["__builtins__"]) | assigned
    # `raise Error(...)` is meant to stop the case with an error: it does, whatever the name
    raised = {id(node.exc) for node in ast.walk(tree) if isinstance(node, ast.Raise)}
    for node in ast.walk(tree):
        if id(node) in raised:
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in SPIFFARENA_MODULES and node.value.id not in known:
            return (f"el módulo '{node.value.id}' (del entorno de SpiffArena) no está disponible aquí; "
                    f"para fechas y plazos use {', '.join(HELPERS)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in known:
            name = node.func.id
            if name in SPIFFARENA_HELPERS:
                origin = " (una función de SpiffArena)"
            elif name in FEEL_FUNCTIONS:
                origin = " (una función de FEEL; aquí las expresiones se escriben en Python)"
            else:
                origin = ""
            return (f"la función '{name}'{origin} no existe aquí; las funciones propias de este motor son "
                    f"{', '.join(HELPERS)}, más las de Python como len, min, max, round, str, int")
    return None


# -- the fast path ---------------------------------------------------------------------

_FAST_NODES = (
    ast.Expression, ast.Name, ast.Constant, ast.Load, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.IfExp,
    ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
    ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call, ast.Attribute,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)
_FAST_SCRIPT_NODES = (ast.Module, ast.Assign, ast.Store)
FAST_TEXT = 2000  # characters of a text that `+` or str() may build in the fast path
FAST_INT = 2 ** 64  # integers the fast path's arithmetic and conversions take
FAST_WORKDAYS = 1000  # dias_habiles(n) in the fast path


class _NotFast(Exception):
    """A fast-path guard tripped: the code runs in a child instead (it has no side effects yet)."""


def _fast_index(node) -> bool:
    """An index or key that is a name or a constant, or a slice whose bounds and step are constants
    (`fecha[8:10]`): taking it costs at most the size of the value it is taken from, already built."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Slice):
        return all(part is None or (_constant(part) and isinstance(_constant_value(part), int))
                   for part in (node.lower, node.upper, node.step))
    return _constant(node)


def _constant(node) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant))


def _constant_value(node):
    return node.value if isinstance(node, ast.Constant) else -node.operand.value


def _fast_tree(tree, allowed) -> bool:
    calls = set()
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            return False
        if isinstance(node, ast.Subscript) and not _fast_index(node.slice):
            return False
        if isinstance(node, ast.Dict) and any(key is None for key in node.keys):
            return False
        if isinstance(node, ast.Assign) and not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return False
        if isinstance(node, ast.Call):
            if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
                return False
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FAST_CALLS:
                calls.add(id(func))
            elif isinstance(func, ast.Attribute) and func.attr == "get" and len(node.args) in (1, 2):
                calls.add(id(func))
            else:
                return False
    # a name or `.get` may only be there as the function of an allowed call
    return all(id(node) in calls for node in ast.walk(tree) if isinstance(node, ast.Attribute))


def _shares_its_own_results(tree) -> bool:
    """Whether a script puts a name it assigns inside a display (`a1 = [a0, a0]`, `a2 = [a1, a1]` …):
    each line would double a structure of shared references, and comparing or hashing the last one
    would cost 2**lines steps. Within one expression every display is written out in the source,
    so there the cost stays linear in the source."""
    assigned = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    return any(isinstance(inner, ast.Name) and inner.id in assigned
               for node in ast.walk(tree) if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict))
               for inner in ast.walk(node))


@lru_cache(maxsize=4096)
def fast_path(source: str, mode: str = "eval") -> bool:
    """Whether `source` may run in the engine's process: see the module docstring."""
    try:
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if mode == "eval":
        return _fast_tree(tree, _FAST_NODES)
    return _fast_tree(tree, _FAST_NODES + _FAST_SCRIPT_NODES) and not _shares_its_own_results(tree)


def _small_number(value) -> bool:
    return isinstance(value, float) or (isinstance(value, int) and -FAST_INT < value < FAST_INT)


def _fast_add(a, b):
    if _small_number(a) and _small_number(b):
        return a + b
    if isinstance(a, str) and isinstance(b, str) and len(a) + len(b) <= FAST_TEXT:
        return a + b
    raise _NotFast


def _fast_mult(a, b):
    if _small_number(a) and _small_number(b):
        return a * b
    raise _NotFast


def _fast_str(value=""):
    if value is None or isinstance(value, bool) or _small_number(value) or \
            (isinstance(value, str) and len(value) <= FAST_TEXT):
        return str(value)
    raise _NotFast


def _fast_round(number, ndigits=None):
    if _small_number(number) and (ndigits is None or (isinstance(ndigits, int) and -20 <= ndigits <= 20)):
        return round(number) if ndigits is None else round(number, ndigits)
    raise _NotFast


def _fast_convert(kind):
    def convert(value=0):
        if value is None or isinstance(value, bool) or _small_number(value) or \
                (isinstance(value, str) and len(value) <= 100):
            return kind(value)
        raise _NotFast
    return convert


def _fast_number(func):
    def apply(value):
        if _small_number(value):
            return func(value)
        raise _NotFast
    return apply


def _fast_dias_habiles(n):
    if isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= FAST_WORKDAYS:
        return dias_habiles(n)
    raise _NotFast


def _fast_getattr(obj, name, default=None):
    if name == "get" and isinstance(obj, dict):
        return obj.get
    raise _NotFast


def _not_fast(*args, **kwargs):
    raise _NotFast


# each: constant cost (or O(1): len, bool) and a small result, or _NotFast
_FAST_CALLS = {
    "str": _fast_str, "round": _fast_round, "int": _fast_convert(int), "float": _fast_convert(float),
    "abs": _fast_number(abs), "len": len, "bool": bool, "dias_habiles": _fast_dias_habiles, "ahora": lambda: ahora(),
}
FAST_GLOBALS = {
    **{name: _not_fast for name in BASE_GLOBALS if name != "__builtins__"},
    "__builtins__": {"None": None, "True": True, "False": False,
                     **{name: func for name, func in _FAST_CALLS.items() if name not in ("dias_habiles", "ahora")}},
    "_getattr_": _fast_getattr,
    "_getitem_": operator.getitem,
    "cpe_add": _fast_add,
    "cpe_mult": _fast_mult,
    "dias_habiles": _FAST_CALLS["dias_habiles"],
    "ahora": _FAST_CALLS["ahora"],
}


def fast_expression(source, context, external_context=None):
    """Evaluate a fast-path expression here; _NotFast if a guard trips or a name is missing
    here (the child has more builtins and gives the real error)."""
    try:
        return eval(compile_expression(source), _scope(FAST_GLOBALS, context, external_context))
    except NameError:
        raise _NotFast from None


def fast_script(source, context, external_context=None) -> dict:
    """Run a fast-path script (assignments only) here; the values it leaves, or _NotFast."""
    scope = _scope(FAST_GLOBALS, context, external_context)
    try:
        exec(compile_script(source), scope)
    except NameError:
        raise _NotFast from None
    reserved = set(FAST_GLOBALS) | set(external_context or {})
    return {key: scope[key] for key in _names(source, "exec")
            if key in scope and key not in reserved and not key.startswith("_") and not callable(scope[key])}


@lru_cache(maxsize=4096)
def _names(source: str, mode: str) -> frozenset:
    """Every name the code reads, writes or deletes: the only case values it can see or change.
    Called after the code compiled, so it parses."""
    tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        for field in ("name", "rest"):  # match patterns bind names without a Name node
            value = getattr(node, field, None)
            if isinstance(value, str):
                found.add(value)
    return frozenset(found)


# -- running code with the counted iterators and checked operators (what the child does) ----

def _scope(base, context, external_context):
    """The globals code runs with: `base` (FAST_GLOBALS or BASE_GLOBALS), then the external
    context, then the case values (which win)."""
    scope = dict(base)
    if external_context:
        scope.update(external_context)
    scope.update(context)
    return scope


def run_expression(source, context, external_context=None):
    """Evaluate an expression with the counted iterators and checked operators (in the child)."""
    code = compile_expression(source)
    with _Bounded():
        return eval(code, _scope(BASE_GLOBALS, context, external_context))


def run_script(source, context, external_context=None) -> dict:
    """Run a script; returns the plain values it leaves (functions, modules and reserved
    names dropped), the new contents of `context`."""
    code = compile_script(source)
    scope = _scope(BASE_GLOBALS, context, external_context)
    with _Bounded():
        exec(code, scope)
    reserved = set(BASE_GLOBALS) | set(external_context or {})
    return {key: value for key, value in scope.items()
            if key not in reserved and not key.startswith("_") and not callable(value)}


def describe(exc: BaseException) -> str:
    """A Spanish, one-line description of an error raised by model code (type and message)."""
    if isinstance(exc, SandboxError):
        return str(exc)[:1000]
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a message that cannot even be shown
        text = ""
    if isinstance(exc, MemoryError) and not text:
        text = "el código usó demasiada memoria"
    text = " ".join(text.split())[:500]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the sandbox child processes ---------------------------------------------------------

POOL_SIZE = 8  # children per process; a thread waits when all are busy
CHILD_MEMORY_BYTES = 1024 * 1024 * 1024  # RLIMIT_AS of a child (its address space at start: ~28 MB)
CHILD_CPU_SECONDS = 5  # RLIMIT_CPU backstop per request, should the parent be gone
CHILD_GRACE_SECONDS = 0.5  # the parent waits MAX_SECONDS + this, so the child's own message usually wins
MAX_REPLY_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TIMEOUT_MESSAGE = "el código superó {seconds:g} s de ejecución"
_DEAD_MESSAGE = "el código usó demasiada memoria o terminó el proceso de evaluación"


class _ChildGone(Exception):
    pass


class _ChildLate(Exception):
    pass


class _Child:
    """One sandbox child process and its pipes."""

    def __init__(self):
        env = {"PYTHONPATH": _PACKAGE_ROOT, "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-m", "engine.models.sandbox_child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, close_fds=True, cwd=_PACKAGE_ROOT, env=env)
        self.used = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, body: bytes) -> None:
        try:
            self.proc.stdin.write(_HEADER.pack(len(body)) + body)
            self.proc.stdin.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError, OSError):
            raise _ChildGone from None

    def receive(self, deadline: float) -> bytes:
        size = _HEADER.unpack(self._read(_HEADER.size, deadline))[0]
        if size > MAX_REPLY_BYTES:
            raise SandboxError("el resultado del código es demasiado grande")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        chunks, missing = [], size
        while missing:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000))):
                raise _ChildLate
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                raise _ChildGone
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        """SIGKILL and reap (no zombie); closes the pipes."""
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass
        self.forget()

    def forget(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class _Pool:
    def __init__(self, size: int):
        self.pid = os.getpid()
        self.size = size
        self.idle: list[_Child] = []
        self.children: set[_Child] = set()
        self.ready = threading.Condition(threading.Lock())

    def take(self) -> _Child:
        with self.ready:
            while True:
                while self.idle:
                    child = self.idle.pop()
                    if child.alive():
                        return child
                    self.children.discard(child)
                    child.kill()
                if len(self.children) < self.size:
                    placeholder = object()
                    self.children.add(placeholder)
                    break
                self.ready.wait()
        try:
            child = _Child()
        except BaseException:
            with self.ready:
                self.children.discard(placeholder)
                self.ready.notify()
            raise
        with self.ready:
            self.children.discard(placeholder)
            self.children.add(child)
        return child

    def give(self, child: _Child) -> None:
        with self.ready:
            self.idle.append(child)
            self.ready.notify()

    def discard(self, child: _Child) -> None:
        child.kill()
        with self.ready:
            self.children.discard(child)
            self.ready.notify()

    def close(self) -> None:
        with self.ready:
            idle, self.idle = self.idle, []
        for child in idle:
            self.discard(child)


_pool_lock = threading.Lock()
_the_pool: _Pool | None = None


def _pool() -> _Pool:
    global _the_pool
    pool = _the_pool
    if pool is None or pool.pid != os.getpid():
        with _pool_lock:
            if _the_pool is None or _the_pool.pid != os.getpid():
                _the_pool = _Pool(POOL_SIZE)
            pool = _the_pool
    return pool


def _after_fork_in_child() -> None:
    """A forked process starts its own pool; the parent's children stay the parent's."""
    global _pool_lock, _the_pool
    _pool_lock = threading.Lock()
    inherited, _the_pool = _the_pool, None
    for child in list(getattr(inherited, "children", ())):
        if isinstance(child, _Child):
            child.forget()
            child.proc.returncode = -1  # not ours to wait for


def _close_pool() -> None:
    pool = _the_pool
    if pool is not None and pool.pid == os.getpid():
        pool.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_pool)


def _refuse_constant(name):
    raise ValueError(f"constante no permitida: {name}")


def _plain(value, what: str):
    try:
        case_values.check(value)
    except ValueRefused as exc:
        raise SandboxError(f"{what}: {exc.reason}" if not exc.path else
                           f"{what} («{exc.path}»): {exc.reason}") from None


def _in_child(request: dict):
    """Send one request to a child; its answer, or SandboxError."""
    body = json.dumps(request, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    pool = _pool()
    for _attempt in range(2):
        child = pool.take()
        fresh = not child.used
        try:
            child.send(body)
        except _ChildGone:
            pool.discard(child)
            if fresh:
                raise SandboxError(_DEAD_MESSAGE) from None
            continue  # an idle child that had died: once more with a fresh one
        except BaseException:  # interrupted while sending: the child is in an unknown state
            pool.discard(child)
            raise
        child.used = True
        try:
            reply = child.receive(time.monotonic() + MAX_SECONDS + CHILD_GRACE_SECONDS)
        except _ChildLate:
            pool.discard(child)
            raise SandboxError(_TIMEOUT_MESSAGE.format(seconds=MAX_SECONDS)) from None
        except (_ChildGone, OSError):
            pool.discard(child)
            raise SandboxError(_DEAD_MESSAGE) from None
        except BaseException:
            pool.discard(child)
            raise
        break
    else:  # pragma: no cover - two dead children in a row
        raise SandboxError(_DEAD_MESSAGE)
    try:
        answer = json.loads(reply.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict) or not ({"ok"} == set(answer) or set(answer) in ({"error"}, {"error", "last"})):
        pool.discard(child)
        raise SandboxError("respuesta no válida del proceso de evaluación")
    if answer.get("last"):
        pool.discard(child)  # it exits after this answer (MemoryError, RecursionError): reap it now
    else:
        pool.give(child)
    if "error" in answer:
        raise SandboxError(str(answer["error"])[:1000])
    return answer["ok"]


def _request(op: str, source: str, context: dict, external_context, mode: str) -> dict:
    wanted = _names(source, mode)
    data = {key: context[key] for key in wanted if key in context}
    _plain(data, "un dato del caso no es JSON")
    extra = dict(external_context) if external_context else None
    if extra:
        _plain(extra, "el contexto externo no es JSON")
    return {"op": op, "code": source, "data": data, "extra": extra, "now": clock.now().isoformat(),
            "seconds": MAX_SECONDS, "iterations": MAX_ITERATIONS}


_NOTHING = object()


def _here(run, source, context, external_context):
    """Fast-path code run in this process: its result, or _NOTHING when a guard hands it to a
    child (it has had no side effect yet). The model's own error becomes a SandboxError."""
    try:
        return run(source, context, external_context)
    except _NotFast:
        return _NOTHING
    except Exception as exc:  # noqa: BLE001 - the model's error, with its type and message
        raise SandboxError(describe(exc)) from None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment: fast-path expressions here, everything else in a
    sandbox child. Every error the model's code causes is a SandboxError with a Spanish message."""

    def __init__(self):
        super().__init__(BASE_GLOBALS)

    def evaluate(self, expression, context, external_context=None):
        compile_expression(expression)  # refused code: its reason, without a round trip
        value = _here(fast_expression, expression, context, external_context) if fast_path(expression) else _NOTHING
        if value is _NOTHING:
            value = _in_child(_request("eval", expression, context, external_context, "eval"))
        _plain(value, "la expresión dio un valor que no es JSON")  # whichever way it ran (NaN, a set…)
        return value

    def execute(self, script, context, external_context=None):
        compile_script(script)
        wanted = _names(script, "exec")
        result = _here(fast_script, script, context, external_context) if fast_path(script, "exec") else _NOTHING
        if result is _NOTHING:
            result = _in_child(_request("exec", script, context, external_context, "exec"))
        if not isinstance(result, dict) or not set(result) <= wanted:
            raise SandboxError("respuesta no válida del proceso de evaluación")
        try:
            case_values.check_fields(result)
        except ValueRefused as exc:
            raise SandboxError(f"el script dejó en «{exc.path}» un valor que no es JSON: {exc.reason}") from None
        for key in wanted - set(BASE_GLOBALS) - set(external_context or {}):
            if key in result:
                context[key] = result[key]
            else:
                context.pop(key, None)
        return True

    def call_service(self, context, **kwargs):
        raise SandboxError("los servicios se invocan a través del motor")
