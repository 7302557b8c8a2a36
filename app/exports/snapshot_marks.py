"""A snapshot as high-water marks: what its export read when it was taken, without listing a row.

Rows are append-only and every id grows, so "the rows visible when the snapshot was taken" is, per table,
the ids up to the largest one then (``max_id``) minus those at or below it that were not visible (``unseen``:
rolled back, or still being written by a transaction that commits later — PostgreSQL draws ids before
commit; kept as ranges, usually none). Reviews are append-only too: the review in effect for a row is its
newest visible one. A replay rewrites a task's decision in place but keeps the old one in
``decision_change``: a task's decision when the snapshot was taken is the ``old`` of its first change not
visible then, else its current one. Instances are never changed. So an export of the marks (with the
selection recorded beside them) gives the same bytes later, whatever was added, reviewed or replayed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.exports.review_filter import ReviewSelection, ReviewView
from app.models import DecisionChange, Instruction, Review, TaskInstance, stored_id

TABLES = ("instruction", "task_instance", "review", "decision_change")


@dataclass(frozen=True)
class Mark:
    """The ids of one table visible at a moment: up to ``max_id``, but for the ``unseen`` ranges."""

    max_id: int
    unseen: tuple[tuple[int, int], ...] = ()  # inclusive ranges, ascending

    def visible(self, row_id: int) -> bool:
        if row_id > self.max_id:
            return False
        position = bisect.bisect_right(self.unseen, (row_id, float("inf"))) - 1
        return position < 0 or not self.unseen[position][0] <= row_id <= self.unseen[position][1]


@dataclass(frozen=True)
class SnapshotMarks:
    """What a snapshot records instead of ids: the marks, its selection and what it counted."""

    marks: dict[str, Mark]
    selection: ReviewSelection = field(default_factory=ReviewSelection)
    instances: int = 0
    seed_tasks: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "tables": {name: [m.max_id, [list(r) for r in m.unseen]] for name, m in self.marks.items()},
            "review_states": list(self.selection.states) if self.selection.states is not None else None,
            "min_judge_score": self.selection.min_judge_score,
            "instances": self.instances,
            "seed_tasks": self.seed_tasks,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotMarks:
        states = data["review_states"]
        return cls(
            {
                name: Mark(top, tuple((a, b) for a, b in unseen))
                for name, (top, unseen) in data["tables"].items()
            },
            ReviewSelection(tuple(states) if states is not None else None, data["min_judge_score"]),
            data["instances"],
            data["seed_tasks"],
        )


def take_marks(session: Session) -> dict[str, Mark]:
    """Each table's mark now: its largest id and the ids at or below it that this session cannot see."""
    connection = session.connection()
    marks = {}
    for table in TABLES:
        low, top = connection.execute(text(f"SELECT min(id), max(id) FROM {table}")).one()
        if top is None:
            marks[table] = Mark(0)
            continue
        gaps = connection.execute(
            text(
                f"SELECT id, next_id FROM (SELECT id, LEAD(id) OVER (ORDER BY id) AS next_id FROM {table}"
                " WHERE id <= :top) AS ordered WHERE next_id > id + 1"
            ),
            {"top": top},
        ).all()
        unseen = [(1, int(low) - 1)] if low > 1 else []
        unseen += [(int(a) + 1, int(b) - 1) for a, b in gaps]
        marks[table] = Mark(int(top), tuple(unseen))
    return marks


def seed_tasks(session: Session, dataset_id: int, marks: SnapshotMarks) -> Iterator[Instruction]:
    mark = marks.marks["instruction"]
    yield from _visible(session, Instruction, dataset_id, mark, col(Instruction.origin) == "seed")


def instances(session: Session, dataset_id: int, marks: SnapshotMarks) -> Iterator[list[TaskInstance]]:
    """The accepted instances visible then, in id order, a batch at a time."""
    from app.exports.formats import chunks

    mark = marks.marks["task_instance"]
    yield from chunks(_visible(session, TaskInstance, dataset_id, mark, col(TaskInstance.accepted).is_(True)))


def _visible(session: Session, table: Any, dataset_id: int, mark: Mark, narrow: Any) -> Iterator[Any]:
    from app.exports.formats import BATCH

    last = 0
    while True:
        query = select(table).where(col(table.dataset_id) == dataset_id, narrow)
        query = query.where(col(table.id) > last, col(table.id) <= mark.max_id)
        rows = session.exec(query.order_by(col(table.id)).limit(BATCH)).all()
        yield from (row for row in rows if mark.visible(stored_id(row)))
        if len(rows) < BATCH:
            return
        last = stored_id(rows[-1])


def reviews_then(
    session: Session,
    dataset_id: int,
    marks: SnapshotMarks,
    task_ids: Iterable[int],
    instance_ids: Iterable[int],
) -> ReviewView:
    """The review in effect for each of these rows when the snapshot was taken: its newest visible one."""
    mark = marks.marks["review"]
    found: list[dict[int, Review]] = []
    for on_task, ids in ((True, task_ids), (False, instance_ids)):
        column = col(Review.instruction_id) if on_task else col(Review.instance_id)
        rows = session.exec(
            select(Review)
            .where(col(Review.dataset_id) == dataset_id, column.in_(list(ids)), col(Review.id) <= mark.max_id)
            .order_by(col(Review.id))
        ).all()
        newest: dict[int, Review] = {}
        for review in rows:  # ascending ids: the last visible one is the newest
            if mark.visible(stored_id(review)):
                newest[(review.instruction_id if on_task else review.instance_id) or 0] = review
        found.append(newest)
    return ReviewView(found[0], found[1])


def tasks_then(
    session: Session, dataset_id: int, marks: SnapshotMarks, tasks: Sequence[Instruction]
) -> dict[int, Instruction]:
    """Each task as the snapshot saw it: a replay's later change undone (a detached copy), else itself."""
    mark = marks.marks["decision_change"]
    changes = session.exec(
        select(DecisionChange)
        .where(
            col(DecisionChange.dataset_id) == dataset_id,
            col(DecisionChange.instruction_id).in_([stored_id(t) for t in tasks]),
        )
        .order_by(col(DecisionChange.id))
    ).all()
    first_later: dict[int, DecisionChange] = {}
    for change in changes:
        if not mark.visible(stored_id(change)):
            first_later.setdefault(change.instruction_id, change)
    then = {stored_id(t): t for t in tasks}
    for task_id, change in first_later.items():
        then[task_id] = Instruction.model_validate({**then[task_id].model_dump(), **change.old})
    return then
