"""Expressions and scripts run in a restricted environment; escape attempts are refused
at deploy time (check) and, failing that, at run time."""

from __future__ import annotations

import pytest

from engine.models import sandbox

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


# -- bounded time and memory (issue 8: "bounded time and memory") ------------------------

BOMBS = [
    ("'x' * 10 ** 9", "demasiado grande"),
    ("[0] * 10 ** 8", "demasiado grande"),
    ("10 ** 10 ** 6", "demasiado grande"),
    ("1 << 10 ** 7", "demasiado grande"),
    ("len(range(10 ** 9))", "demasiado grande"),
    ("sum([[0] * 1000] * 1000, [])", "solo suma números"),
    ("','.join(['x' * 1000] * 1000)", "demasiado grande"),
    ("('x' * 50000).replace('x', 'xxxxx')", "demasiado grande"),
    ("'%999999999d' % 1", "formato no permitido"),
    ("len([i for i in range(100000) for j in range(100000)])", "pasos de ciclo"),
    ("sum(1 for i in range(100000) for j in range(100000))", "pasos de ciclo"),
]


@pytest.mark.parametrize("expression, reason", BOMBS)
def test_resource_bombs_in_expressions_stop_with_a_reason(expression, reason):
    env = sandbox.RestrictedEnvironment()
    with pytest.raises(sandbox.SandboxError, match=reason):
        env.evaluate(expression, {})


SCRIPT_BOMBS = [
    ("a = [1]\nfor i in range(60):\n    a = a + a", "demasiado grande"),
    ("a = [1]\nfor i in range(60):\n    a.extend(a)", "demasiado grande"),
    ("t = 'ab'\nfor i in range(60):\n    t += t", "demasiado grande"),
    ("n = 2\nfor i in range(40):\n    n = n * n", "demasiado grande"),
    ("total = 0\nfor i in range(100000):\n    for j in range(100000):\n        total += 1", "pasos de ciclo"),
]


@pytest.mark.parametrize("script, reason", SCRIPT_BOMBS)
def test_resource_bombs_in_scripts_stop_with_a_reason(script, reason):
    env = sandbox.RestrictedEnvironment()
    with pytest.raises(sandbox.SandboxError, match=reason):
        env.execute(script, {})


def test_format_specs_with_huge_widths_are_refused_at_deploy():
    assert "formato no permitido" in sandbox.check("f'{x:>999999999}'")
    assert sandbox.check("f'{x:.1f} UF'") is None


def test_time_budget_stops_slow_loops(monkeypatch):


    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.05)
    monkeypatch.setattr(sandbox, "MAX_ITERATIONS", 10 ** 9)
    env = sandbox.RestrictedEnvironment()
    with pytest.raises(sandbox.SandboxError, match="s de ejecución"):
        env.execute("total = 0\nfor i in range(100000):\n    total += len(sorted(range(2000)))", {})


def test_ordinary_code_runs_within_the_bounds():
    env = sandbox.RestrictedEnvironment()
    data = {"respuestas": {f"p{i}": i for i in range(200)}, "nombre": "Viña"}
    assert env.evaluate("sum(v * 2 for v in respuestas.values())", data) == 2 * sum(range(200))
    assert env.evaluate("'%s (%d)' % (nombre, 3)", data) == "Viña (3)"
    assert env.evaluate("', '.join([nombre] * 3)", data) == "Viña, Viña, Viña"
    assert env.evaluate("2 ** 10 + 10 % 3", data) == 1025
    context = {"n": 1}
    env.execute("for i in range(1000):\n    n += i", context)
    assert context["n"] == 1 + sum(range(1000))


# -- dates, times and durations: every public attribute of their types, and only on them --------------

DATE_EXPRESSIONS = [  # (expression, what it gives with the engine's clock at 2026-03-02T09:00:00+00:00)
    ("datetime.now().timestamp()", 1772442000.0),
    ("datetime.datetime.utcnow().timestamp()", 1772442000.0),  # SpiffWorkflow's examples offer the module
    ("datetime.timedelta(days=1)", "P1D"),
    ("datetime.now().isocalendar()[1]", 10),
    ("datetime.now().replace(day=1).isoformat()", "2026-03-01T09:00:00+00:00"),
    ("datetime.now().time().strftime('%H:%M')", "09:00"),
    ("datetime.now().toordinal() - datetime.fromisoformat('2026-01-01').toordinal()", 60),
    ("timedelta(hours=36).days", 1),
    ("timedelta(hours=36).microseconds", 0),
    ("datetime.strptime('02-03-2026', '%d-%m-%Y').isoformat()", "2026-03-02T00:00:00"),
    ("datetime.fromtimestamp(0).isoformat()", "1970-01-01T00:00:00"),  # the child runs in UTC
    # whatever date class the code reaches, the clock it reads is the engine's
    ("datetime.now().date().today()", "2026-03-02"),
    ("datetime.min.now().isoformat()", "2026-03-02T09:00:00+00:00"),
]


@pytest.mark.parametrize("expression,expected", DATE_EXPRESSIONS)
def test_dates_offer_the_public_attributes_of_their_types(expression, expected):
    from datetime import UTC, datetime

    from engine.basics import clock

    assert sandbox.check(expression) is None
    with clock.using(clock.VirtualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))):
        assert ENV.evaluate(expression, {}) == expected


DATE_REFUSALS = [  # date attributes on anything else, and formats that would grow without bound
    ("'texto'.timestamp()", "atributo 'timestamp'"),
    ("respuestas.total_seconds()", "atributo 'total_seconds'"),
    ("[1].isocalendar", "atributo 'isocalendar'"),
    ("datetime.now().strftime('%0999999999Y')", "formato de fecha"),
    ("datetime.strptime('1', '%0999999999Y')", "formato de fecha"),
    ("datetime.strptime('1' * 1000, '%Y')", "texto de fecha"),
    ("datetime.strftime('no es fecha', '%Y')", "strftime necesita una fecha"),
]


@pytest.mark.parametrize("expression,says", DATE_REFUSALS)
def test_date_attributes_only_on_dates_and_small_formats(expression, says):
    with pytest.raises(sandbox.SandboxError, match=says):
        ENV.evaluate(expression, {"respuestas": {"x": 1}})


def test_the_date_attributes_are_the_public_names_of_the_date_types():
    from datetime import date, datetime, time, timedelta

    public = {n for kind in (date, datetime, time, timedelta) for n in dir(kind) if not n.startswith("_")}
    assert sandbox._DATE_ATTRS == public | {"datetime", "timedelta"}
    assert not any(name.startswith("_") for name in sandbox._DATE_ATTRS)
