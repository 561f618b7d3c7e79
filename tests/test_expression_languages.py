"""Models drawn elsewhere (issue 17, items 6 and 7): SpiffArena's `timedelta`/`datetime` run in the
sandbox (a timer with one starts, waits and fires); what does not run here is refused at validate,
naming the element; expressions in JUEL, FEEL, XPath, cron or bare ISO 8601 are refused naming the
language, saying that expressions here are Python, and giving the Python equivalent where it is
mechanical; Camunda's `camunda:decisionRef` names the decision like `calledDecisionId`."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.basics.errors import errors_of
from engine.models import expression_languages, sandbox
from tests.minimal_models import FORM, NSDECL, bpmn, decision, dmn, flow, script, user

END = '<bpmn:endEvent id="E"/>\n'
PYTHON = "aquí las expresiones se escriben en Python"


def _condition_model(condition: str) -> bytes:
    return bpmn("p_c", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "G")
                + '<bpmn:exclusiveGateway id="G" default="F3"/>'
                + f'<bpmn:sequenceFlow id="F2" name="Aprobado" sourceRef="G" targetRef="U">'
                  f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>"
                + flow("F3", "G", "E") + user("U") + flow("F4", "U", "E") + END)


def _timer_model(kind: str, expression: str) -> bytes:
    return bpmn("p_t", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "T")
                + '<bpmn:intermediateCatchEvent id="T" name="Espera"><bpmn:timerEventDefinition id="TD">'
                  f"<bpmn:{kind}>{escape(expression)}</bpmn:{kind}></bpmn:timerEventDefinition>"
                  "</bpmn:intermediateCatchEvent>"
                + flow("F2", "T", "U") + user("U") + flow("F3", "U", "E") + END)


def _errors(engine, files) -> list[str]:
    return [str(p) for p in errors_of(engine.validate(files))]


# -- item 7: other expression languages in conditions -----------------------------------------------

CONDITIONS = [  # (condition, language named, Python equivalent or None)
    ("${score > 5}", "JUEL", "score > 5"),
    ("#{approved}", "JUEL", "approved"),
    ("${a && b}", "JUEL", "a and b"),
    ("${a || !b}", "JUEL", "a or not b"),
    ("${!rechazado}", "JUEL", "not rechazado"),
    ("${monto gt 100 and region eq 'CL-RM'}", "JUEL", "monto > 100 and region == 'CL-RM'"),
    ("${monto ge 10 or monto le 2}", "JUEL", "monto >= 10 or monto <= 2"),
    ("${segmento != 'rojo'}", "JUEL", "segmento != 'rojo'"),
    ("${empty comentario}", "JUEL", "not comentario"),
    ("${x == null}", "JUEL", "x == None"),
    ("${aprobado ? 1 : 2}", "JUEL", None),
    ("${execution.getVariable('monto') > 100}", "JUEL", "monto > 100"),
    ("${execution.setVariable('a', 1)}", "JUEL", None),
    ("x && y", "JUEL o Java", "x and y"),
    ("score in [5..8]", "FEEL", "5 <= score <= 8"),
    ("score in ]5..8[", "FEEL", "5 < score < 8"),
    ("score in [5..8)", "FEEL", "5 <= score < 8"),
    ("[5..8]", "FEEL", "5 <= variable <= 8"),
    ('segmento = "verde"', "FEEL", 'segmento == "verde"'),
    ("if x > 1 then true else false", "FEEL", None),
    ('fecha < date and time("2026-01-01T00:00:00")', "FEEL", None),
    ('"verde", "amarillo"', "FEEL", None),
    ("/pedido/monto > 5", "XPath", None),
    ("bpmn:getDataObject('monto')", "XPath", "monto"),
    ("aprobada == true", "FEEL o JUEL", "aprobada == True"),
    ("not (x == null) and y != false", "FEEL o JUEL", "not (x == None) and y != False"),
]


@pytest.mark.parametrize("condition,language,equivalent", CONDITIONS)
def test_a_condition_in_another_language_names_it_and_its_python(engine, condition, language, equivalent):
    [message] = _errors(engine, [FORM, ("c.bpmn", _condition_model(condition))])
    assert "sequenceFlow F2 (Aprobado)" in message
    assert f"está en {language}" in message and PYTHON in message
    if equivalent:
        assert f"escriba «{equivalent}»" in message
        assert sandbox.check(equivalent) is None  # the equivalent offered is Python the sandbox runs
    assert "invalid syntax" not in message


def test_the_python_equivalent_deploys_and_routes_the_case(engine):
    files = [FORM, ("c.bpmn", _condition_model("score > 5"))]
    assert engine.validate(files) == []
    engine.deploy(files)
    assert [t["bpmn_id"] for t in engine.ready_tasks(case_id=engine.start("p_c", {"score": 7}))] == ["U"]
    assert engine.ready_tasks(case_id=engine.start("p_c", {"score": 3})) == []


@pytest.mark.parametrize("text,python", [
    ("true", "True"), ("false", "False"), ("null", "None"), ("x == true", "x == True"),
    ("x in [true, null]", "x in [True, None]"),
    ("True", None), ("'true'", None), ('"es true"', None), ("datos.true", None), ("truex", None), ("es_true", None),
    ("'sin cerrar", None), ("", None),
])
def test_feel_literals_are_written_as_python(text, python):
    assert expression_languages.literals(text) == python


def test_valid_python_that_looks_like_feel_is_not_refused(engine):
    for condition in ("not(x)", "a == b", "x in [5, 8]"):
        assert engine.validate([FORM, ("c.bpmn", _condition_model(condition))]) == [], condition


def test_a_plain_python_typo_gets_a_spanish_message_without_python_english(engine):
    [message] = _errors(engine, [FORM, ("c.bpmn", _condition_model("score > (5"))])
    assert "sequenceFlow F2 (Aprobado)" in message and "error de sintaxis de Python" in message
    assert "paréntesis" in message and "never closed" not in message


# -- items 6 and 7: timers ------------------------------------------------------------------------

TIMER_REFUSALS = [  # (kind, expression, what the message says)
    ("timeCycle", "0 0 * * * ?", "está en cron"),
    ("timeCycle", "0 0/15 * * * ?", "está en cron"),
    ("timeDuration", "PT30S", 'sin comillas (así lo escribe Camunda); aquí las expresiones se escriben en Python'),
    ("timeDate", "2026-03-10T09:00:00", "sin comillas"),
    ("timeCycle", "R3/PT1H", "sin comillas"),
    ("timeDate", "P5D", 'escriba «"P5D"», y como es una duración, use un temporizador timeDuration'),
    ("timeDuration", "${duracion}", "está en JUEL"),
    ("timeDate", "timedelta(days=1)", "da una duración, y timeDate necesita una fecha"),
    ("timeDuration", "dias_habiles(5)", "da una fecha, y timeDuration necesita una duración"),
    ("timeDuration", "(datetime.now() + timedelta(days=1)).isoformat()", "da una fecha"),
    ("timeDuration", "datetime.datetime.utcnow() + datetime.timedelta(hours=1)", "da una fecha"),
    ("timeDuration", '"5 minutos"', "no es válido para timeDuration"),
    ("timeDate", '"P5D"', "no es válido para timeDate"),
    ("timeCycle", "timedelta(hours=1)", "timeCycle necesita un intervalo repetido"),
    ("timeDuration", "30", "no es un texto"),
    ("timeDuration", "dateparser.parse('mañana')", "el módulo 'dateparser'"),
]


@pytest.mark.parametrize("kind,expression,said", TIMER_REFUSALS)
def test_a_timer_the_case_cannot_run_is_refused_naming_it(engine, kind, expression, said):
    [message] = _errors(engine, [FORM, ("t.bpmn", _timer_model(kind, expression))])
    assert "intermediateCatchEvent T (Espera)" in message and said in message


def test_the_quoted_iso_value_offered_for_a_bare_one_deploys(engine):
    message = _errors(engine, [FORM, ("t.bpmn", _timer_model("timeDuration", "PT30S"))])[0]
    assert 'escriba «"PT30S"»' in message
    assert engine.validate([FORM, ("t.bpmn", _timer_model("timeDuration", '"PT30S"'))]) == []


SPIFFARENA_TIMERS = [  # (kind, expression, seconds until it fires)
    ("timeDuration", "timedelta(seconds=30)", 30),
    ("timeDuration", "timedelta(minutes=1) * 2", 120),
    ("timeDuration", "timedelta(days=1, hours=2)", 26 * 3600),
    ("timeDate", "datetime.now() + timedelta(hours=2)", 7200),
    ("timeDate", "(datetime.now() + timedelta(minutes=5)).isoformat()", 300),
]


@pytest.mark.parametrize("kind,expression,seconds", SPIFFARENA_TIMERS)
def test_a_spiffarena_timer_starts_waits_and_fires(engine, clock, kind, expression, seconds):
    from datetime import timedelta

    files = [FORM, ("t.bpmn", _timer_model(kind, expression))]
    assert engine.validate(files) == []
    engine.deploy(files)
    case_id = engine.start("p_t")
    case = engine.case(case_id)
    assert case["status"] == "active" and case["error"] is None
    assert case["next_timer_at"].startswith((clock.now() + timedelta(seconds=seconds)).isoformat()[:19])
    clock.advance(seconds=seconds - 1)
    assert engine.fire_due_timers() == 0 and engine.ready_tasks(case_id=case_id) == []
    clock.advance(seconds=2)
    assert engine.fire_due_timers() == 1
    assert [t["bpmn_id"] for t in engine.ready_tasks(case_id=case_id)] == ["U"]


# -- item 6: SpiffArena's script environment ------------------------------------------------------

def _script_model(text: str, script_format: str | None = None) -> bytes:
    task = script("SC", escape(text))
    if script_format:
        task = task.replace('<bpmn:scriptTask id="SC">', f'<bpmn:scriptTask id="SC" scriptFormat="{script_format}">')
    return bpmn("p_s", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "SC") + task + flow("F2", "SC", "U")
                + user("U") + flow("F3", "U", "E") + END)


def test_a_script_keeps_dates_and_durations_as_iso_texts(engine, clock):
    files = [FORM, ("s.bpmn", _script_model(
        "inicio = datetime.now()\nplazo = timedelta(days=2)\nvence = (datetime.now() + plazo).date()\n"
        "dias = (datetime.now() - datetime.fromisoformat('2026-03-01T09:00:00+00:00')).days\n"
        "texto = datetime.now().strftime('%d-%m-%Y')"))]
    assert engine.validate(files) == []
    engine.deploy(files)
    data = engine.case(engine.start("p_s"))["data"]
    assert data["inicio"] == clock.now().isoformat()
    assert data["plazo"] == "P2D" and data["vence"] == "2026-03-04" and data["dias"] == 1
    assert data["texto"] == "02-03-2026"


def test_a_date_format_stays_small():
    env = sandbox.RestrictedEnvironment()
    with pytest.raises(sandbox.SandboxError, match="formato de fecha"):
        env.evaluate("datetime.now().strftime('%0999999999Y')", {})
    assert env.evaluate("timedelta(hours=1) + timedelta(minutes=30)", {}) == "PT1H30M"


SCRIPT_REFUSALS = [  # (script, scriptFormat, what the message says)
    ("usuario = get_current_user()", None, "la función 'get_current_user' (una función de SpiffArena) no existe"),
    ("zona = pytz.timezone('America/Santiago')", None, "el módulo 'pytz' (del entorno de SpiffArena)"),
    ("x = json.dumps(datos)", None, "el módulo 'json'"),
    ("x = fecha('2026-01-01')", None, "la función 'fecha' no existe aquí"),
    ("x = date('2026-01-01')", None, "una función de FEEL"),
    ("var x = 1;", "javascript", "el script está en javascript (scriptFormat)"),
    ("def x = execution.getVariable('a')", "groovy", "el script está en groovy"),
]


@pytest.mark.parametrize("text,script_format,said", SCRIPT_REFUSALS)
def test_a_script_that_cannot_run_here_is_refused_naming_why(engine, text, script_format, said):
    [message] = _errors(engine, [FORM, ("s.bpmn", _script_model(text, script_format))])
    assert "scriptTask SC" in message and said in message


def test_a_python_script_marked_with_another_format_still_deploys(engine):
    assert engine.validate([FORM, ("s.bpmn", _script_model("x = len('abc')", "groovy"))]) == []


def test_a_name_the_script_assigns_may_be_called(engine):
    assert engine.validate([FORM, ("s.bpmn", _script_model("f = len\nx = f('abc')"))]) == []


# -- item 7: camunda:decisionRef --------------------------------------------------------------------

CAMUNDA_NS = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'


def _rule_model(attributes: str) -> bytes:
    body = ('<bpmn:startEvent id="S"/>' + flow("F1", "S", "R")
            + f'<bpmn:businessRuleTask id="R" name="Clasificar" {attributes}/>'
            + flow("F2", "R", "U") + user("U") + flow("F3", "U", "E") + END)
    return bpmn("p_r", body).replace(NSDECL.encode(), f"{NSDECL} {CAMUNDA_NS}".encode())


DECISIONS = ("d.dmn", dmn("defs", decision("clasificar", "segmento", "verde")))


def test_camunda_decision_ref_names_the_decision(engine):
    files = [FORM, DECISIONS, ("r.bpmn", _rule_model('camunda:decisionRef="clasificar"'))]
    assert engine.validate(files) == []
    engine.deploy(files)
    case_id = engine.start("p_r", {"x": 1})
    assert engine.case(case_id)["data"]["segmento"] == "verde"


def test_an_unknown_camunda_decision_ref_is_refused_naming_the_task(engine):
    files = [FORM, DECISIONS, ("r.bpmn", _rule_model('camunda:decisionRef="otra"'))]
    [message] = _errors(engine, files)
    assert "businessRuleTask R (Clasificar)" in message and "decisión desconocida 'otra'" in message


def test_a_camunda_decision_ref_expression_is_refused_as_juel(engine):
    files = [FORM, DECISIONS, ("r.bpmn", _rule_model('camunda:decisionRef="${tabla}"'))]
    [message] = _errors(engine, files)
    assert "businessRuleTask R (Clasificar)" in message and "JUEL" in message


def test_camunda_result_variable_is_a_warning(engine):
    files = [FORM, DECISIONS,
             ("r.bpmn", _rule_model('camunda:decisionRef="clasificar" camunda:resultVariable="resultado"'))]
    problems = engine.validate(files)
    assert errors_of(problems) == []
    assert any("camunda:resultVariable" in str(p) and "businessRuleTask R" in str(p) for p in problems)


@pytest.mark.parametrize("expression,said", [
    ("${monto}", "está en JUEL (el lenguaje de expresiones de Camunda); aquí las expresiones se escriben en "
                 "Python: escriba «monto»"),
    ("get_current_user()", "la función 'get_current_user' (una función de SpiffArena) no existe aquí"),
])
def test_a_dmn_input_expression_in_another_language_is_refused(engine, expression, said):
    table = dmn("defs", decision("clasificar", "segmento", "verde")).replace(
        b"<text>x</text></inputExpression>", f"<text>{escape(expression)}</text></inputExpression>".encode())
    [message] = _errors(engine, [("d.dmn", table)])
    assert "decision clasificar" in message and said in message


# -- property: whatever text a condition holds, it deploys or gets a Spanish message naming the flow -----

FRAGMENTS = ["${", "#{", "}", "[", "]", "..", "&&", "||", "!", "=", "==", " and ", " or ", " not ", " eq ", " gt ",
             "x", "score", "5", "'a'", '"b"', "(", ")", ",", "/", ":", "bpmn:", "date and time(", " then ", "?",
             "*", "-", "+", " ", "\\", "%", "{", "1.5", "_x", "import", "lambda", "ahora()", "timedelta(", "\t"]
ENGLISH = ("invalid syntax", "Traceback", "never closed", "unterminated", "Perhaps", "unexpected EOF", "unmatched",
           "Exception", "expected")


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=3),
                min_size=1, max_size=8).map("".join))
def test_any_condition_deploys_or_gets_a_spanish_message_naming_the_flow(engine_for_property, condition):
    engine = engine_for_property
    files = [FORM, ("c.bpmn", _condition_model(condition))]
    problems = errors_of(engine.validate(files))
    if not problems:
        engine.deploy(files)
        return
    for problem in problems:
        text = str(problem)
        assert "sequenceFlow F2 (Aprobado)" in text or not condition.strip(), text
        assert not any(word in text for word in ENGLISH), text


@pytest.fixture(scope="module")
def engine_for_property(tmp_path_factory):
    from engine.assembly import build_engine
    from engine.basics.clock import VirtualClock
    from tests.conftest import fresh_database

    with fresh_database(tmp_path_factory.mktemp("prop")) as url:
        engine = build_engine(url=url, clock=VirtualClock())
        engine.upgrade()
        yield engine
        engine.db.dispose()


def test_foreign_is_linear_on_long_input():
    import time

    text = "${" + "a && " * 700 + "b}"
    started = time.process_time()
    assert "JUEL" in expression_languages.foreign(text, "la condición")
    assert "FEEL" in expression_languages.foreign("x in [" + "1" * 3900 + "..2]", "la condición")
    assert time.process_time() - started < 2


TIMER_FRAGMENTS = [*FRAGMENTS, "P", "T", "30S", "5D", "R3/", "0 ", "* ", "? ", "timedelta(seconds=30)", "days=",
                   "datetime.now()", ".isoformat()", "2026-03-02", "T09:00:00", '"PT1H"', "dias_habiles(2)"]


@settings(derandomize=True, max_examples=120, deadline=None)
@given(st.sampled_from(["timeDuration", "timeDate", "timeCycle"]),
       st.lists(st.sampled_from(TIMER_FRAGMENTS), min_size=1, max_size=6).map("".join))
def test_any_timer_deploys_or_gets_a_spanish_message_naming_the_event(engine_for_property, kind, expression):
    files = [FORM, ("t.bpmn", _timer_model(kind, expression))]
    problems = errors_of(engine_for_property.validate(files))
    if not problems:
        engine_for_property.deploy(files)
        return
    for problem in problems:
        text = str(problem)
        assert "intermediateCatchEvent T (Espera)" in text or not expression.strip(), text
        assert not any(word in text for word in ENGLISH), text
