"""What a case may hold: plain JSON, checked where values enter.

Every value that enters a case — form answers (web, API, CLI), start data, script and operator
results, values given when a failed step is skipped, migration data — passes `check` first. It
accepts only what JSON itself can say and what every store and reader of a case handles:

- `None`, booleans, integers of at most `MAX_INT_DIGITS` digits, finite floats;
- text that is valid Unicode (no lone surrogates) without NUL characters (PostgreSQL's JSON
  refuses them);
- lists (and tuples, stored as lists) and dicts whose keys are such texts;
- no dict key that SpiffWorkflow's serializer interprets (`typename`), so a stored case can always
  be deserialized;
- at most `MAX_DEPTH` levels of nesting, `MAX_NODES` values and `MAX_TEXT` characters in all.

The walk is iterative, so no nesting depth can exhaust the interpreter's stack. A refused value
raises `ValueRefused` with a Spanish message naming where in the value the problem is.
"""

from __future__ import annotations

import math
import re

from engine.basics.errors import ValueRefused

MAX_DEPTH = 32  # nested lists and dicts
MAX_NODES = 100_000  # values of any kind, containers included
MAX_TEXT = 2_000_000  # characters of all texts and keys together
MAX_KEY = 200  # characters of one dict key
MAX_INT_DIGITS = 18  # |n| < 10**18: fits a 64-bit integer column and any JSON reader
RESERVED_KEYS = frozenset({"typename"})  # SpiffWorkflow's serializer turns such dicts into objects

_INT_LIMIT = 10 ** MAX_INT_DIGITS
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _text_problem(text: str) -> str | None:
    found = _BAD_CHARS.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "el texto contiene un carácter nulo"
    return "el texto no es Unicode válido (contiene un sustituto aislado)"


def _printable(key) -> str:
    """A key as it may appear in a message (a refused key is shown escaped)."""
    text = key if isinstance(key, str) else repr(key)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= 40 else text[:40] + "…"


def check(value, path: str = "") -> None:
    """Raise ValueRefused unless `value` is plain, bounded JSON (see the module docstring)."""
    nodes = 0
    text = 0
    pending = [(value, path, 0)]
    while pending:
        item, where, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ValueRefused(path, f"tiene más de {MAX_NODES} elementos")
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not -_INT_LIMIT < item < _INT_LIMIT:
                raise ValueRefused(where, f"el número entero tiene más de {MAX_INT_DIGITS} cifras")
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ValueRefused(where, "el número no es finito (NaN o infinito)")
            continue
        if isinstance(item, str):
            text += len(item)
            if text > MAX_TEXT:
                raise ValueRefused(path, f"los textos suman más de {MAX_TEXT} caracteres")
            problem = _text_problem(item)
            if problem:
                raise ValueRefused(where, problem)
            continue
        if isinstance(item, (list, tuple)):
            if depth >= MAX_DEPTH:
                raise ValueRefused(where, f"anida más de {MAX_DEPTH} niveles de listas u objetos")
            if len(item) > MAX_NODES:
                raise ValueRefused(where, f"tiene más de {MAX_NODES} elementos")
            pending.extend((child, _join(where, index), depth + 1) for index, child in enumerate(item))
            continue
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise ValueRefused(where, f"anida más de {MAX_DEPTH} niveles de listas u objetos")
            if len(item) > MAX_NODES:
                raise ValueRefused(where, f"tiene más de {MAX_NODES} elementos")
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ValueRefused(where, f"la clave {_printable(key)} no es un texto")
                problem = _text_problem(key)
                if problem:
                    raise ValueRefused(where, f"la clave «{_printable(key)}»: {problem}")
                if len(key) > MAX_KEY:
                    raise ValueRefused(where, f"la clave «{_printable(key)}» tiene más de {MAX_KEY} caracteres")
                if key in RESERVED_KEYS:
                    raise ValueRefused(where, f"la clave «{key}» está reservada por el motor")
                text += len(key)
                pending.append((child, _join(where, key), depth + 1))
            if text > MAX_TEXT:
                raise ValueRefused(path, f"los textos suman más de {MAX_TEXT} caracteres")
            continue
        raise ValueRefused(where, f"un valor de tipo «{type(item).__name__}» no es JSON (use texto, número, "
                                  "verdadero/falso, lista u objeto)")


def check_fields(data: dict) -> None:
    """`check` for a dict of named values (form answers, start data, script results): the
    path of a problem starts with the field's name."""
    if not isinstance(data, dict):
        raise ValueRefused("", "se esperaba un objeto JSON con los campos")
    check(data)


def displayable(value):
    """A copy of a value that is safe to show or encode, whatever was stored before these
    checks existed: lone surrogates and NUL become U+FFFD, non-finite floats become None,
    non-text keys become text, nesting past MAX_DEPTH becomes "…". Iterative, like `check`."""
    root: list = [None]
    pending = [(value, root, 0, 0)]
    while pending:
        item, parent, slot, depth = pending.pop()
        if isinstance(item, str):
            result = _BAD_CHARS.sub("\ufffd", item)
        elif isinstance(item, float):
            result = item if math.isfinite(item) else None
        elif item is None or isinstance(item, bool):
            result = item
        elif isinstance(item, int):
            result = item if -_INT_LIMIT < item < _INT_LIMIT else "…"
        elif depth >= MAX_DEPTH:
            result = "…"
        elif isinstance(item, (list, tuple)):
            result = [None] * len(item)
            pending.extend((child, result, index, depth + 1) for index, child in enumerate(item))
        elif isinstance(item, dict):
            result = {}
            for key, child in item.items():
                name = _BAD_CHARS.sub("\ufffd", key if isinstance(key, str) else str(key))
                result[name] = None
                pending.append((child, result, name, depth + 1))
        else:
            result = f"({type(item).__name__})"
        parent[slot] = result
    return root[0]
