"""What every table shares."""

from __future__ import annotations

from datetime import UTC, datetime

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def utcnow() -> datetime:
    return datetime.now(UTC)
