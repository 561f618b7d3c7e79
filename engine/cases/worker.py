"""The background loop of `cpe worker`: fires due timers (and any other due work it is given).

Run as many workers as wanted, on one machine or several, against one PostgreSQL database:
each due case is claimed in its own transaction with SELECT … FOR UPDATE SKIP LOCKED
(Engine.fire_due_timers), so two workers never fire one timer twice and never wait on each
other. A worker killed at any moment, even with SIGKILL, leaves every case before or after
its step (the database rolls the open transaction back); the next round, of this or any other
worker, fires what it missed.

The loop keeps going when the database is briefly unreachable (restart, failover, a lock
timeout): it logs the error and retries with a growing pause instead of exiting. A case that
fails for any other reason is logged and skipped (Engine.fire_due_timers), so it cannot hold
back the others. SIGTERM and SIGINT stop it after the batch in hand (at most BATCH cases).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

log = logging.getLogger("cpe.worker")

BATCH = 50  # cases per transaction batch: bounds how long a stop request waits
MAX_BATCHES = 50  # per job and round: a round never spins forever on work that stays due


class Worker:
    def __init__(self, engine, jobs: list[tuple[str, Callable[[], int]]] | None = None, interval: float = 5.0,
                 max_pause: float = 60.0, report: Callable[[dict], None] | None = None):
        """`jobs`: (name, callable) pairs; each callable does one batch of due work and returns
        how many items it handled (0 when nothing is due). Default: the engine's timers."""
        self.jobs = jobs or [("temporizadores", lambda: engine.fire_due_timers(limit=BATCH))]
        self.interval, self.max_pause = interval, max_pause
        self.report = report or (lambda done: None)
        self._stop = threading.Event()

    def stop(self, *_args) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def round(self) -> dict[str, int]:
        """Every job until it has nothing due (or the worker is asked to stop)."""
        done = {}
        for name, job in self.jobs:
            total = 0
            for _ in range(MAX_BATCHES):
                if self.stopping:
                    break
                handled = job()
                total += handled
                if not handled:
                    break
            done[name] = total
        return done

    def run(self, once: bool = False) -> None:
        """Rounds every `interval` seconds until stopped; `once`: a single round, errors raised."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        failures = 0
        while not self.stopping:
            try:
                done = self.round()
            except Exception:  # noqa: BLE001 - the database may be back in a moment; never die
                if once:
                    raise
                failures += 1
                pause = min(self.interval * 2 ** min(failures, 10), self.max_pause)
                log.exception("ronda fallida (%s seguidas); nuevo intento en %.1f s", failures, pause)
                self._stop.wait(pause)
                continue
            failures = 0
            if any(done.values()):
                self.report(done)
            if once:
                return
            self._stop.wait(self.interval)
