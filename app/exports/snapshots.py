"""Dataset versions: a snapshot records the exact rows an export contains at the moment it is taken.

A snapshot records the instance ids the reviews and judge scores let through then (see
app/exports/review_filter.py) and the edited reviews whose texts those rows export with. Instances are
never edited and reviews are append-only, so exporting a snapshot later gives byte-identical output for
the same format, split settings and software version, whatever was added, reviewed or replayed since.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.core.errors import get_in_dataset
from app.exports.formats import BATCH
from app.exports.review_filter import ReviewSelection, ReviewView
from app.models import (
    Dataset,
    Instruction,
    Snapshot,
    SnapshotCreate,
    SnapshotPublic,
    TaskInstance,
    id_col,
    stored_id,
)


def create_snapshot(session: Session, dataset: Dataset, data: SnapshotCreate) -> Snapshot:
    selection = ReviewSelection(tuple(data.review) if data.review else None, data.min_judge_score)
    instance_ids, review_ids = selected_instances(session, dataset, selection)
    seed_ids = (
        session.exec(
            select(id_col(Instruction.id))
            .where(col(Instruction.dataset_id) == dataset.id, col(Instruction.origin) == "seed")
            .order_by(col(Instruction.id))
        ).all()
        if data.include_seeds
        else []
    )
    snapshot = Snapshot(
        dataset_id=stored_id(dataset),
        note=data.note,
        include_seeds=data.include_seeds,
        instance_ids=instance_ids,
        seed_instruction_ids=list(seed_ids),
        review_ids=review_ids,
    )
    session.add(snapshot)
    session.commit()
    return snapshot


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


def get_snapshot(session: Session, dataset: Dataset, snapshot_id: int) -> Snapshot:
    return get_in_dataset(session, Snapshot, snapshot_id, dataset, "snapshot")


def list_snapshots(session: Session, dataset: Dataset) -> list[Snapshot]:
    query = select(Snapshot).where(col(Snapshot.dataset_id) == dataset.id).order_by(col(Snapshot.id))
    return list(session.exec(query).all())


def snapshot_public(snapshot: Snapshot, dataset: Dataset) -> SnapshotPublic:
    return SnapshotPublic(
        id=stored_id(snapshot),
        dataset=dataset.name,
        note=snapshot.note,
        include_seeds=snapshot.include_seeds,
        instances=len(snapshot.instance_ids),
        seed_tasks=len(snapshot.seed_instruction_ids),
        created_at=snapshot.created_at,
    )
