"""Working days (Monday to Friday), for deadlines such as "5 días hábiles" (SPEC §1 step 5)."""

from datetime import date, datetime, timedelta


def add_working_days(start: datetime, n: int, holidays: frozenset[date] = frozenset()) -> datetime:
    """`start` moved forward by `n` working days, keeping the time of day and the zone."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError("la cantidad de días hábiles debe ser un entero mayor o igual a 0")
    moment = start
    while n:
        moment += timedelta(days=1)
        if moment.weekday() < 5 and moment.date() not in holidays:
            n -= 1
    return moment
