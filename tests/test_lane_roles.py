"""Tasks somebody can take (issue 17, item 1): a process without lanes, or with lanes named anything,
offers its user tasks to a role — lanes mapped to roles at deploy (remembered per process), read from
camunda:candidateGroups, and tasks in no lane offered to the analysts (engine/models/lane_roles.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.context import CliContext
from cli.main import cpe
from engine.basics.errors import DeployError, Forbidden, errors_of
from engine.models import lane_roles
from tests.minimal_models import FORM, bpmn, flow, user
from webapp import create_app

END = '<bpmn:endEvent id="E"/>\n'
CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
PASSWORD = "clave-segura-123"


def named_lanes(**members):
    """A lane set whose lanes have ids Lane_N and the given names: name -> flow node ids."""
    body = "".join(f'<bpmn:lane id="Lane_{i}" name="{name}">'
                   + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes) + "</bpmn:lane>"
                   for i, (name, nodes) in enumerate(members.items()))
    return f'<bpmn:laneSet id="LaneSet_1">{body}</bpmn:laneSet>\n'


NO_LANES = bpmn("p_sin", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + user("U1", "Revisar")
                + flow("F2", "U1", "E") + END)

SALES_BODY = ('<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + user("U1", "Vender") + flow("F2", "U1", "U2")
              + user("U2", "Aprobar") + flow("F3", "U2", "E") + END)
SALES = bpmn("p_ventas", SALES_BODY, named_lanes(Ventas=["S", "U1"], Gerencia=["U2", "E"]))


def _users(engine):
    engine.create_user("ana", PASSWORD, "analista")
    engine.create_user("ana_rm", PASSWORD, "analista", region="CL-RM")
    engine.create_user("ana_bi", PASSWORD, "analista", region="CL-BI")
    engine.create_user("eje", PASSWORD, "ejecutivo_cpe", region="CL-RM")
    engine.create_user("jefe", PASSWORD, "jefe_regional", region="CL-RM")


def _ids(engine, user):
    return [t["bpmn_id"] for t in engine.ready_tasks(user=user)]


def test_a_task_in_no_lane_goes_to_the_analysts_of_the_case_region(engine):
    _users(engine)
    files = [FORM, ("sin.bpmn", NO_LANES)]
    assert errors_of(engine.validate(files)) == []
    engine.deploy(files)
    case_id = engine.start("p_sin", {"region": "CL-RM"})
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["lane"] == "analista"
    assert _ids(engine, "ana") == ["U1"]  # national analysts
    assert _ids(engine, "ana_rm") == ["U1"]  # the case's region
    assert _ids(engine, "ana_bi") == [] and _ids(engine, "eje") == []
    with pytest.raises(Forbidden):
        engine.complete(task["id"], {"ok": True}, user="eje")
    engine.complete(task["id"], {}, user="ana_rm")
    assert engine.case(case_id)["status"] == "completed"


def test_a_case_without_region_goes_to_the_national_analysts(engine):
    _users(engine)
    engine.deploy([FORM, ("sin.bpmn", NO_LANES)])
    engine.start("p_sin")
    assert _ids(engine, "ana") == ["U1"]
    assert _ids(engine, "ana_rm") == []


def test_lanes_mapped_at_deploy_reach_those_roles_and_are_remembered(engine):
    _users(engine)
    files = [FORM, ("ventas.bpmn", SALES)]
    with pytest.raises(DeployError) as info:
        engine.deploy(files)
    texts = [str(p) for p in info.value.problems]
    assert any("«Ventas» no corresponde a un rol" in t for t in texts), texts
    assert any("«Gerencia» no corresponde a un rol" in t for t in texts), texts
    assert engine.models() == []
    assert [str(p) for p in engine.validate(files)] == texts  # validate == deploy
    mapping = {"Ventas": "ejecutivo_cpe", "Gerencia": "Jefe regional"}
    assert engine.validate(files, lanes=mapping) == []
    assert engine.lane_suggestions(files, mapping) == [{"lane": "Ventas", "role": "ejecutivo_cpe"},
                                                       {"lane": "Gerencia", "role": "jefe_regional"}]
    engine.deploy(files, lanes=mapping)
    case_id = engine.start("p_ventas", {"region": "CL-RM"})
    assert _ids(engine, "eje") == ["U1"] and _ids(engine, "jefe") == []
    engine.complete(engine.ready_tasks(user="eje")[0]["id"], {"ok": True}, user="eje")
    assert _ids(engine, "jefe") == ["U2"]
    engine.complete(engine.ready_tasks(user="jefe")[0]["id"], {"ok": True}, user="jefe")
    assert engine.case(case_id)["status"] == "completed"

    # the next version, without giving the mapping again: remembered
    renamed = bpmn("p_ventas", SALES_BODY.replace("Aprobar", "Aprobar venta"),
                   named_lanes(Ventas=["S", "U1"], Gerencia=["U2", "E"]))
    assert engine.validate([FORM, ("ventas.bpmn", renamed)]) == []
    assert engine.lane_suggestions([FORM, ("ventas.bpmn", renamed)]) == [
        {"lane": "Ventas", "role": "ejecutivo_cpe"}, {"lane": "Gerencia", "role": "jefe_regional"}]
    [result] = [r for r in engine.deploy([FORM, ("ventas.bpmn", renamed)]) if r["kind"] == "process"]
    assert (result["version"], result["created"]) == (2, True)
    engine.start("p_ventas", {"region": "CL-RM"})
    assert _ids(engine, "eje") == ["U1"]
    # a new mapping is a new version; the running cases of version 2 keep theirs
    engine.deploy([FORM, ("ventas.bpmn", renamed)], lanes={"Ventas": "jefe_regional"})
    assert engine.model_version("process", "p_ventas")["version"] == 3
    assert engine.model_version("process", "p_ventas")["dependencies"]["lanes"] == {
        "Gerencia": "jefe_regional", "Ventas": "jefe_regional"}
    engine.start("p_ventas", {"region": "CL-RM"})
    assert _ids(engine, "jefe") == ["U1"] and _ids(engine, "eje") == ["U1"]
    [again] = [r for r in engine.deploy([FORM, ("ventas.bpmn", renamed)]) if r["kind"] == "process"]
    assert (again["version"], again["created"]) == (3, False)  # the same file and the remembered mapping: no-op


def test_lanes_named_after_a_role_map_by_themselves(engine):
    _users(engine)
    files = [FORM, ("r.bpmn", bpmn("p_r", SALES_BODY, named_lanes(**{"Ejecutivo CPE": ["S", "U1"],
                                                                      "JEFE-REGIONAL": ["U2", "E"]})))]
    assert engine.validate(files) == [] and engine.lane_suggestions(files) == []
    engine.deploy(files)
    assert "lanes" not in engine.model_version("process", "p_r")["dependencies"]
    engine.start("p_r", {"region": "CL-RM"})
    assert _ids(engine, "eje") == ["U1"]


def test_camunda_candidate_groups_are_read(engine):
    _users(engine)
    task = user("U1", "Vender").replace('<bpmn:userTask id="U1"', '<bpmn:userTask id="U1" camunda:candidateGroups='
                                        '"otros, ejecutivo_cpe"')
    body = '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + task + flow("F2", "U1", "E") + END
    for lane_set in ("", named_lanes(Ventas=["S", "U1", "E"])):  # no lane; a lane inferred from its tasks
        source = bpmn("p_cg", body, lane_set).replace(b"<bpmn:definitions ", b"<bpmn:definitions " + CAMUNDA.encode())
        files = [FORM, ("cg.bpmn", source)]
        assert engine.validate(files) == []
        engine.deploy(files)
        case_id = engine.start("p_cg", {"region": "CL-RM"})
        assert _ids(engine, "eje") == ["U1"] and _ids(engine, "ana") == []
        engine.complete(engine.ready_tasks(case_id=case_id)[0]["id"], {"ok": True}, user="eje")


@pytest.mark.parametrize("mapping,message", [
    ({"Ventas": "gerente"}, "rol desconocido «gerente» para el carril «Ventas»"),
    ({"Ventas": "x" * 10_000}, "rol desconocido «xxxx"),
    ({"V" * 10_000: "analista"}, "tiene más de 300 caracteres"),
    ({"Ven\x00tas": "analista"}, "caracteres de control"),
    ({"Ven\udcfftas": "analista"}, "caracteres de control o inválidos"),
    ({"Ventas": "ana\udcfflista"}, "rol desconocido «ana\\udcfflista»"),
    ({"": "analista"}, "falta el nombre del carril"),
])
def test_a_bad_mapping_is_refused_in_spanish_and_changes_nothing(engine, mapping, message):
    files = [FORM, ("ventas.bpmn", SALES)]
    with pytest.raises(DeployError) as info:
        engine.deploy(files, lanes=mapping)
    [problem] = info.value.problems
    assert message in str(problem), str(problem)
    assert len(str(problem)) < 600
    str(problem).encode("utf-8")  # no lone surrogate reaches the message
    assert [str(p) for p in engine.validate(files, lanes=mapping)] == [str(problem)]
    assert engine.models() == []
    assert engine.lane_suggestions(files, mapping)[0]["role"] is None


@pytest.mark.parametrize("name", ["V" * 10_000, "Ven&#1;tas", "Ven&#x9;tas\u2028", "«Ventas»\u202e", "Ven&#xD800;tas"])
def test_hostile_lane_names_in_a_diagram_are_refused_or_escaped(engine, name):
    source = SALES.replace(b'name="Ventas"', f'name="{name}"'.encode())
    files = [FORM, ("ventas.bpmn", source)]
    problems = engine.validate(files)
    assert errors_of(problems), problems
    for problem in problems:
        text = str(problem)
        text.encode("utf-8")
        assert len(text) < 1000 and "\x01" not in text and "\u202e" not in text
    with pytest.raises(DeployError):
        engine.deploy(files, lanes={"Gerencia": "analista"})
    assert engine.models() == []


def test_parse_pairs():
    assert lane_roles.parse_pairs(["Ventas=ejecutivo_cpe", "Área = técnica=Analista"]) == {
        "Ventas": "ejecutivo_cpe", "Área = técnica": "analista"}
    for bad, message in [("Ventas", "use --lane"), ("Ventas=", "falta el rol"), ("=analista", "falta el nombre")]:
        with pytest.raises(ValueError, match=message):
            lane_roles.parse_pairs([bad])


def test_cli_deploy_and_validate_take_lane_options(engine, tmp_path):
    _users(engine)
    (tmp_path / "ventas.bpmn").write_bytes(SALES)
    (tmp_path / "f.json").write_bytes(FORM[1])
    context = CliContext.for_app(create_app({"ENGINE": engine, "SECRET_KEY": "test"}))

    def run(*args):
        return CliRunner().invoke(cpe, list(args), obj=context)
    refused = run("validate", str(tmp_path))
    assert refused.exit_code == 1 and "«Ventas» no corresponde a un rol" in refused.output
    refused_deploy = run("deploy", str(tmp_path))
    assert refused_deploy.exit_code == 1 and "«Gerencia» no corresponde a un rol" in refused_deploy.output
    unknown = run("deploy", str(tmp_path), "--lane", "Ventas=gerente")
    assert unknown.exit_code == 1 and "rol desconocido «gerente»" in unknown.output
    assert "Traceback" not in unknown.output
    lanes = ["--lane", "Ventas=ejecutivo_cpe", "--lane", "Gerencia=jefe_regional"]
    assert run("validate", str(tmp_path), *lanes).exit_code == 0
    deployed = run("deploy", str(tmp_path), *lanes)
    assert deployed.exit_code == 0, deployed.output
    started = run("start", "p_ventas", "--data", '{"region": "CL-RM"}', "--json")
    assert started.exit_code == 0, started.output
    listed = json.loads(run("tasks", "--user", "eje", "--json").stdout)
    assert [t["bpmn_id"] for t in listed] == ["U1"]
    assert json.loads(run("tasks", "--user", "ana", "--json").stdout) == []


def test_a_simulation_deploys_the_pinned_mapping_along(engine):
    from engine.simulate import model_lanes, simulate

    engine.deploy([FORM, ("ventas.bpmn", SALES)], lanes={"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"})
    assert model_lanes(engine, "p_ventas") == {"Gerencia": "jefe_regional", "Ventas": "ejecutivo_cpe"}
    result = simulate(engine, "p_ventas", 2, seed=1, horizon_months=1, workers=1)
    assert result["casos"] == 2 and result["version"] == 1


def test_a_design_comparison_carries_the_mapping(engine):
    from engine.simulate.compare_designs import _design
    from webapp.shared.simulation_jobs import _design as design_of

    engine.deploy([FORM, ("ventas.bpmn", SALES)], lanes={"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"})
    spec = design_of(engine, {"proceso": "p_ventas", "version": 1})
    assert spec["carriles"] == {"Gerencia": "jefe_regional", "Ventas": "ejecutivo_cpe"}
    result = _design(spec, 2, 1, 1, {}, [])
    assert result["casos"] == 2


def test_many_lanes_cost_linear_time():
    """A hostile diagram with thousands of lanes and tasks: each lane's tasks are not looked up in a scan of
    the whole process (3 000 x 3 000 would take minutes); this machine needs ~0.2 s."""
    import time

    from lxml import etree

    n = 3000
    lane_set = ('<bpmn:laneSet id="LS">' + "".join(f'<bpmn:lane id="L{i}" name="Carril {i}"><bpmn:flowNodeRef>U{i}'
                                                   "</bpmn:flowNodeRef></bpmn:lane>" for i in range(n))
                + "</bpmn:laneSet>")
    process = etree.fromstring(bpmn("p", "".join(user(f"U{i}") for i in range(n)), lane_set))[0]
    started = time.process_time()
    assert len(lane_roles.unmapped(process)) == n and lane_roles.pinned(process, {"Carril 7": "analista"}) == {
        "Carril 7": "analista"}
    assert len(lane_roles.suggestions(process)) == n
    assert time.process_time() - started < 5


def test_a_candidate_group_mapped_at_deploy_is_pinned_for_the_run(engine):
    """A mapping given for a candidateGroups name (not a lane) is what the run reads too: the task reaches
    the mapped role, in a lane inferred from it and with no lane at all."""
    _users(engine)
    task = user("U1", "Vender").replace('<bpmn:userTask id="U1"', '<bpmn:userTask id="U1" camunda:candidateGroups='
                                        '"Sales"')
    body = '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + task + flow("F2", "U1", "E") + END
    for n, lane_set in enumerate(("", named_lanes(Ventas=["S", "U1", "E"]))):
        source = bpmn(f"p_sales{n}", body, lane_set).replace(b"<bpmn:definitions ",
                                                              b"<bpmn:definitions " + CAMUNDA.encode())
        files = [FORM, (f"sales{n}.bpmn", source)]
        assert errors_of(engine.validate(files, lanes={"Sales": "ejecutivo_cpe"})) == []
        engine.deploy(files, lanes={"Sales": "ejecutivo_cpe"})
        assert engine.model_version("process", f"p_sales{n}")["dependencies"]["lanes"]["Sales"] == "ejecutivo_cpe"
        case_id = engine.start(f"p_sales{n}", {"region": "CL-RM"})
        assert [t["lane"] for t in engine.ready_tasks(case_id=case_id)] == ["ejecutivo_cpe"]
        engine.complete(engine.ready_tasks(case_id=case_id)[0]["id"], {"ok": True}, user="eje")


def test_a_called_process_keeps_its_own_lanes_and_forms_when_ids_repeat(engine):
    """Task ids are unique per process, not across a call: the called process's U1 keeps its lane and form
    even when the caller has a U1 in no lane with another form."""
    _users(engine)
    other_form = ("g.json", json.dumps({"title": "G", "type": "object", "properties": {
        "monto": {"type": "integer", "title": "Monto"}}, "required": ["monto"]}).encode())
    called = bpmn("p_hija", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1")
                  + user("U1", "Tarea hija").replace("f.json", "g.json") + flow("F2", "U1", "E") + END,
                  named_lanes(pyme=["S", "U1", "E"]))
    caller = bpmn("p_madre", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "C1")
                  + '<bpmn:callActivity id="C1" calledElement="p_hija"/>' + flow("F2", "C1", "U1")
                  + user("U1", "Tarea madre") + flow("F3", "U1", "E") + END)
    engine.deploy([FORM, other_form, ("hija.bpmn", called), ("madre.bpmn", caller)])
    case_id = engine.start("p_madre", {"region": "CL-RM"})
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["name"], task["lane"], task["form_id"]) == ("Tarea hija", "pyme", "g")
    engine.complete(task["id"], {"monto": 5}, actor="pyme")
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["name"], task["lane"], task["form_id"]) == ("Tarea madre", "analista", "f")


def test_a_called_process_of_the_same_file_keeps_its_lanes_mapped_at_deploy_and_its_forms(engine):
    """A call to a process of the caller's own file: the callee's lanes take the mapping given at deploy,
    its tasks their own forms, and a manual task of it that no lane lists goes to the analysts (as in
    SpiffWorkflow's Approvals.bpmn, whose flowNodeRefs do not match the ids)."""
    _users(engine)
    other_form = ("g.json", json.dumps({"title": "G", "type": "object", "properties": {
        "monto": {"type": "integer", "title": "Monto"}}, "required": ["monto"]}).encode())
    callee = bpmn("p_hija", '<bpmn:startEvent id="HS"/>' + flow("H1", "HS", "U1")
                  + user("U1", "Tarea hija").replace("f.json", "g.json") + flow("H2", "U1", "U2")
                  + '<bpmn:manualTask id="U2" name="Sin carril"/>' + flow("H3", "U2", "HE")
                  + '<bpmn:endEvent id="HE"/>',
                  named_lanes(Ventas=["HS", "U1", "HE"], Gerencia=["p_hija.U2"]).replace("Lane_", "HLane_")
                  .replace("LaneSet_1", "HLaneSet"))
    caller = bpmn("p_madre", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "C1")
                  + '<bpmn:callActivity id="C1" calledElement="p_hija"/>' + flow("F2", "C1", "E") + END,
                  named_lanes(Gerencia=["S", "C1", "E"]))
    process = callee[callee.index(b"<bpmn:process"):callee.index(b"</bpmn:definitions>")]
    both = caller.replace(b"</bpmn:definitions>", process + b"</bpmn:definitions>")
    files = [FORM, other_form, ("ambos.bpmn", both)]
    mapping = {"Ventas": "ejecutivo_cpe", "Gerencia": "jefe_regional"}
    assert errors_of(engine.validate(files, lanes=mapping)) == []
    engine.deploy(files, lanes=mapping)
    case_id = engine.start("p_madre", {"region": "CL-RM"})
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["name"], task["lane"], task["form_id"]) == ("Tarea hija", "ejecutivo_cpe", "g")
    assert _ids(engine, "eje") == ["U1"]
    engine.complete(task["id"], {"monto": 5}, user="eje")
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["name"], task["lane"]) == ("Sin carril", "analista")
    engine.complete(task["id"], {}, user="ana_rm")
    assert engine.case(case_id)["status"] == "completed"


def _assigned(attributes: str) -> bytes:
    task = user("U1", "Revisar").replace('<bpmn:userTask id="U1"', f'<bpmn:userTask id="U1" {attributes}')
    content = bpmn("p_asignada", '<bpmn:startEvent id="S"/>' + flow("F1", "S", "U1") + task + flow("F2", "U1", "E")
                   + END, named_lanes(Ventas=["S", "U1", "E"]))
    return content.replace(b"<bpmn:definitions ", f"<bpmn:definitions {CAMUNDA}".encode(), 1)


@pytest.mark.parametrize("attributes, data, assignee, warning", [
    ('camunda:assignee="eje"', {}, "eje", None),
    ('camunda:candidateUsers="nadie, jefe, eje"', {}, "jefe", None),  # the first who is a user
    ('camunda:assignee="${responsable}"', {"responsable": "jefe"}, "jefe", None),
    ('camunda:assignee="nadie"', {}, None, "nombra a «nadie», y no hay un usuario con ese nombre de usuario"),
    ('camunda:candidateUsers="nadie, otro"', {}, None, "nombra a «nadie», «otro», y no hay un usuario"),
    ('camunda:assignee="${solicitud.responsable}"', {}, None, "no es un nombre de usuario ni ${variable}"),
])
def test_camunda_assignee_and_candidate_users_give_the_task_to_that_user(engine, attributes, data, assignee,
                                                                           warning):
    _users(engine)
    files = [FORM, ("asignada.bpmn", _assigned(attributes))]
    mapping = {"Ventas": "ejecutivo_cpe"}
    problems = engine.validate(files, lanes=mapping)
    assert errors_of(problems) == []
    told = [p.message for p in problems if p.severity == "warning"]
    assert (told == []) if warning is None else (len(told) == 1 and warning in told[0]), told
    assert [p.message for p in engine.deploy(files, lanes=mapping).warnings] == told
    case_id = engine.start("p_asignada", {"region": "CL-RM", **data})
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["assignee"] == assignee
    if assignee:
        assert _ids(engine, assignee) == ["U1"] and _ids(engine, "eje" if assignee != "eje" else "jefe") == []
    else:
        assert _ids(engine, "eje") == ["U1"]  # offered to the role of its lane


def test_a_user_created_after_deploy_gets_the_tasks_opened_from_then_on(engine):
    _users(engine)
    files = [FORM, ("asignada.bpmn", _assigned('camunda:assignee="nueva"'))]
    engine.deploy(files, lanes={"Ventas": "ejecutivo_cpe"})
    first = engine.start("p_asignada", {"region": "CL-RM"})
    engine.create_user("nueva", PASSWORD, "ejecutivo_cpe", region="CL-RM")
    second = engine.start("p_asignada", {"region": "CL-RM"})
    assert [t["assignee"] for t in engine.ready_tasks(case_id=first)] == [None]
    assert [t["assignee"] for t in engine.ready_tasks(case_id=second)] == ["nueva"]
