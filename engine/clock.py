"""The one source of "now".

SpiffWorkflow's timer events call `datetime.now()` themselves; `install()` points that
module at a datetime subclass whose `now()` asks the clock of the current context, so
tests, the simulator and the worker can run timers on virtual time without sleeping.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored time in UTC: SQLite gives back naive datetimes (every stored time is UTC),
    PostgreSQL aware ones in the session's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC with the offset, on every database (None stays None)."""
    return as_utc(moment).isoformat() if moment is not None else None


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            self._now = self._now.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
        self._now = self._now + (delta or timedelta(**kwargs))
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


_SYSTEM = SystemClock()
_current: ContextVar = ContextVar("cpe_clock", default=None)


def now() -> datetime:
    return (_current.get() or _SYSTEM).now()


@contextmanager
def using(clock):
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        moment = now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


def install() -> None:
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime
