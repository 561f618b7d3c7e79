"""How long something the programme keeps stays valid, in calendar months (the company's TPE: a
new case reuses it while it is valid, thesis §3.4.2 "un solo TPE por empresa")."""

from datetime import datetime, timedelta


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus `months` calendar months (the 31st becomes the last day of a shorter month),
    same time of day and zone."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def valid_until(since: datetime, months: int) -> datetime:
    """The moment something given at `since` stops being valid after `months` months."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError("la vigencia debe ser un número entero de meses mayor que 0")
    return add_months(since, months)


def still_valid(since: datetime, now: datetime, months: int) -> bool:
    """Whether something given at `since` is still valid at `now` (valid for `months` months:
    up to, not including, the same day and time `months` months later)."""
    return now < valid_until(since, months)
