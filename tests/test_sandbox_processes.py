"""Class 3 of "Hostile input" in the real processes: a script that raises SystemExit or
KeyboardInterrupt neither stops `cpe worker` (the other due cases fire, it keeps running) nor
restarts a gunicorn worker (the request gets a normal answer, the case is in error)."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

from engine.assembly import build_engine
from engine.basics.clock import FileClock

from .multiproc import Browser, environment, form_fields, ready_task, wait_for, wait_http, web, worker

FORM = Path(__file__).parent / "models" / "confiabilidad" / "conf_cierre.json"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')

TIMED = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="D_t" targetNamespace="x">
  <bpmn:process id="espera_hostil" name="Espera" isExecutable="true">
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="Esperar" name="Esperar"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="T"><bpmn:timeDuration>espera</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="Calcular" name="Calcular"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>if mala:
    raise SystemExit(0)
listo = True</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Esperar" />
    <bpmn:sequenceFlow id="F2" sourceRef="Esperar" targetRef="Calcular" />
    <bpmn:sequenceFlow id="F3" sourceRef="Calcular" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>"""

HUMAN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions NS id="D_h" targetNamespace="x">
  <bpmn:process id="PID" name="Tarea" isExecutable="true">
    <bpmn:laneSet id="L"><bpmn:lane id="ejecutivo_cpe" name="Ejecutivo CPE">
      <bpmn:flowNodeRef>Inicio</bpmn:flowNodeRef><bpmn:flowNodeRef>Cerrar</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Calcular</bpmn:flowNodeRef><bpmn:flowNodeRef>Fin</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Inicio"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Cerrar" name="Confirmar cierre">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="conf_cierre.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="Calcular" name="Calcular"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Cerrar" />
    <bpmn:sequenceFlow id="F2" sourceRef="Cerrar" targetRef="Calcular" />
    <bpmn:sequenceFlow id="F3" sourceRef="Calcular" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>"""
EXITS = {"tarea_sale": "raise SystemExit(0)", "tarea_interrumpe": "raise KeyboardInterrupt()"}


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_a_script_that_exits_does_not_stop_the_worker(tmp_path, database_url):
    clock = FileClock.create(tmp_path / "reloj.txt")
    engine = build_engine(url=database_url, clock=clock)
    engine.upgrade()
    engine.deploy([("espera_hostil.bpmn", TIMED.encode())])
    bad = engine.start("espera_hostil", {"mala": True, "espera": "PT1H"})  # due first
    good = engine.start("espera_hostil", {"mala": False, "espera": "PT2H"})
    clock.advance(hours=3)
    proc = worker("worker", environment(database_url, clock.path), tmp_path, interval=0.3).start()
    try:
        wait_for(lambda: engine.case(good)["status"] == "completed", 60, "the good case to fire")
        assert engine.case(bad)["status"] == "error"
        assert "SystemExit" in engine.case(bad)["error"]["message"]
        time.sleep(1)  # another round or two
        assert proc.alive(), proc.output()
        os.killpg(proc.popen.pid, signal.SIGTERM)
        assert proc.popen.wait(timeout=30) == 0
    finally:
        proc.stop()
    assert "Traceback" not in proc.output(), proc.output()[-3000:]
    engine.db.dispose()


def test_a_script_that_exits_does_not_restart_the_gunicorn_worker(tmp_path, database_url):
    clock = FileClock.create(tmp_path / "reloj.txt")
    engine = build_engine(url=database_url, clock=clock)
    engine.upgrade()
    engine.deploy([(f"{pid}.bpmn", HUMAN.replace("NS", NS).replace("PID", pid).replace("SCRIPT", script).encode())
                   for pid, script in EXITS.items()] + [("conf_cierre.json", FORM.read_bytes())])
    engine.create_user("eje", "clave-de-prueba-2026", "ejecutivo_cpe", region="CL-RM")
    cases = {pid: engine.start(pid, {"region": "CL-RM"}) for pid in EXITS}
    proc = web("web", environment(database_url, clock.path), tmp_path, threads=2)
    proc.start()
    try:
        wait_http(proc.url)
        master = proc.popen.pid
        before = _children(master)
        statuses: Counter = Counter()
        browser = Browser("eje", "clave-de-prueba-2026", statuses)
        browser.login(proc.url)
        for pid, case_id in cases.items():
            exit_name = EXITS[pid].split()[1].split("(")[0]
            task_id = ready_task(engine, case_id, "Cerrar")
            where = browser.complete(proc.url, proc.url, task_id, form_fields({"conforme": True}))
            assert where.endswith(f"/casos/{case_id}"), where
            case = engine.case(case_id)
            assert case["status"] == "error", case
            assert exit_name in case["error"]["message"]
        assert not [code for code in statuses if code >= 500], statuses
        assert _children(master) == before  # no worker died or was restarted
        assert proc.alive()
    finally:
        proc.stop()
    assert "Traceback" not in proc.output(), proc.output()[-3000:]
    engine.db.dispose()

