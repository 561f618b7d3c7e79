"""Login rate limiting and lockout in the engine (engine/accounts/logins.py), on the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.accounts import logins
from engine.store.schema import LoginAttempt

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Each step: (minutes since T0, username, ip, success or None to only check), expected (allowed, retry_after).
SCENARIOS = {
    "four failures do not lock": (
        [(0, "ana", "1.1.1.1", False)] * 4, ("ana", "1.1.1.1"), 0, (True, 0)),
    "five failures lock the username for 15 minutes": (
        [(0, "ana", "1.1.1.1", False)] * 5, ("ana", "1.1.1.1"), 0, (False, 900)),
    "the lock holds from any address": (
        [(0, "ana", "1.1.1.1", False)] * 5, ("ana", "9.9.9.9"), 10, (False, 300)),
    "the lock ends 15 minutes after the last failure": (
        [(0, "ana", "1.1.1.1", False)] * 5, ("ana", "1.1.1.1"), 15, (True, 0)),
    "failures spread over more than 15 minutes do not lock": (
        [(m, "ana", "1.1.1.1", False) for m in (0, 4, 8, 12, 16)], ("ana", "1.1.1.1"), 16, (True, 0)),
    "five failures within a window lock even if older ones left it": (
        [(m, "ana", "1.1.1.1", False) for m in (0, 1, 2, 3, 14)], ("ana", "1.1.1.1"), 20, (False, 540)),
    "a success clears the username's failures": (
        [(0, "ana", "1.1.1.1", False)] * 4 + [(1, "ana", "1.1.1.1", True), (2, "ana", "1.1.1.1", False)],
        ("ana", "1.1.1.1"), 2, (True, 0)),
    "another username is not locked by ana's failures": (
        [(0, "ana", "1.1.1.1", False)] * 5, ("beto", "2.2.2.2"), 0, (True, 0)),
    "unknown usernames count too (usernames normalised)": (
        [(0, "  NADIE ", "1.1.1.1", False)] * 5, ("nadie", "3.3.3.3"), 1, (False, 840)),
    "twenty failures from one address lock that address for any username": (
        [(0, f"u{i}", "5.5.5.5", False) for i in range(20)], ("otra", "5.5.5.5"), 5, (False, 600)),
    "nineteen failures from one address do not": (
        [(0, f"u{i}", "5.5.5.5", False) for i in range(19)], ("otra", "5.5.5.5"), 5, (True, 0)),
    "the address lock does not reach other addresses": (
        [(0, f"u{i}", "5.5.5.5", False) for i in range(20)], ("otra", "6.6.6.6"), 5, (True, 0)),
}


@pytest.mark.parametrize("steps,probe,at,expected", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_lockout(engine, clock, steps, probe, at, expected):
    for minutes, username, ip, success in steps:
        clock.set(T0 + timedelta(minutes=minutes))
        logins.record(engine, username, ip, success)
    clock.set(T0 + timedelta(minutes=at))
    assert logins.check_allowed(engine, *probe) == expected


def test_retry_after_counts_down_in_whole_seconds(engine, clock):
    clock.set(T0)
    for _ in range(5):
        logins.record(engine, "ana", "1.1.1.1", False)
    clock.advance(seconds=899.5)
    assert logins.check_allowed(engine, "ana", "1.1.1.1") == (False, 1)
    clock.advance(seconds=0.5)
    assert logins.check_allowed(engine, "ana", "1.1.1.1") == (True, 0)


def test_old_rows_are_pruned(engine, clock):
    clock.set(T0)
    for _ in range(3):
        logins.record(engine, "ana", "1.1.1.1", False)
    clock.advance(days=1, minutes=1)
    logins.record(engine, "beto", "2.2.2.2", False)
    with engine.Session() as s:
        assert s.scalars(select(LoginAttempt.username)).all() == ["beto"]


def test_success_keeps_a_row_and_other_users_failures(engine, clock):
    clock.set(T0)
    logins.record(engine, "ana", "1.1.1.1", False)
    logins.record(engine, "beto", "1.1.1.1", False)
    logins.record(engine, "ana", "1.1.1.1", True)
    with engine.Session() as s:
        rows = s.execute(select(LoginAttempt.username, LoginAttempt.success).order_by(LoginAttempt.id)).all()
        assert [tuple(r) for r in rows] == [("beto", False), ("ana", True)]
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 2


@pytest.mark.parametrize("failures,limit,expected", [
    ([], 5, None),
    ([0, 1, 2, 3], 5, None),
    ([0, 1, 2, 3, 4], 5, 19),
    ([0, 1, 2, 3, 15], 5, None),       # exactly 15 minutes apart: outside the window
    ([0, 1, 2, 3, 14, 15], 5, 30),     # the latest run wins
    ([0, 1, 2, 3, 14, 20], 5, 29),     # 1..20 is not within 15 minutes
])
def test_locked_until(failures, limit, expected):
    times = [T0 + timedelta(minutes=m) for m in failures]
    result = logins.locked_until(times, limit)
    assert result == (None if expected is None else T0 + timedelta(minutes=expected))
