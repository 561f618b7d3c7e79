"""BPMN files with messages saved by bpmn-js / SpiffArena (issue 17, item 5). bpmn-js writes a
correlation property's retrieval expression as a `formalExpression`, which the BPMN schema does not
allow there; SpiffWorkflow's own validator renames it to `messagePath` before its schema check, and
so does ours, on a copy (what is stored is what was uploaded). Messages between processes of one case
deploy and correlate, and so do messages between cases (engine/cases/messages.py; its own tests are in
tests/test_case_messages.py).
The files and their origin: tests/models/interop_messages/SOURCES.md. The three SpiffArena files are public
files and are not kept in this repository (they live in the interop corpus folder, as the other public models:
tests/interop/test_corpus.py); the tests that need them are skipped without it. Their adaptation to our
sandbox is applied here, in memory (ADAPTATIONS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.basics.errors import errors_of
from tests.interop.test_corpus import CORPUS, ELSEWHERE
from tests.minimal_models import FORM

MODELS = Path(__file__).resolve().parent / "models" / "interop_messages"
UPSTREAM = {path.rsplit("/", 1)[1]: path for path in ELSEWHERE}  # file -> path in the corpus folder
# what our sandbox needs changed, and nothing else (tests/models/interop_messages/SOURCES.md says why):
# (text in the upstream file, its replacement), each found exactly as many times as it is replaced
_TIME = ("timestamp = time.time()\ntopic_{n}_a = f\"topic_{n}_a_conversation_{{timestamp}}\"\n"
         "topic_{n}_b = f\"topic_{n}_b_conversation_{{timestamp}}\"\ndel time</bpmn:script>")
_CONVERSATION = ("topic_{n}_a = \"topic_{n}_a_conversation_\" + str(conversacion)\n"
                 "topic_{n}_b = \"topic_{n}_b_conversation_\" + str(conversacion)</bpmn:script>")
ADAPTATIONS = {
    "message_sender.bpmn": [
        ("<bpmn:formalExpression>payload_var_one.topica_one</bpmn:formalExpression>",
         "<bpmn:formalExpression>topica_one</bpmn:formalExpression>"),
        ("<bpmn:formalExpression>payload_var_one.topicb</bpmn:formalExpression>",
         "<bpmn:formalExpression>topicb_one</bpmn:formalExpression>"),
        (_TIME.format(n="one"), _CONVERSATION.format(n="one")),
        (_TIME.format(n="two"), _CONVERSATION.format(n="two")),
    ],
    **{f"message_receiver_{n}.bpmn": [
        (f'"topica_{n}": payload_var_{n}.topica_{n},', f'"topica_{n}": payload_var_{n}["topica_{n}"],'),
        (f'"topicb_{n}": payload_var_{n}.topicb_{n},', f'"topicb_{n}": payload_var_{n}["topicb_{n}"],'),
        (f"second_var_{n} = payload_var_{n}.initial_var_{n} + 1",
         f'second_var_{n} = payload_var_{n}["initial_var_{n}"] + 1'),
    ] for n in ("one", "two")},
}
needs_corpus = pytest.mark.skipif(CORPUS is None or not all((CORPUS / p).is_file() for p in UPSTREAM.values()),
                                  reason="sin los modelos de SpiffArena del corpus (shared/interop/)")


def _upstream() -> list[tuple[str, bytes]]:
    return [(name, (CORPUS / path).read_bytes()) for name, path in sorted(UPSTREAM.items())]


def _adapted() -> list[tuple[str, bytes]]:
    files = []
    for name, content in _upstream():
        text = content.decode()
        for old, new in ADAPTATIONS[name]:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        files.append((name, text.encode()))
    return files


@needs_corpus
def test_the_upstream_files_pass_the_schema_check(engine):
    problems = engine.validate(_upstream())
    assert not [p for p in problems if "(XSD)" in p.message], [str(p) for p in problems]
    # what is left is the script dialect of SpiffArena (attribute access on dictionaries, `time`)
    errors = errors_of(problems)
    assert errors and all("código no permitido" in p.message for p in errors), [str(p) for p in errors]


def _with_formal_expression(extra=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:correlationProperty id="cp" name="cp">
    <bpmn:correlationPropertyRetrievalExpression messageRef="m">
      <bpmn:formalExpression>clave</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="m" name="m" />
  <bpmn:process id="p_fx" isExecutable="true">
    <bpmn:startEvent id="S" />{extra}
    <bpmn:scriptTask id="A"><bpmn:script>clave = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="A" />
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_a_formal_expression_is_accepted_and_stored_as_uploaded(engine):
    content = _with_formal_expression()
    assert engine.validate([("fx.bpmn", content)]) == []
    engine.deploy([("fx.bpmn", content)])
    stored = engine.model_version("process", "p_fx")["content"]
    assert stored == content.decode() and "<bpmn:formalExpression>clave</bpmn:formalExpression>" in stored


def test_schema_problems_of_a_normalised_file_point_into_the_uploaded_file(engine):
    content = _with_formal_expression("\n    <bpmn:noSuchElement id=\"X\" />")
    [problem] = engine.validate([("fx.bpmn", content)])
    assert problem.element == "noSuchElement X"
    assert "(XSD)" in problem.message and "«bpmn:noSuchElement»" in problem.message
    lines = content.decode().splitlines()
    assert problem.line == next(i for i, line in enumerate(lines, 1) if "noSuchElement" in line)


def test_a_correlation_expression_is_checked_like_other_model_code(engine):
    content = _with_formal_expression().replace(b">clave</bpmn:formalExpression>",
                                                b">clave.__class__</bpmn:formalExpression>")
    [problem] = engine.validate([("fx.bpmn", content)])
    assert "correlationProperty cp" in str(problem) and "expresión de correlación" in problem.message, str(problem)


@needs_corpus
def test_the_adapted_files_validate_and_deploy_without_problems(engine):
    files = _adapted()
    assert engine.validate(files) == []  # messages between cases are carried: nothing to warn about
    assert engine.deploy(files) is not None
    assert {"message_send_process", "message_receiver_process_one", "message_receiver_process_two"} <= {
        m["key"] for m in engine.models() if m["kind"] == "process"}


PEDIDO = [FORM, ("pedido.bpmn", (MODELS / "pedido.bpmn").read_bytes()),
          ("cotizar.bpmn", (MODELS / "cotizar.bpmn").read_bytes())]


def test_two_processes_of_one_case_exchange_a_correlated_message(engine):
    assert engine.validate(PEDIDO) == []  # sender and receiver in one case: no warning
    engine.deploy(PEDIDO)
    case_id = engine.start("p_pedido")
    case = engine.case(case_id)
    assert case["status"] == "active", case["error"]
    assert case["data"]["cotizacion"] == {"pedido": 7, "monto": 70}  # the payload, under messageVariable
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["bpmn_id"] == "Revisar"
    engine.complete(task["id"], {"ok": True})
    assert engine.case(case_id)["status"] == "completed"


def _second_quote(script: str) -> tuple:
    content = (MODELS / "cotizar.bpmn").read_text().replace("p_cotizar", "p_cotizar_otro")
    content = content.replace('id="D_cotizar"', 'id="D_cotizar_otro"').replace("monto = pedido * 10", script)
    return "cotizar_otro.bpmn", content.encode()


@pytest.mark.parametrize("script, caught", [("monto = 80", True), ("pedido = pedido + 1\nmonto = 80", False)])
def test_the_second_message_is_caught_only_for_the_order_the_case_correlates_on(engine, script, caught):
    files = [*PEDIDO, ("pedido_doble.bpmn", (MODELS / "pedido_doble.bpmn").read_bytes()), _second_quote(script)]
    assert errors_of(engine.validate(files)) == []
    engine.deploy(files)
    case_id = engine.start("p_pedido_doble")
    case = engine.case(case_id)
    assert case["status"] == "active", case["error"]
    tasks = engine.ready_tasks(case_id=case_id)
    # (the case's `cotizacion` stays the first one: the parallel join merges the callee's branch last)
    if caught:  # the same order: the second quote is caught, the review is ready
        assert [t["bpmn_id"] for t in tasks] == ["Revisar"]
    else:  # order 8 while the case correlates on order 7: not caught, the case keeps waiting for a quote
        assert tasks == [] and case["data"]["pedido"] == 8


@needs_corpus
def test_a_message_to_another_process_starts_and_answers_it(engine):
    engine.deploy(_adapted())
    case_id = engine.start("message_send_process", {"conversacion": 1})
    case = engine.case(case_id)
    assert case["status"] == "completed", case["error"]
    # each message started a receiver, whose answer came back under the sender's messageVariable; the
    # first answer was sent before the sender waited for it (it was kept until then)
    assert case["data"]["payload_var_two"]["second_var_two"] == 6
    assert case["data"]["payload_var_one"]["second_var_one"] == 4
    sent = {m["name"]: m for m in engine.messages()}
    assert {name: m["status"] for name, m in sent.items()} == dict.fromkeys(
        ["Message Send One", "Message Send Two", "Message Response One", "Message Response Two"], "delivered")
    receiver_one = sent["Message Send One"]["receiver_case_id"]
    assert engine.case(receiver_one)["process_id"] == "message_receiver_process_one"
    assert sent["Message Response One"]["receiver_case_id"] == case_id
    kinds = [e["kind"] for e in engine.case(receiver_one)["history"]]
    assert kinds[:2] == ["case_started", "message_received"] and "message_waiting" in kinds
