"""The programme's rules as the models state them, with their source (issue 16 item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.basics.xmlsafe import XmlError, parse_xml
from engine.models.rules import Rule, decision_rules, process_rules, rules_of

from . import profiles as P
from .driver import Driver

ROOT = Path(__file__).resolve().parents[1]

BPMN_HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
             'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"><bpmn:process id="p">')


def marked(regla, fuente=None):
    props = f'<spiffworkflow:property name="regla" value="{regla}"/>'
    if fuente is not None:
        props += f'<spiffworkflow:property name="fuente" value="{fuente}"/>'
    return ("<bpmn:extensionElements><spiffworkflow:properties>"
            f"{props}</spiffworkflow:properties></bpmn:extensionElements>")


@pytest.mark.parametrize("element, expected", [
    (f'<bpmn:intermediateCatchEvent id="T" name="Esperar">{marked("Cada", "supuesto del equipo")}'
     '<bpmn:timerEventDefinition><bpmn:timeDuration>"P3M"</bpmn:timeDuration></bpmn:timerEventDefinition>'
     '</bpmn:intermediateCatchEvent>',
     Rule("T", "Esperar", "Cada", '"P3M"', "supuesto del equipo")),
    (f'<bpmn:sequenceFlow id="F" sourceRef="a" targetRef="b">{marked("Deserción", "manual §3.3")}'
     '<bpmn:conditionExpression>meses &gt;= 6</bpmn:conditionExpression></bpmn:sequenceFlow>',
     Rule("F", "", "Deserción", "meses >= 6", "manual §3.3")),
    (f'<bpmn:scriptTask id="S" name="Final">{marked("Puntaje", "tesis §3.4.2")}'
     '<bpmn:script>a = 1\n  b = 2\n</bpmn:script></bpmn:scriptTask>',
     Rule("S", "Final", "Puntaje", "a = 1 b = 2", "tesis §3.4.2")),
    (f'<bpmn:userTask id="U" name="Sin fuente">{marked("Algo")}</bpmn:userTask>',
     Rule("U", "Sin fuente", "Algo", "", "")),
    ('<bpmn:userTask id="N" name="No marcada"/>', None),
])
def test_marked_bpmn_elements_are_rules_with_their_value(element, expected):
    found = process_rules(f"{BPMN_HEAD}{element}</bpmn:process></bpmn:definitions>")
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize("fuente, origen", [
    ("tesis §3.4.2", "tesis"), ("Manual de operaciones §8", "tesis"), ("supuesto del equipo", "supuesto"),
    ("  Supuesto: 60/40", "supuesto"), ("acuerdo regional 2026", "otra"), ("", "otra"),
])
def test_the_origin_of_a_source(fuente, origen):
    assert Rule("x", "", "r", "", fuente).origen == origen


def test_a_long_script_is_cut():
    script = "x = 1\n" * 200
    [rule] = process_rules(f'{BPMN_HEAD}<bpmn:scriptTask id="S">{marked("r", "s")}<bpmn:script>{script}'
                           '</bpmn:script></bpmn:scriptTask></bpmn:process></bpmn:definitions>')
    assert len(rule.valor) == 400 and rule.valor.endswith("…")


def test_only_rows_whose_annotation_names_a_source_are_rules():
    dmn = (ROOT / "processes" / "segmento_cpe.dmn").read_text(encoding="utf-8")
    assert len(decision_rules(dmn)) == 4
    assert [r.element_id for r in decision_rules(dmn.replace(" Fuente: tesis §3.1.3 (el", " (el"))] == [
        "Rule_rojo_oscuro", "Rule_rojo", "Rule_amarillo"]
    assert decision_rules(dmn.replace("Fuente:", "Origen:")) == []


def test_the_shipped_segment_table_names_the_source_of_each_cut_off():
    """Issue 16 item 12: the cut-offs 35/65 are not in the thesis (§3.1.3 only describes the segments):
    they are shown as the team's assumption; rojo oscuro follows the thesis."""
    rules = {r.element_id: r for r in rules_of("decision", (ROOT / "processes" / "segmento_cpe.dmn").read_bytes())}
    assert set(rules) == {"Rule_rojo_oscuro", "Rule_rojo", "Rule_amarillo", "Rule_verde"}
    assert rules["Rule_rojo"].valor == 'si puntaje_final < 35: segmento = "rojo"'
    assert rules["Rule_rojo_oscuro"].valor == 'si exporta_regularmente = True: segmento = "rojo_oscuro"'
    assert rules["Rule_verde"].valor == 'en otro caso: segmento = "verde"'
    assert rules["Rule_rojo"].regla == "Sin potencial exportador (viene solo con una idea): derivación inmediata."
    assert (rules["Rule_rojo"].origen, rules["Rule_amarillo"].origen, rules["Rule_rojo_oscuro"].origen) == (
        "supuesto", "supuesto", "tesis")


def test_forms_have_no_rules_and_hostile_xml_is_refused():
    assert rules_of("form", b"{}") == []
    with pytest.raises(XmlError):
        process_rules(b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>')


def test_a_table_with_dmn_annotation_columns_deploys_and_decides(engine, clock):
    """DMN 1.3 annotation columns (as Camunda Modeler writes them) are comments: the decision deploys
    and decides as without them (SpiffWorkflow's parser alone refuses them)."""
    dmn = (ROOT / "processes" / "segmento_cpe.dmn").read_text(encoding="utf-8")
    dmn = dmn.replace('<output id="Output_segmento" label="Segmento" name="segmento" typeRef="string" />',
                      '<output id="Output_segmento" label="Segmento" name="segmento" typeRef="string" />'
                      '<annotation name="Notas" />')
    dmn = dmn.replace('<outputEntry id="OutputEntry_rojo"><text>"rojo"</text></outputEntry>',
                      '<outputEntry id="OutputEntry_rojo"><text>"rojo"</text></outputEntry>'
                      '<annotationEntry><text>corte del equipo</text></annotationEntry>')
    assert dmn.count("annotation") == 3
    from engine.models.validation import collect_files

    files = [f for f in collect_files([ROOT / "forms", ROOT / "processes"]) if f[0] != "segmento_cpe.dmn"]
    engine.deploy([*files, ("segmento_cpe.dmn", dmn.encode())], author="test", message="anotaciones")
    assert "corte del equipo" in engine.model_version("decision", "segmento_cpe")["content"]  # kept as given
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    driver = Driver(engine, clock, "cpe_actual")
    case = driver.through_interview(driver.start(), P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    assert case["data"]["segmento"] == "amarillo"


@pytest.mark.parametrize("process, expected", [
    ("cpe_actual", {"Boundary_Escalamiento": "dias_habiles(5)", "Timer_TresMeses": '"P3M"',
                    "Flow_Deserto": "meses_sin_actividad >= 6"}),
    ("cpe_propuesto", {"Boundary_Escalamiento": "dias_habiles(5)", "Timer_TresMeses": '"P3M"',
                       "Flow_Deserto": "meses_sin_actividad >= 6", "Timer_SeisMeses": '"P6M"',
                       "Flow_SinMasIntentos": "intentos_fortalecimiento >= 2"}),
])
def test_the_shipped_processes_mark_the_rules_the_thesis_does_not_fix(process, expected):
    """Issue 16 item 12: the 3-month follow-up, the 6-month desertion, the escalation days and the final
    score live in the diagram, marked with their source, so the models page shows them as rules."""
    rules = {r.element_id: r for r in rules_of("process", (ROOT / "processes" / f"{process}.bpmn").read_bytes())}
    for element, value in expected.items():
        assert rules[element].valor == value and rules[element].origen == "supuesto", element


@pytest.mark.parametrize("process, tasks", [
    ("cpe_actual", {"Rule_PuntajeFinal", "Rule_PuntajeFinalReeval"}),
    ("cpe_propuesto", {"Rule_PuntajeFinal", "Rule_PuntajeFinalReeval", "Rule_PuntajeFinalNuevo"}),
])
def test_the_final_score_is_one_decision_every_path_calls(process, tasks):
    """Issue 16 item 12: the final score (the thesis §3.4.2: the interview's points "se sumarán al TPE
    original y reflejará un puntaje final", without saying how) is one rule, the puntaje_final decision,
    that an analyst changes in the table; the diagrams call it at entry and at every re-evaluation
    instead of repeating the weights in scripts."""
    from engine.models.spiff import called_decision

    bpmn = (ROOT / "processes" / f"{process}.bpmn").read_text(encoding="utf-8")
    assert "0.6" not in bpmn and "0.4 *" not in bpmn
    root = parse_xml(bpmn.encode()).getroot()
    callers = {node.get("id") for node in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}businessRuleTask")
               if called_decision(node) == "puntaje_final"}
    assert callers == tasks
    [rule] = rules_of("decision", (ROOT / "processes" / "puntaje_final.dmn").read_bytes())
    assert rule.valor == "en otro caso: puntaje_final = round(0.6 * puntaje_tpe + 0.4 * puntaje_entrevista, 1)"
    assert rule.element_name == "Puntaje final" and "se sumarán al TPE original" in rule.fuente
    assert rule.origen == "mixta"  # the sum is the thesis's, the 60/40 weighting the team's assumption


@pytest.mark.parametrize("kinds, expected", [
    (("process", "decision", "form"), [("decision", "d", 1), ("process", "a", 3), ("process", "b", 1)]),
    (("process",), [("process", "a", 3), ("process", "b", 1)]),
    (("form",), []),
])
def test_newest_keeps_the_last_listed_version_of_each_model(kinds, expected):
    from engine.models.versions import newest

    rows = [("decision", "d", 1), ("process", "a", 1), ("process", "a", 2), ("process", "a", 3), ("process", "b", 1)]
    listing = [{"kind": k, "key": key, "version": v} for k, key, v in rows]
    assert [(r["kind"], r["key"], r["version"]) for r in newest(listing, kinds)] == expected


def test_an_analyst_changes_the_weighting_in_the_table_and_new_scores_follow(engine, clock):
    """Issue 16 item 12: the 60/40 weighting is changed in the puntaje_final table (a new version of the
    decision, no code); the next classification uses it."""
    from engine.models.validation import collect_files

    dmn = (ROOT / "processes" / "puntaje_final.dmn").read_text(encoding="utf-8")
    changed = dmn.replace("round(0.6 * puntaje_tpe + 0.4 * puntaje_entrevista, 1)",
                          "round(0.5 * puntaje_tpe + 0.5 * puntaje_entrevista, 1)")
    assert changed != dmn
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="inicial")
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    driver = Driver(engine, clock, "cpe_actual")
    before = driver.through_interview(driver.start(), P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)["data"]
    assert before["puntaje_final"] == round(0.6 * before["puntaje_tpe"] + 0.4 * before["puntaje_entrevista"], 1)
    files = [f for f in collect_files([ROOT / "forms", ROOT / "processes"]) if f[0] != "puntaje_final.dmn"]
    engine.deploy([*files, ("puntaje_final.dmn", changed.encode())], author="analista", message="50/50")
    after = driver.through_interview(driver.start(rut="76.543.210-3"), P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)["data"]
    assert after["puntaje_final"] == round(0.5 * after["puntaje_tpe"] + 0.5 * after["puntaje_entrevista"], 1)
    assert after["puntaje_final"] != before["puntaje_final"]
