"""engine.domain.validity: calendar months and how long a stored TPE stays valid (thesis §3.4.2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.domain.validity import add_months, still_valid, valid_until


def at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize("moment, months, expected", [
    (at(2026, 3, 15), 12, at(2027, 3, 15)),
    (at(2026, 1, 31), 1, at(2026, 2, 28)),   # the 31st becomes the last day of a shorter month
    (at(2027, 1, 31), 1, at(2027, 2, 28)),
    (at(2028, 1, 31), 1, at(2028, 2, 29)),   # leap year
    (at(2028, 2, 29), 12, at(2029, 2, 28)),
    (at(2026, 11, 30), 3, at(2027, 2, 28)),
    (at(2026, 12, 1), 1, at(2027, 1, 1)),
    (at(2026, 5, 10), 0, at(2026, 5, 10)),
])
def test_add_months(moment, months, expected):
    assert add_months(moment, months) == expected


@pytest.mark.parametrize("since, now, months, valid", [
    (at(2026, 3, 15), at(2026, 3, 15), 12, True),
    (at(2026, 3, 15), at(2027, 3, 15, 11), 12, True),     # an hour before the anniversary
    (at(2026, 3, 15), at(2027, 3, 15, 12), 12, False),    # the same moment 12 months later: expired
    (at(2026, 3, 15), at(2027, 6, 1), 12, False),
    (at(2026, 3, 15), at(2026, 9, 14), 6, True),
    (at(2026, 3, 15), at(2026, 9, 16), 6, False),
])
def test_still_valid(since, now, months, valid):
    assert still_valid(since, now, months) is valid


@pytest.mark.parametrize("months", [0, -1, 1.5, True, "12", None])
def test_a_validity_is_a_positive_whole_number_of_months(months):
    with pytest.raises(ValueError, match="meses"):
        valid_until(at(2026, 1, 1), months)
