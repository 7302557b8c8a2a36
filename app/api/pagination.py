"""Cursor pagination in id order: an opaque cursor names the last id a page returned."""

from __future__ import annotations

import base64
from typing import Annotated, Literal, TypeVar

from fastapi import Query
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import InvalidInput
from app.models import Instruction, TaskInstance, stored_id

# the query parameters every listing takes
DecisionParam = Literal["accepted", "rejected", "all"]
LimitParam = Annotated[int, Query(ge=1, le=1000)]
# the listed tables: their rows have a decision (``accepted``, ``rule``)
_Row = TypeVar("_Row", Instruction, TaskInstance)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = text.split(":", 1)
        if kind != "id":
            raise ValueError
        return int(value)
    except ValueError:
        raise InvalidInput(f"invalid cursor {cursor!r}") from None


def decision_filter(
    query: SelectOfScalar[_Row], table: type[_Row], decision: str, rule: str | None
) -> SelectOfScalar[_Row]:
    """Narrow ``query`` to accepted / rejected rows (``decision`` ``all`` keeps both) and one rule id."""
    if decision != "all":
        query = query.where(col(table.accepted) == (decision == "accepted"))
    if rule is not None:
        query = query.where(col(table.rule) == rule)
    return query


def keyset_page(
    session: Session, query: SelectOfScalar[_Row], table: type[_Row], limit: int, cursor: str | None
) -> tuple[list[_Row], str | None]:
    """Up to ``limit`` rows of ``query`` after ``cursor`` in id order, and the next page's cursor."""
    if cursor is not None:
        query = query.where(col(table.id) > decode_cursor(cursor))
    rows = session.exec(query.order_by(col(table.id)).limit(limit + 1)).all()
    return list(rows[:limit]), encode_cursor(stored_id(rows[limit - 1])) if len(rows) > limit else None
