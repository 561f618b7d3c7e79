"""The one source of "now".

SpiffWorkflow's timer events call `datetime.now()` themselves; `install()` points that
module at a datetime subclass whose `now()` asks the clock of the current context, so
tests, the simulator and the worker can run timers on virtual time without sleeping.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


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


class FileClock:
    """Virtual time shared by every process of an installation (web, workers, CLI): "now" is
    the ISO 8601 moment written in a file, read again on every call. Meant for tests, training
    rooms and rehearsals of a deadline, never for production: `CPE_CLOCK_FILE` selects it.
    `set` and `advance` write the file atomically (the other processes see the new time at
    their next read, never a half-written one)."""

    def __init__(self, path):
        self.path = Path(path)
        self.now()  # a missing or unreadable file is a configuration error: say so at start-up

    def now(self) -> datetime:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            moment = datetime.fromisoformat(text)
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"reloj virtual {self.path}: se esperaba una fecha y hora ISO 8601 ({exc})") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def set(self, moment: datetime) -> None:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(moment.isoformat(), encoding="utf-8")
        os.replace(temporary, self.path)

    def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
        moment = self.now() + (delta or timedelta(**kwargs))
        self.set(moment)
        return moment

    @classmethod
    def create(cls, path, start: datetime | None = None) -> FileClock:
        """A new shared clock file at `start` (default: VirtualClock's start)."""
        Path(path).write_text(VirtualClock(start).now().isoformat(), encoding="utf-8")
        return cls(path)


def configured():
    """The clock an engine uses when none is given: the shared virtual clock named by
    `CPE_CLOCK_FILE` if set (tests and training only), else the system's."""
    path = os.environ.get("CPE_CLOCK_FILE")
    return FileClock(path) if path else SystemClock()


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


def duration_property(properties: dict, name: str, default: str, low: timedelta, high: timedelta,
                      example: str, bounds: str) -> timedelta:
    """A fixed-length ISO 8601 duration from a task property (`default` when it is not set),
    between `low` and `high`. Raises ValueError with a Spanish message naming the property;
    `bounds` says the allowed range in words. Years and months have no fixed length: refused."""
    text = str(properties.get(name) or default).strip().strip('"')
    try:
        parts = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise ValueError(f"'{name}' debe ser una duración ISO 8601 (p. ej. {example}), no '{text}'") from None
    length = timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
                       minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))
    if parts.get("years") or parts.get("months") or not low <= length <= high:
        raise ValueError(f"'{name}' debe estar entre {bounds}")
    return length
