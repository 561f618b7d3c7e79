"""Diagrams SpiffWorkflow runs are not refused for shapes other modelers save (issue 17, item 3):
a transaction, link events, an exclusive gateway without a default flow (a warning, not a refusal),
and user tasks inside a subprocess whose lane lists only the subprocess."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.context import CliContext
from cli.main import cpe
from engine.basics.errors import errors_of
from tests.minimal_models import FORM, bpmn, flow, lanes, script, user
from webapp import create_app
from webapp.shared.model_uploads import problems_payload

END = '<bpmn:endEvent id="E"/>\n'


def _run_to_end(engine, case_id, expected):
    done = []
    while tasks := engine.ready_tasks(case_id=case_id):
        done.append(tasks[0]["bpmn_id"])
        engine.complete(tasks[0]["id"], {"ok": True})
    assert done == expected
    assert engine.case(case_id)["status"] == "completed"


TRANSACTION = bpmn("p_tx", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "T")
                   + '<bpmn:transaction id="T" name="Pago"><bpmn:startEvent id="TS"/>' + flow("G1", "TS", "U1")
                   + user("U1") + flow("G2", "U1", "TE") + '<bpmn:endEvent id="TE"/></bpmn:transaction>'
                   + flow("F2", "T", "U2") + user("U2") + flow("F3", "U2", "E") + END,
                   lanes(ejecutivo_cpe=["S", "T", "U2", "E"]))


def test_elements_after_a_transaction_are_reachable(engine):
    files = [FORM, ("tx.bpmn", TRANSACTION)]
    assert engine.validate(files) == []
    engine.deploy(files)
    _run_to_end(engine, engine.start("p_tx"), ["U1", "U2"])


LINK = bpmn("p_link", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + user("U1") + flow("F2", "U1", "LT")
            + '<bpmn:intermediateThrowEvent id="LT"><bpmn:linkEventDefinition id="LD1" name="A"/>'
              "</bpmn:intermediateThrowEvent>"
            + '<bpmn:intermediateCatchEvent id="LC"><bpmn:linkEventDefinition id="LD2" name="A"/>'
              "</bpmn:intermediateCatchEvent>"
            + flow("F3", "LC", "U2") + user("U2") + flow("F4", "U2", "E") + END,
            lanes(ejecutivo_cpe=["S", "U1", "LT", "LC", "U2", "E"]))


def test_link_events_connect_what_follows_them(engine):
    files = [FORM, ("link.bpmn", LINK)]
    assert engine.validate(files) == []
    engine.deploy(files)
    _run_to_end(engine, engine.start("p_link"), ["U1", "U2"])


def test_link_events_of_different_names_are_refused(engine):
    orphan = LINK.replace(b'id="LD2" name="A"', b'id="LD2" name="B"')
    texts = [str(p) for p in engine.validate([FORM, ("link.bpmn", orphan)])]
    assert any("intermediateCatchEvent LC" in t and "no es alcanzable" in t for t in texts), texts
    assert any("intermediateThrowEvent LT" in t and "«A» no tiene un evento de enlace de captura" in t
               for t in texts), texts


NO_DEFAULT = bpmn("p_gw", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "X") + script("X", "x = 7")
                  + flow("F2", "X", "G") + '<bpmn:exclusiveGateway id="G" name="¿Grande?"/>'
                  + flow("F3", "G", "U1", "x &gt; 5") + flow("F4", "G", "U2", "x &lt;= 5")
                  + user("U1") + user("U2") + flow("F5", "U1", "E") + flow("F6", "U2", "E") + END,
                  lanes(ejecutivo_cpe=["S", "X", "G", "U1", "U2", "E"]))


def test_exclusive_gateway_without_default_is_a_warning_that_does_not_refuse(engine):
    files = [FORM, ("gw.bpmn", NO_DEFAULT)]
    problems = engine.validate(files)
    assert errors_of(problems) == []
    [warning] = problems
    assert warning.severity == "warning"
    assert "exclusiveGateway G (¿Grande?)" in str(warning) and "flujo por defecto" in str(warning)
    assert "aviso" in str(warning)
    [payload] = problems_payload(problems)
    assert payload["severity"] == "warning" and payload["element_id"] == "G"
    results = engine.deploy(files)
    assert [r["key"] for r in results if r["kind"] == "process"] == ["p_gw"]
    assert [str(w) for w in results.warnings] == [str(warning)]
    _run_to_end(engine, engine.start("p_gw"), ["U1"])


def test_cli_validate_and_deploy_show_the_warning_and_succeed(engine, tmp_path):
    (tmp_path / "gw.bpmn").write_bytes(NO_DEFAULT)
    (tmp_path / "f.json").write_bytes(FORM[1])
    context = CliContext.for_app(create_app({"ENGINE": engine, "SECRET_KEY": "test"}))

    def run(*args):
        return CliRunner().invoke(cpe, [*args, str(tmp_path)], obj=context)
    checked = run("validate")
    assert checked.exit_code == 0, checked.output
    assert "aviso" in checked.output and "exclusiveGateway G" in checked.output
    as_json = run("validate", "--json")
    body = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and body["valid"] is True
    assert [p["severity"] for p in body["problems"]] == ["warning"]
    deployed = run("deploy", "-m", "x")
    assert deployed.exit_code == 0, deployed.output
    assert "aviso" in deployed.output and "p_gw" in deployed.output


IN_SUBPROCESS = bpmn("p_sub", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "SP")
                     + '<bpmn:subProcess id="SP" name="Revisar"><bpmn:startEvent id="SS"/>' + flow("G1", "SS", "U1")
                     + user("U1", "Revisar antecedentes") + flow("G2", "U1", "SE") + '<bpmn:endEvent id="SE"/>'
                     + "</bpmn:subProcess>" + flow("F2", "SP", "U2") + user("U2") + flow("F3", "U2", "E") + END,
                     lanes(ejecutivo_cpe=["S", "SP", "E"], jefe_regional=["U2"]))


def test_a_task_inside_a_subprocess_takes_the_lane_of_its_subprocess(engine):
    files = [FORM, ("sub.bpmn", IN_SUBPROCESS)]
    assert engine.validate(files) == []
    engine.deploy(files)
    case_id = engine.start("p_sub")
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["bpmn_id"], task["lane"]) == ("U1", "ejecutivo_cpe")
    engine.complete(task["id"], {"ok": True})
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["bpmn_id"], task["lane"]) == ("U2", "jefe_regional")


def test_a_task_outside_every_lane_is_still_refused(engine):
    stray = IN_SUBPROCESS.replace(b"<bpmn:flowNodeRef>SP</bpmn:flowNodeRef>", b"")
    texts = [str(p) for p in engine.validate([FORM, ("sub.bpmn", stray)])]
    assert any("userTask U1" in t and "no está en un carril" in t for t in texts), texts


EVENT_SUB = bpmn("p_evsub", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + user("U1") + flow("F2", "U1", "E")
                 + END + '<bpmn:subProcess id="ES" triggeredByEvent="true">'
                 '<bpmn:startEvent id="ESS" isInterrupting="false">'
                 '<bpmn:signalEventDefinition id="SD" signalRef="sig"/></bpmn:startEvent>'
                 + flow("G1", "ESS", "U2") + user("U2") + flow("G2", "U2", "ESE")
                 + '<bpmn:endEvent id="ESE"/>{orphan}</bpmn:subProcess>'
                 '<bpmn:task id="Comp" isForCompensation="true"/>',
                 lanes(ejecutivo_cpe=["S", "U1", "E", "ES", "Comp"])
                 ).replace(b"</bpmn:process>", b'</bpmn:process><bpmn:signal id="sig" name="sig"/>')


def test_an_event_subprocess_and_a_compensation_handler_are_reached_by_their_triggers(engine):
    files = [FORM, ("evsub.bpmn", EVENT_SUB.replace(b"{orphan}", b""))]
    assert errors_of(engine.validate(files)) == [], [str(p) for p in engine.validate(files)]
    engine.deploy(files)
    _run_to_end(engine, engine.start("p_evsub"), ["U1"])


def test_inside_an_event_subprocess_what_its_start_does_not_reach_is_refused(engine):
    files = [FORM, ("evsub.bpmn", EVENT_SUB.replace(b"{orphan}", b'<bpmn:task id="Huerfana"/>'))]
    texts = [str(p) for p in errors_of(engine.validate(files))]
    assert len(texts) == 1 and "task Huerfana" in texts[0] and "no es alcanzable" in texts[0], texts
