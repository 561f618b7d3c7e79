"""Login rate limiting and lockout (issue 8, web security).

Every attempt is a row of `login_attempts`, so all web processes share the count:

- a username with `MAX_FAILURES_PER_USER` failures within `WINDOW` is locked for `LOCKOUT`
  after the last of them;
- a client address with `MAX_FAILURES_PER_IP` failures within `WINDOW` (whatever usernames it
  tried, existing or not) is locked for `LOCKOUT` the same way.

While locked the caller must not check the password and must not record the attempt (so
an attacker who keeps trying cannot extend the lock forever, and a locked account gives the
same answer whether the password is right or wrong). A successful login clears the
username's failures. Rows older than `RETENTION` are pruned when an attempt is recorded.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from engine.basics.clock import as_utc
from engine.store.schema import LoginAttempt

MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
RETENTION = timedelta(days=1)

USERNAME_LENGTH = 80
IP_LENGTH = 64


def _clean(username: str | None, ip: str | None) -> tuple[str, str]:
    return (username or "").strip().lower()[:USERNAME_LENGTH], (ip or "")[:IP_LENGTH]


def locked_until(failures: list[datetime], limit: int, window: timedelta = WINDOW,
                 lockout: timedelta = LOCKOUT) -> datetime | None:
    """When the lock caused by `failures` (sorted times) ends: `lockout` after the last failure of
    any `limit` failures that fall within `window`; None if no such run exists."""
    until = None
    for first, last in zip(failures, failures[limit - 1:], strict=False):
        if last - first < window:
            candidate = last + lockout
            until = candidate if until is None or candidate > until else until
    return until


def _failures(session, column, value, since: datetime) -> list[datetime]:
    rows = session.scalars(select(LoginAttempt.at)
                           .where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since)
                           .order_by(LoginAttempt.at))
    return [as_utc(at) for at in rows]


def check_allowed(engine, username: str | None, ip: str | None) -> tuple[bool, int]:
    """(allowed, retry_after_seconds): whether a login for `username` from `ip` may be tried now
    and, if not, in how many whole seconds (at least 1) it may be tried again."""
    username, ip = _clean(username, ip)
    now = engine.now()
    since = now - (WINDOW + LOCKOUT)
    with engine.Session() as s:
        ends = [locked_until(_failures(s, LoginAttempt.username, username, since), MAX_FAILURES_PER_USER)]
        if ip:
            ends.append(locked_until(_failures(s, LoginAttempt.ip, ip, since), MAX_FAILURES_PER_IP))
    until = max((end for end in ends if end is not None), default=None)
    if until is None or until <= now:
        return True, 0
    return False, max(1, math.ceil((until - now).total_seconds()))


def record(engine, username: str | None, ip: str | None, success: bool) -> None:
    """Store one attempt; a success clears the username's failures. Prunes old rows."""
    username, ip = _clean(username, ip)
    now = engine.now()
    with engine.transaction() as s:
        s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - RETENTION))
        if success:
            s.execute(delete(LoginAttempt).where(LoginAttempt.username == username,
                                                 LoginAttempt.success.is_(False)))
        s.add(LoginAttempt(username=username, ip=ip, at=now, success=bool(success)))
