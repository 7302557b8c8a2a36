"""Histograms of a score column counted by the database, in the bins ``numpy.histogram`` uses: ``bins``
equal bins from ``low`` to ``high`` (``numpy.linspace`` edges), each ``[edge, next edge)``, the last one
closed; values outside the range are counted in the first or last bin (clipped); NULL is ``missing``.

Three ways to count, with the same result:

- :func:`dataset_bins`, a whole dataset: one range count per decision and bin (``UNION ALL``), each read
  from the column's index (``dataset_id, accepted, <score>, origin``, app/models/instructions.py) without
  visiting the rows, so 100,000 rows cost one walk of the index rather than a sort;
- :func:`grouped_bins`, any other selection (one job, the instances): each row's bin number computed by a
  ``CASE`` over the edges, grouped;
- :func:`counted_values`, values already read (the few rows added since a count): the same bin numbers
  with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, case, func, literal, select, union_all
from sqlmodel import Session, col

from app.models import Instruction

Bins = tuple[float, float, int]


@dataclass
class Counted:
    """One histogram's tally: rows per bin, the sum and number of the values, the rows without one."""

    counts: list[int]
    total: float = 0.0
    present: int = 0
    missing: int = 0

    def add(self, other: Counted) -> Counted:
        return Counted(
            [a + b for a, b in zip(self.counts, other.counts, strict=True)],
            self.total + other.total,
            self.present + other.present,
            self.missing + other.missing,
        )


def edges(bins: Bins) -> list[float]:
    low, high, n = bins
    return [float(e) for e in np.linspace(low, high, n + 1)]


def public(counted: Counted, bins: Bins) -> dict[str, Any]:
    """The API's histogram: ``count, missing, mean, edges, counts``."""
    return {
        "count": counted.present,
        "missing": counted.missing,
        "mean": counted.total / counted.present if counted.present else None,
        "edges": [round(e, 6) for e in edges(bins)],
        "counts": counted.counts,
    }


def _in_bin(column: Any, bounds: list[float], k: int) -> ColumnElement[bool]:
    n = len(bounds) - 1
    parts = []
    if k > 0:
        parts.append(column >= bounds[k])
    if k < n - 1:
        parts.append(column < bounds[k + 1])
    return and_(*parts) if parts else column.is_not(None)


def dataset_bins(
    session: Session, dataset_id: int, name: str, bins: Bins, totals: dict[bool, int], upto: int | None = None
) -> dict[bool, Counted]:
    """Histogram of the candidates' (non-seed) ``name`` per decision (True: accepted), of the rows with
    ids up to ``upto`` (all: None); ``totals`` are those candidates per decision, for ``missing``."""
    column = getattr(Instruction, name)
    bounds = edges(bins)
    parts = [
        select(literal(accepted).label("accepted"), literal(k).label("bin"), func.count(), func.sum(column))
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted) == accepted)
        .where(_in_bin(column, bounds, k), col(Instruction.origin) != "seed")
        .where(*([col(Instruction.id) <= upto] if upto is not None else []))
        for accepted in (False, True)
        for k in range(bins[2])
    ]
    result = {accepted: Counted([0] * bins[2]) for accepted in (False, True)}
    for accepted, k, n, total in session.execute(union_all(*parts)).all():
        counted = result[bool(accepted)]
        counted.counts[int(k)] = int(n)
        counted.present += int(n)
        counted.total += float(total or 0.0)
    for accepted, counted in result.items():
        counted.missing = totals.get(accepted, 0) - counted.present
    return result


def grouped_bins(
    session: Session, column: Any, bins: Bins, *where: Any, by: Any = None
) -> dict[Any, Counted]:
    """Histogram of ``column`` over the rows ``where`` selects, per value of ``by`` (one group, None,
    without it)."""
    bounds = edges(bins)
    n = bins[2]
    number = case(
        *((column < bounds[k + 1], k) for k in range(n - 1)), else_=n - 1
    )  # NULL falls through to the last bin; counted apart by count(column)
    key = by if by is not None else literal(None)
    query = (
        select(key, number, func.count(), func.count(column), func.sum(column))
        .where(*where)
        .group_by(key, number)
    )
    result: dict[Any, Counted] = {}
    for group, k, rows, present, total in session.execute(query).all():
        counted = result.setdefault(group, Counted([0] * n))
        counted.counts[int(k)] += int(present)
        counted.present += int(present)
        counted.missing += int(rows) - int(present)
        counted.total += float(total or 0.0)
    return result


def counted_values(values: np.ndarray, bins: Bins) -> Counted:
    """:func:`grouped_bins` of values in hand (NaN: no value): bin ``k`` is the first whose upper edge is
    above the value, else the last."""
    bounds = edges(bins)
    n = bins[2]
    present = values[~np.isnan(values)]
    numbers = np.searchsorted(np.asarray(bounds[1:n]), present, side="right")
    counts = np.bincount(numbers, minlength=n).tolist()
    return Counted(counts, float(present.sum()), len(present), len(values) - len(present))
