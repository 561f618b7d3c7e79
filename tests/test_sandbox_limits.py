"""Hostile model code (issue "Hostile input", classes 3 and 7): whatever a script, a gateway
condition or a DMN cell does, the evaluation ends within the time limit, the case goes to error
with a Spanish message, the engine's process neither dies nor grows, and the next evaluation
works. Model code that is not on the in-process fast path runs in a sandbox child process
(engine/models/sandbox.py) with OS limits and a wall-clock kill."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

from engine.models import sandbox

ROOT = Path(__file__).resolve().parent.parent
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def script_model(pid: str, script: str) -> list:
    bpmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="D_{pid}" targetNamespace="x">
  <bpmn:process id="{pid}" name="Prueba {pid}" isExecutable="true">
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Calcular" name="Calcular"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{_xml(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Calcular" />
    <bpmn:sequenceFlow id="F2" sourceRef="Calcular" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>"""
    return [(f"{pid}.bpmn", bpmn.encode())]


def gateway_model(pid: str, condition: str) -> list:
    bpmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="D_{pid}" targetNamespace="x">
  <bpmn:process id="{pid}" name="Prueba {pid}" isExecutable="true">
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="Decidir" name="Decidir" default="F3"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="FinA"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="FinB"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Decidir" />
    <bpmn:sequenceFlow id="F2" sourceRef="Decidir" targetRef="FinA">
      <bpmn:conditionExpression>{_xml(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="Decidir" targetRef="FinB" />
  </bpmn:process>
</bpmn:definitions>"""
    return [(f"{pid}.bpmn", bpmn.encode())]


def dmn_model(pid: str, cell: str) -> list:
    bpmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="D_{pid}" targetNamespace="x">
  <bpmn:process id="{pid}" name="Prueba {pid}" isExecutable="true">
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="Clasificar" name="Clasificar">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>{pid}_tabla</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Clasificar" />
    <bpmn:sequenceFlow id="F2" sourceRef="Clasificar" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>"""
    dmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="DD_{pid}" name="Tabla" namespace="x">
  <decision id="{pid}_tabla" name="Tabla">
    <decisionTable id="T_{pid}" hitPolicy="FIRST">
      <input id="I1" label="Valor">
        <inputExpression id="IE1" typeRef="number"><text>valor</text></inputExpression></input>
      <output id="O1" label="Nivel" name="nivel" typeRef="string" />
      <rule id="R1"><inputEntry id="E1"><text>{_xml(cell)}</text></inputEntry>
        <outputEntry id="OE1"><text>"alto"</text></outputEntry></rule>
      <rule id="R2"><inputEntry id="E2"><text>-</text></inputEntry>
        <outputEntry id="OE2"><text>"bajo"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""
    return [(f"{pid}.bpmn", bpmn.encode()), (f"{pid}_tabla.dmn", dmn.encode())]


def _rss() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident memory of this process while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


MB = 1024 * 1024
_counter = iter(range(10 ** 6))


def _run_hostile(engine, files_of, code, data=None):
    """Deploy a model around `code`, start a case (the code runs in that step), and check that it
    ended in time with the case in error, a Spanish message and no growth of this process."""
    pid = f"hostil_{next(_counter)}"
    engine.deploy(files_of(pid, code))
    with PeakRss() as memory:
        began = time.monotonic()
        case_id = engine.start(pid, dict(data or {"valor": 1}))
        elapsed = time.monotonic() - began
    case = engine.case(case_id)
    assert elapsed < 10, (code, elapsed)
    assert case["status"] == "error", (code, case["status"], case["data"])
    message = case["error"]["message"]
    assert message and "Traceback" not in message and " en " in message, message
    assert memory.growth < 50 * MB, (code, memory.growth // MB)
    # the next evaluation works: a fresh child if the last one was killed
    assert sandbox.RestrictedEnvironment().evaluate("len(str(2 ** 10)) + x", {"x": 1}) == 5
    context = {"a": 2}
    sandbox.RestrictedEnvironment().execute("b = sorted([a, 1])", context)
    assert context == {"a": 2, "b": [1, 2]}
    return case


# Each bomb in a form that a gateway condition and a DMN cell can hold (one expression) ...
EXPRESSION_BOMBS = [
    "pow(10, 10 ** 7) > 0",
    "len(str(pow(10, 10 ** 7))) > 0",
    "len(hex(pow(10, 10 ** 7))) > 0",
    "round(10 ** 17, -10 ** 9) == 0",
    "round(1.5, -10 ** 9) == 0",
    "len('%*s' % (10 ** 9, 'x')) > 0",
    "len('%(a)999999999s' % {'a': 'x'}) > 0",
    "len('%.*f' % (10 ** 9, 1.0)) > 0",
    "len([[0] * 100000 for i in range(1000)]) > 0",
    "len([len(sorted(range(100000))) for i in range(3000)]) > 0",
]

# ... and the straight-line ones only a script can hold.
_SORT = "l = [str(i * 7919 % 100003) for i in range(100000)]\n" + "x = sorted(l)\n" * 280
SCRIPT_BOMBS = [
    *[f"r = {bomb}" for bomb in EXPRESSION_BOMBS],
    "s = 'ab'\n" + "s = f'{s}{s}'\n" * 32,
    "s = 'ab'\n" + "s = '%s%s' % (s, s)\n" * 32,
    "l = [0]\n" + "l[len(l):] = l\n" * 28,
    _SORT,
]


@pytest.mark.parametrize("script", SCRIPT_BOMBS)
def test_bombs_in_a_script_task_end_in_time_with_the_case_in_error(engine, script):
    assert len(script) <= sandbox.MAX_SOURCE and sandbox.check(script, "exec") is None
    case = _run_hostile(engine, script_model, script)
    assert "«Calcular»" in case["error"]["message"]


@pytest.mark.parametrize("condition", EXPRESSION_BOMBS)
def test_bombs_in_a_gateway_condition_end_in_time_with_the_case_in_error(engine, condition):
    case = _run_hostile(engine, gateway_model, condition)
    assert "«Decidir»" in case["error"]["message"]


@pytest.mark.parametrize("cell", EXPRESSION_BOMBS)
def test_bombs_in_a_dmn_cell_end_in_time_with_the_case_in_error(engine, cell):
    case = _run_hostile(engine, dmn_model, cell)
    assert "«Clasificar»" in case["error"]["message"]


# -- class 3: the code may raise anything; the process that runs the engine carries on ---------

SIGNALS = ["raise SystemExit(0)", "raise SystemExit(3)", "raise GeneratorExit()", "raise KeyboardInterrupt()",
           "raise MemoryError()", "raise RecursionError('x')", "raise BaseException('x')"]


@pytest.mark.parametrize("script", SIGNALS)
def test_a_script_raising_a_process_exit_puts_the_case_in_error(engine, script):
    case = _run_hostile(engine, script_model, script)
    name = script.split()[1].split("(")[0]
    assert name in case["error"]["message"] and "«Calcular»" in case["error"]["message"]


@pytest.mark.parametrize("files_of", [gateway_model, dmn_model], ids=["condicion", "dmn"])
@pytest.mark.parametrize("expression", ["1 / 0 > 0", "len('%*s' % (10 ** 9, 'x')) > 0", "x_inexistente > 0",
                                        "[].index(1) > 0"])
def test_an_expression_that_fails_puts_the_case_in_error(engine, files_of, expression):
    _run_hostile(engine, files_of, expression)


def test_model_errors_name_the_exception_and_the_element(engine):
    case = _run_hostile(engine, script_model, "x = 1 / 0")
    assert case["error"]["message"] == "ZeroDivisionError: division by zero en el script de «Calcular»"


def test_an_operator_that_breaks_gives_a_generic_message_and_logs(engine, monkeypatch, caplog):
    from engine.programme import operators

    def broken(ctx, motivo, region, institucion=None):
        raise KeyError("campo interno")

    original = operators.OPERATORS["derivar"]
    monkeypatch.setitem(operators.OPERATORS, "derivar", dataclasses.replace(original, run=broken))
    from engine.models.validation import collect_files

    engine.deploy(collect_files([ROOT / "tests" / "models" / "diagnostico"]))
    case_id = engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": "Pequeñita",
                                                  "region": "CL-VS", "ventas_uf": 900})
    case = engine.case(case_id)
    assert case["status"] == "error" and case["error"]["bpmn_id"] == "Service_Derivar"
    assert "campo interno" not in case["error"]["message"] and "KeyError" not in case["error"]["message"]
    assert "«Derivar a SERCOTEC»" in case["error"]["message"]
    assert "campo interno" in caplog.text  # the traceback is in the log for the platform team


def test_non_json_script_results_are_refused(engine):
    case = _run_hostile(engine, script_model, "x = complex(1, 2)")
    assert "«x»" in case["error"]["message"] and "JSON" in case["error"]["message"]


def test_a_killed_child_is_reaped_and_replaced():
    env = sandbox.RestrictedEnvironment()
    with pytest.raises(sandbox.SandboxError, match="s de ejecución|demasiada memoria|demasiado grande"):
        env.evaluate("pow(10, 10 ** 8)", {})
    assert env.evaluate("sorted([3, 1])", {}) == [1, 3]
    children = [int(p) for p in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()]
    for child in children:
        state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        assert state != "Z", f"zombie {child}"


def test_ahora_and_dias_habiles_use_the_engine_clock():
    from datetime import UTC, datetime

    from engine.basics import clock

    moment = datetime(2031, 5, 9, 15, 0, tzinfo=UTC)  # a Friday
    env = sandbox.RestrictedEnvironment()
    with clock.using(clock.VirtualClock(moment)):
        assert env.evaluate("ahora()", {}) == moment.isoformat()
        assert env.evaluate("dias_habiles(1)", {}) == datetime(2031, 5, 12, 15, 0, tzinfo=UTC).isoformat()
        context = {}
        env.execute("hoy = ahora()[:10]", context)
        assert context == {"hoy": "2031-05-09"}


def test_threads_share_the_pool():
    env = sandbox.RestrictedEnvironment()
    results, errors = [], []

    def work(n):
        try:
            for i in range(5):
                results.append(env.evaluate("sum([a, b])", {"a": n, "b": i}) == n + i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 60 and all(results)


# -- the fast path: which expressions run in the engine's process -------------------------------

FAST = ['segmento == "verde"', "puntaje < 35", "35 <= dmninputexpr < 65", "(puntaje_final) == (\"verde\")",
        'tamano["tramo"] == "micro"', 'programa_complementario in ("corfo", "sercotec")', "capacitada",
        "meses_sin_actividad >= 6", '"P3M"', "responsable", "not a and (b or -c > 1)", "x if y else z",
        "a - b / 2 // 3", "[a, b] == {'k': (1, 2)}", "respuestas[-1] is None", "a != b", '"tpe_" + tipo',
        "round(0.6 * a + 0.4 * b, 1)", 'respuestas.get("x") == "regular"', 'str(n) + " casos"', "dias_habiles(5)",
        "len(a) > int('3')", "ahora()", "fecha[8:10]", "a[1:]", "a[:-1]", "a[::-1]", "a[0:4:2]"]
CHILD = ["a % b", "a ** 2", "a << 1", "f'{a}'", "a.lower()", "[x for x in a]", "sorted(a)", "a[b:]", "a[1:c]",
         "a[::b]", "a[1.5:]", "a[b + 1]",
         "[*a]", "{**a}", "{x: 1 for x in a}", "a @ b", "~a", "(lambda: 1)", "pow(a, 2)",
         "len(a=1)", "a.get", "f(1)", "d.get(1, 2, 3)", "(a.get)(1) + a.values()"]
FAST_SCRIPTS = ['responsable = asignacion["ejecutivo"]', 'resultado = "derivada"',
                "meses = meses + 3 if r == 'x' else 0", "a = 1\nb = round(a * 0.5, 1)\nc = str(b) + 'x'"]
CHILD_SCRIPTS = ["x = sorted(y)", "x[1] = 2", "x += 1", "del x", "for i in y:\n    x = i", "a = b = 1",
                 "a, b = 1, 2", "x = [i for i in y]", "x.append(1)", "if a:\n    b = 1", "x = y.keys()",
                 "a = [y]\nb = [a, a]", "a = {'k': 1}\nb = (a,)", "b = {x: a}\na = 1"]


@pytest.mark.parametrize("script", FAST_SCRIPTS)
def test_assignment_only_scripts_take_the_fast_path(script):
    assert sandbox.fast_path(script, "exec") is True


@pytest.mark.parametrize("script", CHILD_SCRIPTS)
def test_other_scripts_go_to_the_child(script):
    assert sandbox.fast_path(script, "exec") is False


@pytest.mark.parametrize("expression, data, expected", [
    ('"ab" * 3', {}, "ababab"),  # `*` of a text: not the fast path's, the child's
    ("[1] + [2]", {}, [1, 2]),
    ("str([1, 2])", {}, "[1, 2]"),
    ("len(s + s)", {"s": "x" * 1500}, 3000),  # over FAST_TEXT
    ("a * a * a > 0", {"a": 2 ** 40}, True),  # a product over 64 bits, multiplied again
    ("round(a, 30)", {"a": 1.5}, 1.5),
    ("respuestas.get('x')", {"respuestas": ["no es un dict"]}, "error"),
    ("dias_habiles(2000) > ''", {}, True),
    ("ninguno", {}, "error"),
])
def test_fast_path_guards_hand_the_code_to_the_child(monkeypatch, expression, data, expected):
    assert sandbox.fast_path(expression)
    sent = []
    original = sandbox._in_child
    monkeypatch.setattr(sandbox, "_in_child", lambda request: sent.append(request) or original(request))
    env = sandbox.RestrictedEnvironment()
    if expected == "error":
        with pytest.raises(sandbox.SandboxError):
            env.evaluate(expression, dict(data))
    else:
        assert env.evaluate(expression, dict(data)) == expected
    assert len(sent) == 1


def _doubling(lines: int, display=("[", "]")) -> str:
    opening, closing = display
    script = [f"a0 = {opening}0,{closing}", f"b0 = {opening}0,{closing}"]
    for i in range(1, lines + 1):
        script += [f"a{i} = {opening}a{i - 1}, a{i - 1}{closing}", f"b{i} = {opening}b{i - 1}, b{i - 1}{closing}"]
    return "\n".join(script + [f"r = a{lines} == b{lines}"])


@pytest.mark.parametrize("display", [("[", "]"), ("(", ")")])
def test_a_script_that_doubles_a_structure_per_line_goes_to_the_child(display):
    """Found in review: each line `a_k = [a_k-1, a_k-1]` doubles a structure of shared references,
    so comparing (or hashing) the last one costs 2**lines steps from a 2 000-character script; in the
    engine's process nothing stopped it (k = 60 ran past 15 s). Such a script is not fast-path: it
    runs in a child, which the 2 s wall-clock limit stops."""
    script = _doubling(60, display)
    assert len(script) <= sandbox.MAX_SOURCE
    assert sandbox.fast_path(script, "exec") is False
    began = time.monotonic()
    with pytest.raises(sandbox.SandboxError):
        sandbox.RestrictedEnvironment().execute(script, {})
    assert time.monotonic() - began < 10


@pytest.mark.parametrize("expression", ['float("nan")', 'float("-inf")', "{1, 2}",
                                        "18446744073709551615 * 18446744073709551615"])
def test_fast_path_results_are_checked_like_the_child_s(monkeypatch, expression):
    """Found in review: a fast-path expression's value skipped the check the child's gets (NaN, a
    set, a 39-digit integer could reach a DMN output or a case)."""
    monkeypatch.setattr(sandbox, "_in_child", lambda request: pytest.fail("went to the child"))
    assert sandbox.fast_path(expression)
    with pytest.raises(sandbox.SandboxError, match="no es JSON"):
        sandbox.RestrictedEnvironment().evaluate(expression, {})


def test_fast_path_code_neither_loops_nor_grows(monkeypatch):
    """The worst the fast path allows: a 4000-character expression of `+`, `*` and calls over
    the largest values a case may hold, in one display. It stays fast and small."""
    monkeypatch.setattr(sandbox, "_in_child", lambda request: pytest.fail("went to the child"))
    data = {"s": "x" * 990, "l": list(range(99_000)), "t": "y" * 1_900_000, "n": 10 ** 17}
    terms = ["s + s", "str(n + n)", "l == l", "t in t", "len(t) * n", "round(n / 3, 2)", "t < s", "[l, t]"]
    parts, size = [], 2
    while size < sandbox.MAX_SOURCE - 40:
        parts.append(terms[len(parts) % len(terms)])
        size += len(parts[-1]) + 2
    expression = "(" + ", ".join(parts) + ")"
    assert sandbox.fast_path(expression) and sandbox.check(expression) is None
    with PeakRss() as memory:
        began = time.process_time()  # CPU time of this process: what the code costs, not the machine's load
        with pytest.raises(sandbox.SandboxError, match="no es JSON"):  # computed, then its value refused:
            sandbox.RestrictedEnvironment().evaluate(expression, data)  # a 36-digit product, 100 000+ items
        elapsed = time.process_time() - began
    assert elapsed < 2 and memory.growth < 50 * MB, (elapsed, memory.growth // MB)


@pytest.mark.parametrize("term, joiner", [("q in l", " or "), ("l == m", " and "), ("(l, l) <= (m, m)", " and "),
                                          ("d == e", " and ")])
def test_fast_path_comparisons_over_the_largest_values_stay_fast(monkeypatch, term, joiner):
    """Comparisons that must walk whole values (no identity shortcut, no short-circuit), as many
    as 4000 characters hold, over lists as large as a case may hold."""
    monkeypatch.setattr(sandbox, "_in_child", lambda request: pytest.fail("went to the child"))
    data = {"l": [f"{i:020d}" for i in range(99_000)], "m": [f"{i:020d}" for i in range(99_000)], "q": "x" * 20,
            "d": [[i, "a"] for i in range(33_000)], "e": [[i, "a"] for i in range(33_000)]}
    expression = joiner.join([term] * (3990 // (len(term) + len(joiner))))
    assert sandbox.fast_path(expression)
    began = time.process_time()  # CPU time of this process: what the code costs, not the machine's load
    sandbox.RestrictedEnvironment().evaluate(expression, data)
    assert time.process_time() - began < 5  # ~2.5 s of CPU here: linear; a blow-up would be orders beyond


@pytest.mark.parametrize("expression", FAST)
def test_linear_call_free_expressions_take_the_fast_path(expression):
    assert sandbox.fast_path(expression) is True


@pytest.mark.parametrize("expression", CHILD)
def test_everything_else_goes_to_the_child(expression):
    assert sandbox.fast_path(expression) is False


# the only model code of the shipped processes that goes to a child (run once a month)
SHIPPED_IN_CHILD = {'periodo = extracto["periodo"]\ntotal_beneficiarias = extracto["total"]\n'
                    'avisos = [r for r in extracto["regiones"] if r["nuevo"]]'}


def test_the_shipped_processes_model_code_takes_the_fast_path():
    from lxml import etree

    from engine.models import dmn_validation

    found = 0
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path))
        code = [(node.text.strip(), "eval") for node in tree.iter("{*}conditionExpression")]
        code += [(node.text.strip(), "eval") for tag in ("timeDate", "timeDuration", "timeCycle")
                 for node in tree.iter("{*}" + tag)]
        code += [(node.text.strip(), "exec") for node in tree.iter("{*}script")]
        code += [(node.get("value"), "eval") for node in tree.iter("{*}parameter")]
        code += [(node.get("value"), "eval") for node in tree.iter("{*}property")
                 if node.get("name") in ("asignadoA", "plazo")]
        for source, mode in code:
            found += 1
            assert sandbox.fast_path(source, mode) or source in SHIPPED_IN_CHILD, (path.name, source)
    for path in sorted((ROOT / "processes").glob("*.dmn")):
        tree = etree.parse(str(path))
        inputs = [node.text.strip() for node in tree.iter("{*}inputExpression") for node in node.iter("{*}text")]
        for source in inputs:
            assert sandbox.fast_path(source), (path.name, source)
        for rule in tree.iter("{*}rule"):
            for column, entry in enumerate(rule.iter("{*}inputEntry")):
                text = entry.findtext("{*}text").strip()
                if text == "-":
                    continue
                found += 1
                if dmn_validation._QUESTION.search(text):
                    expression = dmn_validation._QUESTION.sub("dmninputexpr", text)
                elif sandbox.check(text) is None:
                    expression = f"({inputs[column]}) == ({text})"
                else:
                    expression = f"{inputs[column]}{text}"
                assert sandbox.fast_path(expression), (path.name, expression)
            for entry in rule.iter("{*}outputEntry"):
                found += 1
                assert sandbox.fast_path(entry.findtext("{*}text").strip()), (path.name, entry)
    assert found > 100


def test_a_cpe_actual_case_makes_no_round_trip(deployed, monkeypatch):
    from tooling.bench.suite import COMPANY

    monkeypatch.setattr(sandbox, "_in_child", lambda request: pytest.fail(f"went to the child: {request['code']}"))
    case_id = deployed.start("cpe_actual", dict(COMPANY))
    assert deployed.case(case_id)["status"] == "active"


# -- the CLI ------------------------------------------------------------------------------

@pytest.fixture
def run_cli(engine):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})

    def invoke(*args):
        return CliRunner().invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app))
    return invoke


def test_the_cli_survives_a_script_that_exits(engine, run_cli):
    engine.deploy(script_model("sale", "raise SystemExit(0)"))
    started = run_cli("start", "sale", "--data", "{}", "--json")
    assert started.exit_code == 0, started.output  # the case started; its script failed
    case = engine.case(1)
    assert case["status"] == "error" and "SystemExit" in case["error"]["message"]


def test_the_cli_reports_an_unexpected_error_and_exits_non_zero(engine, run_cli, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("algo interno")
    monkeypatch.setattr(type(engine), "models", broken)
    result = run_cli("models", "--json")
    assert result.exit_code not in (0, None)
    assert "error inesperado" in result.stderr
    assert "KeyError" not in result.stderr and "algo interno" not in result.stderr  # no internal text
    monkeypatch.setenv("CPE_DEBUG", "1")
    debug = run_cli("models", "--json")
    assert debug.exit_code == 2 and "KeyError" in debug.stderr  # the detail, only when asked for


def test_a_summary_value_the_columns_cannot_hold_is_said_and_the_case_goes_on(engine):
    """Found in review: a model may leave any plain value in `segmento`, `resultado` or
    `puntaje_final`, but their summary columns hold a 20-character text and a number; on
    PostgreSQL the step's UPDATE failed (500 on every attempt). Now the column stays empty, the
    history says why once, and the case's data keeps the value."""
    from engine.store.schema import Case

    engine.deploy(script_model("resumen", 'segmento = "' + "x" * 30 + '"\npuntaje_final = "alto"\n'
                                          'resultado = "exportadora"'))
    case_id = engine.start("resumen", {})
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["segmento"] is None and case["resultado"] == "exportadora"
    assert case["data"]["segmento"] == "x" * 30 and case["data"]["puntaje_final"] == "alto"
    warnings = [e["name"] for e in case["history"] if e["kind"] == "warning"]
    assert len(warnings) == 2 and any("«segmento» no es un texto de hasta 20" in w for w in warnings)
    with engine.Session() as s:
        assert s.get(Case, case_id).puntaje_final is None
