"""Cron expressions read in a time zone (croniter + zoneinfo); every instant returned is in UTC.

Five fields (minute hour day month weekday), six with seconds last (``*/30 * * * * 0``… see croniter), or
an alias such as ``@daily``. Times are computed in the schedule's zone, so ``0 2 * * *`` in
``Europe/Paris`` follows daylight saving time; a local time skipped by a DST jump fires at the next
valid instant, as croniter does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


def check_cron(expression: str) -> str:
    expression = " ".join(expression.split())
    fields = expression.split(" ")
    if not expression.startswith("@") and len(fields) not in (5, 6):
        raise ValueError(
            f"cron expression {expression!r} has {len(fields)} fields; use 5 "
            "(minute hour day month weekday) or 6 (with seconds last)"
        )
    if not croniter.is_valid(expression):
        raise ValueError(f"invalid cron expression {expression!r}")
    return expression


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'") from None
    return name


def as_utc(moment: datetime) -> datetime:
    """Stored times come back naive from SQLite and aware from PostgreSQL; both mean UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def next_fire_after(expression: str, zone: str, moment: datetime) -> datetime:
    """The first tick strictly after ``moment``."""
    local = as_utc(moment).astimezone(ZoneInfo(zone))
    return as_utc(croniter(expression, local).get_next(datetime))


def latest_fire_at_or_before(expression: str, zone: str, moment: datetime) -> datetime:
    """The last tick at or before ``moment``."""
    local = as_utc(moment).astimezone(ZoneInfo(zone))
    iterator = croniter(expression, local)
    if croniter.match(expression, local):
        return as_utc(local.replace(microsecond=0)) if _has_seconds(expression) else _minute(local)
    return as_utc(iterator.get_prev(datetime))


def _has_seconds(expression: str) -> bool:
    return not expression.startswith("@") and len(expression.split(" ")) == 6


def _minute(local: datetime) -> datetime:
    return as_utc(local.replace(second=0, microsecond=0))
