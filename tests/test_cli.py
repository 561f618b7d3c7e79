"""The `cpe` command: --json documents on stdout, errors on stderr with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.context import CliContext
from cli.main import cpe
from webapp import create_app

MODEL = Path(__file__).parent / "models" / "diagnostico"


@pytest.fixture
def run(engine):
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app), input=input)
    return invoke


def test_full_cycle_from_the_command_line(run):
    assert run("deploy", MODEL, "-m", "inicial").exit_code == 0
    models = json.loads(run("models", "--json").stdout)
    assert {m["key"] for m in models} >= {"diagnostico_rapido", "dr_nivel", "dr_registro"}
    data = json.dumps({"rut": "76086428-5", "razon_social": "Uno SpA", "region": "CL-RM", "ventas_uf": 8000})
    started = run("start", "diagnostico_rapido", "--data", data, "--json")
    assert started.exit_code == 0, started.output
    case_id = json.loads(started.stdout)["case_id"]
    [task] = json.loads(run("tasks", "--case", case_id, "--json").stdout)
    assert {"id", "case_id", "bpmn_id", "name", "lane", "form"} <= set(task)
    assert task["form"]["title"] == "Cuestionario de diagnóstico rápido"
    done = run("complete", task["id"], "--data", '{"respuestas": {"web": "no", "idiomas": "ninguno"}}', "--json")
    assert done.exit_code == 0, done.output
    case = json.loads(run("case", case_id, "--json").stdout)
    assert case["status"] == "completed" and case["process_id"] == "diagnostico_rapido" and case["version"] == 1
    assert [e["kind"] for e in case["history"]][0] == "case_started"


ERRORS = [
    (("start", "nada", "--data", "{}"), "no existe el proceso 'nada'"),
    (("start", "diagnostico_rapido", "--data", "{no es json"), "--data no es JSON válido"),
    (("start", "diagnostico_rapido", "--data", '{"rut": "1-1"}'), "RUT inválido"),
    (("complete", "no-existe", "--data", "{}"), "no existe la tarea"),
    (("case", "999"), "no existe el caso 999"),
    (("validate", "/no/existe"), "no existe: /no/existe"),
]


@pytest.mark.parametrize("args,message", ERRORS)
def test_errors_go_to_stderr_with_nonzero_exit(run, args, message):
    run("deploy", MODEL)
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.stderr and result.stdout == ""


def test_validate_reports_file_line_element(run, tmp_path):
    bad = tmp_path / "malo.bpmn"
    bad.write_text((MODEL / "diagnostico_rapido.bpmn").read_text().replace('id="registrar_sra"', 'id="x_op"'))
    result = run("validate", bad, MODEL / "dr_nivel.dmn", *sorted(MODEL.glob("*.json")))
    assert result.exit_code == 1
    assert "malo.bpmn:" in result.stdout and "serviceTask Service_Sra" in result.stdout
    assert "operador desconocido 'x_op'" in result.stdout
    ok = run("validate", MODEL, "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout) == {"valid": True, "problems": []}


def test_users_create_reads_password_from_stdin(run, engine):
    result = run("users", "create", "maria", "--role", "ejecutivo_cpe", "--region", "CL-RM", "--password-stdin",
                 input="una-clave-larga\n")
    assert result.exit_code == 0, result.output
    assert engine.authenticate("maria", "una-clave-larga").region == "CL-RM"
    again = run("users", "create", "maria", "--role", "analista", "--password-stdin", input="una-clave-larga\n")
    assert again.exit_code != 0 and "ya existe" in again.stderr


def test_worker_once_fires_due_timers(run, engine, clock):
    run("deploy", MODEL)
    case_id = engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": "Uno", "region": "CL-RM",
                                                  "ventas_uf": 8000})
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "varios"}})
    clock.advance(days=7)
    result = run("worker", "--once")
    assert result.exit_code == 0 and "1 caso(s)" in result.stderr
    assert [t["bpmn_id"] for t in engine.ready_tasks(case_id=case_id)] == ["Task_Llamada"]


def test_migrate_from_the_command_line(run, engine, tmp_path):
    assert run("deploy", MODEL).exit_code == 0
    case_id = json.loads(run("start", "diagnostico_rapido", "--data", json.dumps(
        {"rut": "76086428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}),
        "--json").stdout)["case_id"]
    v2 = tmp_path / "v2"
    v2.mkdir()
    for path in MODEL.iterdir():
        (v2 / path.name).write_text(path.read_text().replace('name="Responder cuestionario"',
                                                             'name="Responder el cuestionario"'))
    assert run("deploy", v2, "-m", "v2").exit_code == 0
    preview = run("migrate", case_id, "--to-version", 2, "--dry-run", "--json")
    assert preview.exit_code == 0 and json.loads(preview.stdout)["safe"] is True
    assert engine.case(case_id)["version"] == 1
    human = run("migrate", case_id, "--to-version", 2, "--user", "analista")
    assert human.exit_code == 0 and "v1 → v2: se puede migrar" in human.stdout
    assert engine.case(case_id)["version"] == 2
    assert engine.ready_tasks(case_id=case_id)[0]["name"] == "Responder el cuestionario"
    again = run("migrate", case_id, "--to-version", 2)
    assert again.exit_code == 1 and "ya está en la versión 2" in again.stderr and again.stdout == ""


def test_export_models_writes_the_deployed_versions_back(run, tmp_path):
    assert run("deploy", MODEL, "-m", "inicial").exit_code == 0
    out = tmp_path / "repo"
    result = run("export", "modelos", out, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["key"] for r in rows} == {"diagnostico_rapido", "dr_nivel", "dr_registro", "dr_cuestionario",
                                        "dr_llamada"}
    assert (out / "processes" / "diagnostico_rapido.bpmn").read_bytes() == \
        (MODEL / "diagnostico_rapido.bpmn").read_bytes()
    assert (out / "forms" / "dr_llamada.json").is_file() and (out / "processes" / "dr_nivel.dmn").is_file()
    again = run("deploy", out / "processes", out / "forms", "--json")  # the round trip is a no-op
    assert not any(r["created"] for r in json.loads(again.stdout))


def test_simulate_takes_task_durations_from_the_history_unless_told_not_to(run, deployed, clock):
    from .test_simulate_history import _first_tasks

    _first_tasks(deployed, clock, [3.5] * 20)
    args = ("simulate", "cpe_actual", "--cases", 6, "--seed", 2, "--horizon-months", 3, "--workers", 1)
    taken = run(*args, "--json")
    assert taken.exit_code == 0, taken.output
    durations = json.loads(taken.stdout)["configuracion"]["duraciones"]
    assert durations["tareas"]["Task_TPE_Bienes"] == [2.5, 2.5, 2.5] and durations["historial"] == {
        "Task_TPE_Bienes": 20}
    human = run(*args)
    assert "Task_TPE_Bienes del historial (20 tareas)" in human.stdout
    ignored = run(*args, "--no-history", "--json")
    assert ignored.exit_code == 0, ignored.output
    assert "Task_TPE_Bienes" not in json.loads(ignored.stdout)["configuracion"]["duraciones"]["tareas"]
    assert "duraciones            de la configuración\n" in run(*args, "--no-history").stdout
