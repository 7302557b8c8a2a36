"""Cursor pagination in id order: an opaque cursor names the last id a page returned."""

from __future__ import annotations

import base64
from typing import Annotated, Literal, TypeVar

from fastapi import Path, Query, Response
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import InvalidInput
from app.core.limits import INT4_MAX
from app.models import Instruction, TaskInstance, stored_id

# the query parameters every listing takes
DecisionParam = Literal["accepted", "rejected", "all"]
LimitParam = Annotated[int, Query(ge=1, le=1000)]
CursorParam = Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")]
# a path id: a positive 32-bit integer, the range of the id columns (app/core/limits.py)
IdPath = Annotated[int, Path(ge=1, le=INT4_MAX)]
IdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX)]
NEXT_CURSOR_HEADER = "X-Next-Cursor"
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
        last_id = int(value)
        if not 0 <= last_id <= INT4_MAX:
            raise ValueError
        return last_id
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


def set_next_cursor(response: Response, last_ids: list[int], limit: int) -> None:
    """For listings that answer a plain list: the next page's cursor in ``X-Next-Cursor`` when there is
    one (``last_ids`` holds up to ``limit + 1`` ids, the one beyond the page saying there is more)."""
    if len(last_ids) > limit:
        response.headers[NEXT_CURSOR_HEADER] = encode_cursor(last_ids[limit - 1])
