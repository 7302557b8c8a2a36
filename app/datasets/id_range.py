"""Which rows of an append-only table a count covers: ids over ``after`` and up to ``upto`` (either bound
open when None). The dataset's stats count the rows up to a mark once and later only the rows past it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement


@dataclass(frozen=True)
class IdRange:
    after: int | None = None
    upto: int | None = None

    def where(self, column: Any) -> list[ColumnElement[bool]]:
        bounds = []
        if self.after is not None:
            bounds.append(column > self.after)
        if self.upto is not None:
            bounds.append(column <= self.upto)
        return bounds


EVERY = IdRange()
