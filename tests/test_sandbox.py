"""Expressions and scripts run in a restricted environment; escape attempts are refused
at deploy time (check) and, failing that, at run time."""

from __future__ import annotations

import pytest

from engine import sandbox

ENV = sandbox.RestrictedEnvironment()

ALLOWED = [
    ('puntaje * 0.6 + 10', {"puntaje": 50}, 40.0),
    ('round(0.6 * a + 0.4 * b, 1)', {"a": 33.3, "b": 66.6}, 46.6),
    ('respuestas.get("x") == "regular"', {"respuestas": {"x": "regular"}}, True),
    ('tamano["tramo"] in ("micro", "grande")', {"tamano": {"tramo": "micro"}}, True),
    ('"tpe_" + tipo', {"tipo": "bienes"}, "tpe_bienes"),
    ('max(len(lista), 2)', {"lista": [1, 2, 3]}, 3),
    ('sum([x for x in valores if x > 1])', {"valores": [1, 2, 3]}, 5),
    ('str(n) + " casos"', {"n": 4}, "4 casos"),
    ('a if b else c', {"a": 1, "b": False, "c": 2}, 2),
]


@pytest.mark.parametrize("expression,data,expected", ALLOWED)
def test_allowed_expressions(expression, data, expected):
    assert sandbox.check(expression) is None
    assert ENV.evaluate(expression, dict(data)) == expected


def test_script_assigns_case_data_only():
    data = {"a": 1}
    ENV.execute("b = a + 1\nc = [b, b]\nd = {'x': c}\ndel a", data)
    assert data == {"b": 2, "c": [2, 2], "d": {"x": [2, 2]}}


ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__mro__]",
    "getattr(1, '__class__')",
    "open('/etc/passwd').read()",
    "exec('import os')",
    "eval('1+1')",
    "compile('1', 'x', 'eval')",
    "globals()",
    "vars()",
    "dir()",
    "type(1)",
    "(lambda: 1)()",
    "'{0.__class__}'.format(1)",
    "respuestas.__class__",
    "respuestas.pop('x')",
    "breakpoint()",
    "input()",
    "help()",
    "object.__subclasses__()",
    "_getattr_(1, 'x')",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempts_are_refused(expression):
    refused_at_check = sandbox.check(expression) is not None
    if not refused_at_check:
        with pytest.raises(Exception):  # noqa: B017 - any refusal is fine, running is not
            ENV.evaluate(expression, {"respuestas": {"x": 1}})


SCRIPT_ESCAPES = [
    ("import os", "no se permiten imports"),
    ("from os import system", "no se permiten imports"),
    ("def f():\n    return 1", "no se permite definir funciones"),
    ("class A:\n    pass", "no se permite definir clases"),
    ("while True:\n    pass", "no se permiten ciclos 'while'"),
    ("x = ().__class__", "nombre no permitido '__class__'"),
    ("global y\ny = 1", "no se permite 'global'"),
    ("try:\n    x = 1\nexcept Exception:\n    pass", "no se permite 'try'"),
    ("x = (", "error de sintaxis"),
    ("x = 1\n" * 1000, "supera"),
]


@pytest.mark.parametrize("script,reason", SCRIPT_ESCAPES)
def test_script_rules_name_the_reason(script, reason):
    assert reason in sandbox.check(script, "exec")
