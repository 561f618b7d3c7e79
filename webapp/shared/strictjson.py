"""JSON in and out of the web app, the API and the CLI, strictly.

In: `loads` reads JSON text as a strict reader would and checks the result with engine.basics.case_values:
NaN and ±Infinity literals, numbers that overflow to infinity, lone surrogates (also as \\u escapes),
integers of more than 18 digits, repeated keys in an object and nesting past the limit are refused
with a Spanish message naming where (`ValueRefused`); text that is not JSON at all raises
`NotJson`. Both are ValueErrors.

Out: `dumps` never writes NaN or Infinity (`allow_nan=False`) nor invalid Unicode: a value that
cannot be written strictly (data stored before these checks existed) is written repaired with
engine.basics.case_values.displayable. `StrictJSONProvider` makes Flask's `jsonify` do the same.
"""

from __future__ import annotations

import json
import re

from flask.json.provider import DefaultJSONProvider

from engine.basics import case_values
from engine.basics.errors import ValueRefused

__all__ = ["NotJson", "ValueRefused", "loads", "parse", "dumps", "StrictJSONProvider"]

_BIG = 10 ** (case_values.MAX_INT_DIGITS + 1)


class NotJson(ValueError):
    """Text that is not JSON; the message says where (line and column) when it can."""


class _Repeated(Exception):
    def __init__(self, key):
        self.key = key


def _constant(name):  # NaN, Infinity, -Infinity: kept as floats so that `case_values.check` names the field
    return float(name.replace("Infinity", "inf"))


def _integer(digits: str) -> int:
    # past MAX_INT_DIGITS the exact value does not matter: it is refused by `case_values.check`, which
    # names the field, and Python's own limit (4300 digits) never raises an English message here
    if len(digits.lstrip("-")) > case_values.MAX_INT_DIGITS + 1:
        return -_BIG if digits.startswith("-") else _BIG
    return int(digits)


def _no_repeats(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Repeated(key)
        result[key] = value
    return result


def parse(text):
    """JSON text (str or bytes) as Python values, refusing repeated keys; NaN and ±Infinity are
    read as floats for `case_values.check` to refuse. Raises NotJson or ValueRefused."""
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_integer, object_pairs_hook=_no_repeats)
    except _Repeated as exc:  # where the object is, the hook cannot know
        key = case_values.displayable(exc.key)
        raise ValueRefused("", f"la clave «{key}» está repetida en un mismo objeto") from None
    except json.JSONDecodeError as exc:
        raise NotJson(f"no es JSON válido: {_reason(exc.msg)} (línea {exc.lineno}, columna {exc.colno})") from None
    except RecursionError:
        raise NotJson(f"no es JSON válido: anida demasiados niveles (máximo {case_values.MAX_DEPTH})") from None
    except ValueError:  # bytes that are not UTF-8/16/32 text
        raise NotJson("no es JSON válido: el texto no está codificado en UTF-8") from None


def loads(text):
    """`parse`, then `case_values.check` on the whole value."""
    value = parse(text)
    case_values.check(value)
    return value


_REASONS = {
    "Expecting value": "se esperaba un valor",
    "Expecting property name enclosed in double quotes": "se esperaba el nombre de un campo entre comillas dobles",
    "Expecting ',' delimiter": "falta una coma",
    "Expecting ':' delimiter": "faltan los dos puntos",
    "Extra data": "hay texto después del valor",
    "Unterminated string starting at": "un texto no está cerrado",
    "Invalid control character at": "un texto contiene un carácter de control",
    "Invalid \\escape": "una secuencia de escape no es válida",
    "Invalid \\uXXXX escape": "una secuencia \\u no es válida",
}


def _reason(message: str) -> str:
    return _REASONS.get(message, message)


# a \\u escape of a high surrogate without its low one after it, or of a low one without its high one
_LONE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                          r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _writable(value, **kwargs) -> str:
    text = json.dumps(value, allow_nan=False, **kwargs)
    if not kwargs.get("ensure_ascii", True):
        text.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError (a ValueError)
    elif _LONE_ESCAPE.search(text):
        raise ValueError("lone surrogate")
    return text


def dumps(value, **kwargs) -> str:
    """json.dumps, strict: what cannot be written as valid JSON and Unicode is written repaired
    (case_values.displayable: NaN and infinities as null, invalid characters as U+FFFD)."""
    try:
        return _writable(value, **kwargs)
    except (ValueError, RecursionError):
        pass
    default = kwargs.get("default")
    plain = json.loads(json.dumps(value, default=default, ensure_ascii=False)) if default else value
    return _writable(case_values.displayable(plain), **kwargs)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON (jsonify, request.get_json) without NaN or Infinity in either direction."""

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return dumps(obj, **kwargs)

    def loads(self, s, **kwargs):
        def refuse(name):
            raise ValueError(f"{name} no es un valor JSON")
        kwargs.setdefault("parse_constant", refuse)
        return json.loads(s, **kwargs)
