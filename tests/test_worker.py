"""The worker loop (engine/cases/worker.py) and the shared virtual clock (CPE_CLOCK_FILE): a broken
case or an unreachable database never stops the timers of every other case."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from engine.assembly import build_engine
from engine.basics import clock as clockmod
from engine.basics.clock import FileClock, SystemClock
from engine.cases.worker import Worker
from engine.models.validation import collect_files

from .multiproc import MODEL, PROCESS, rut


def _waiting_cases(engine, n):
    engine.deploy(collect_files([MODEL]))
    return [engine.start(PROCESS, {"rut": rut(i), "razon_social": f"Empresa {i}", "region": "CL-RM",
                                   "monto_usd": 100}) for i in range(n)]


def test_one_broken_case_does_not_hold_back_the_other_timers(engine, clock, monkeypatch, caplog):
    ids = _waiting_cases(engine, 3)
    clock.advance(days=4)  # every case's review deadline (P3D) has passed
    broken = ids[0]
    advance = engine._advance

    def failing(s, case, *args, **kwargs):
        if case.id == broken:
            raise ValueError("fallo inesperado")
        return advance(s, case, *args, **kwargs)
    monkeypatch.setattr(engine, "_advance", failing)
    with caplog.at_level(logging.ERROR):
        assert engine.fire_due_timers() == 2
    assert f"caso {broken}" in caplog.text
    assert [engine.case(i)["status"] for i in ids] == ["active", "completed", "completed"]
    assert engine.case(broken)["history"][-1]["kind"] != "error"  # rolled back: nothing half-applied
    monkeypatch.setattr(engine, "_advance", advance)
    assert engine.fire_due_timers() == 1  # the next round fires it once it can
    assert engine.case(broken)["status"] == "completed"


def test_the_worker_keeps_going_when_the_database_fails_and_stops_on_request():
    calls = []
    worker = Worker(engine=None, interval=0.01, max_pause=0.02,
                    jobs=[("temporizadores", lambda: calls.append(1) or _flaky(len(calls)))])
    done = []
    worker.report = done.append
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = datetime.now() + timedelta(seconds=10)
        while len(calls) < 8 and datetime.now() < deadline:
            threading.Event().wait(0.01)
    finally:
        worker.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert len(calls) >= 8  # it went on after the two failures
    assert {"temporizadores": 5} in done  # 2 + 3: a batch that handled something is followed by another


def _flaky(n):
    if n in (1, 2):
        raise OperationalError("SELECT 1", {}, Exception("la base de datos no responde"))
    return {3: 2, 4: 3}.get(n, 0)


def test_once_raises_what_fails():
    worker = Worker(engine=None, jobs=[("x", lambda: 1 / 0)])
    with pytest.raises(ZeroDivisionError):
        worker.run(once=True)


def test_file_clock_is_shared_through_the_file(tmp_path, monkeypatch):
    path = tmp_path / "reloj.txt"
    first = FileClock.create(path, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    second = FileClock(path)  # another process reading the same file
    assert second.now() == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first.advance(days=1, hours=2)
    assert second.now() == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    path.write_text("2026-03-10T12:00:00-03:00")
    assert first.now() == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    path.write_text("mañana")
    with pytest.raises(RuntimeError, match="ISO 8601"):
        first.now()
    monkeypatch.setenv("CPE_CLOCK_FILE", str(tmp_path / "no-existe.txt"))
    with pytest.raises(RuntimeError, match="reloj virtual"):
        clockmod.configured()
    monkeypatch.delenv("CPE_CLOCK_FILE")
    assert isinstance(clockmod.configured(), SystemClock)


def test_an_engine_without_a_clock_uses_the_shared_one(tmp_path, monkeypatch, database_url):
    clock = FileClock.create(tmp_path / "reloj.txt", datetime(2030, 1, 1, tzinfo=UTC))
    monkeypatch.setenv("CPE_CLOCK_FILE", str(clock.path))
    engine = build_engine(url=database_url)
    try:
        assert engine.now() == datetime(2030, 1, 1, tzinfo=UTC)
        clock.advance(days=1)
        assert engine.now() == datetime(2030, 1, 2, tzinfo=UTC)
    finally:
        engine.db.dispose()
