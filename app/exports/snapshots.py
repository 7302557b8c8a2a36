"""Dataset versions: a snapshot records the exact rows an export contains at the moment it is taken.

A snapshot records high-water marks (app/exports/snapshot_marks.py) and its selection — which review
states and judge scores let rows through (app/exports/review_filter.py) — so exporting it later gives
byte-identical output for the same format, split settings and software version, whatever was added,
reviewed or replayed since, while its row stays a few hundred bytes whatever the dataset's size.
Snapshots taken before marks existed list the instance ids and the edited reviews and export as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from sqlmodel import Session, col, select

from app.core.errors import get_in_dataset
from app.exports.formats import BATCH, ExportRow, SplitSpec, export_row, seed_rows
from app.exports.review_filter import ReviewSelection, ReviewView
from app.exports.snapshot_marks import (
    SnapshotMarks,
    instances,
    reviews_then,
    seed_tasks,
    take_marks,
    tasks_then,
)
from app.models import (
    Dataset,
    Instruction,
    Snapshot,
    SnapshotCreate,
    SnapshotPublic,
    TaskInstance,
    stored_id,
)


def create_snapshot(session: Session, dataset: Dataset, data: SnapshotCreate) -> Snapshot:
    selection = ReviewSelection(tuple(data.review) if data.review else None, data.min_judge_score)
    marks = SnapshotMarks(take_marks(session), selection)
    dataset_id = stored_id(dataset)
    seeds = sum(1 for _ in seed_tasks(session, dataset_id, marks)) if data.include_seeds else 0
    kept = sum(len(batch) for batch in marked_rows(session, dataset_id, marks))
    snapshot = Snapshot(
        dataset_id=dataset_id,
        note=data.note,
        include_seeds=data.include_seeds,
        marks=replace(marks, instances=kept, seed_tasks=seeds).as_json(),
    )
    session.add(snapshot)
    session.commit()
    return snapshot


def marked_rows(
    session: Session, dataset_id: int, marks: SnapshotMarks
) -> Iterator[list[tuple[Instruction, TaskInstance, ReviewView]]]:
    """The instances a marks snapshot holds, a batch at a time, each with its task as the snapshot saw it
    and the reviews in effect then."""
    for batch in instances(session, dataset_id, marks):
        current = session.exec(
            select(Instruction).where(col(Instruction.id).in_({i.instruction_id for i in batch}))
        ).all()
        tasks = tasks_then(session, dataset_id, marks, current)
        reviews = reviews_then(session, dataset_id, marks, tasks, [stored_id(i) for i in batch])
        kept = [
            (tasks[i.instruction_id], i, reviews)
            for i in batch
            if reviews.keeps(marks.selection, tasks[i.instruction_id], i)
        ]
        if kept:
            yield kept


def selected_instances(
    session: Session, dataset: Dataset, selection: ReviewSelection
) -> tuple[list[int], list[int]]:
    """The accepted instances the reviews and scores let through, in id order, and the edited reviews
    whose texts they export with."""
    instance_ids: list[int] = []
    review_ids: set[int] = set()
    last = 0
    while True:
        batch = session.exec(
            select(TaskInstance, Instruction)
            .join(Instruction, col(Instruction.id) == col(TaskInstance.instruction_id))
            .where(col(TaskInstance.dataset_id) == dataset.id, col(TaskInstance.accepted).is_(True))
            .where(col(TaskInstance.id) > last)
            .order_by(col(TaskInstance.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return instance_ids, sorted(review_ids)
        view = ReviewView.current(
            session, stored_id(dataset), {stored_id(t) for _, t in batch}, [stored_id(i) for i, _ in batch]
        )
        for instance, task in batch:
            if view.keeps(selection, task, instance):
                instance_ids.append(stored_id(instance))
                review_ids.update(view.edit_ids(task, instance))
        last = stored_id(batch[-1][0])


def marked_export_rows(
    session: Session, dataset: Dataset, snapshot: Snapshot, splits: SplitSpec, split: str
) -> Iterator[ExportRow]:
    """The export rows of a snapshot taken with high-water marks: seeds first, then instances."""
    marks = SnapshotMarks.from_json(snapshot.marks or {})
    dataset_id = stored_id(dataset)
    if snapshot.include_seeds:
        yield from seed_rows(seed_tasks(session, dataset_id, marks), splits, split)
    for batch in marked_rows(session, dataset_id, marks):
        for task, instance, reviews in batch:
            row = export_row(task, instance, *reviews.texts(task, instance), splits)
            if split in ("all", row.split):
                yield row


def get_snapshot(session: Session, dataset: Dataset, snapshot_id: int) -> Snapshot:
    return get_in_dataset(session, Snapshot, snapshot_id, dataset, "snapshot")


def list_snapshots(session: Session, dataset: Dataset) -> list[Snapshot]:
    query = select(Snapshot).where(col(Snapshot.dataset_id) == dataset.id).order_by(col(Snapshot.id))
    return list(session.exec(query).all())


def snapshot_public(snapshot: Snapshot, dataset: Dataset) -> SnapshotPublic:
    marks = SnapshotMarks.from_json(snapshot.marks) if snapshot.marks is not None else None
    return SnapshotPublic(
        id=stored_id(snapshot),
        dataset=dataset.name,
        note=snapshot.note,
        include_seeds=snapshot.include_seeds,
        instances=marks.instances if marks else len(snapshot.instance_ids),
        seed_tasks=marks.seed_tasks if marks else len(snapshot.seed_instruction_ids),
        created_at=snapshot.created_at,
    )
