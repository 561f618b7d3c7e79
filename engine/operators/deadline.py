"""The time limit of a service task's operator (SPEC §4, issue 8 point 3).

A service task may set the property `tiempo_limite` (ISO 8601 duration, 1 second to 5 minutes,
default DEFAULT_SECONDS). While its operator runs:
- on PostgreSQL every statement gets `statement_timeout` = the time left (it also covers waiting
  for a lock another transaction holds), set with SET LOCAL inside the operator's savepoint and
  put back afterwards;
- on SQLite a progress handler interrupts a statement once the time is up;
- and after the operator returns, a call that took longer than the limit (e.g. slow Python) is
  refused too.
Either way the operator's savepoint is rolled back (nothing it wrote stays), the case goes to the
error state with the reason, and the model's `reintentos` apply (engine/cases/recovery.py).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

from engine.basics.clock import duration_property

DEFAULT_SECONDS = 30.0
MIN_SECONDS, MAX_SECONDS = 1.0, 300.0
SQLITE_CHECK_EVERY = 10_000  # virtual machine instructions between clock checks


class Expired(Exception):
    """The operator ran past its time limit."""


def limit_seconds(properties: dict) -> float:
    """The limit from a service task's properties. Raises ValueError with a Spanish message
    for a value deploy must refuse."""
    length = duration_property(properties, "tiempo_limite", f"PT{DEFAULT_SECONDS:g}S",
                               timedelta(seconds=MIN_SECONDS), timedelta(seconds=MAX_SECONDS),
                               "PT10S", "1 segundo y 5 minutos")
    return length.total_seconds()


def describe(seconds: float) -> str:
    """'30 s', '1,5 s', '2 min' (Spanish, for the case's error message)."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s".replace(".", ",")


class Watch:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def left_ms(self) -> int:
        return max(1, int((self.deadline - time.monotonic()) * 1000))


@contextmanager
def limited(session, seconds: float):
    """Bound the database work of the block to `seconds`; use inside the operator's savepoint.
    Yields a Watch; the caller checks `watch.expired` after the block and on a database error."""
    watch = Watch(seconds)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {watch.left_ms()}")
        yield watch
        # reached only when the block succeeded (after a failure the savepoint's rollback undoes
        # the SET LOCAL, and the aborted transaction would refuse any statement until then);
        # DEFAULT is the connection's own setting, from the server or the connection options
        connection.exec_driver_sql("SET LOCAL statement_timeout TO DEFAULT")
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        raw.set_progress_handler(lambda: 1 if time.monotonic() >= watch.deadline else 0, SQLITE_CHECK_EVERY)
        try:
            yield watch
        finally:
            raw.set_progress_handler(None, 0)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        yield watch
