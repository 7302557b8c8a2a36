"""What every table shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, cast

from sqlalchemy.orm import Mapped
from sqlmodel import col

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Row) -> int:
    """The primary key of a row that has been stored (flushed or loaded).

    Table models declare ``id: int | None`` because a new row has no id until it is flushed; code that
    works with stored rows uses this instead of ``row.id`` so that a missing id is a clear error.
    """
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush the session before using it")
    return row.id


def id_col(column: int | None) -> Mapped[int]:
    """``col(Model.id)`` typed as the column it is: a primary key, never NULL, so selecting it gives ints."""
    return cast("Mapped[int]", col(column))
