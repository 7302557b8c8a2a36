"""Dataset versions: a snapshot records the exact rows an export contains at the moment it is taken.

Stored rows are never edited (instances and decisions are append-only), so exporting a snapshot later
gives byte-identical output for the same format, split settings and software version, whatever was
added to the dataset since.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.core.errors import NotFound
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
    instance_ids = session.exec(
        select(id_col(TaskInstance.id))
        .where(col(TaskInstance.dataset_id) == dataset.id, col(TaskInstance.accepted).is_(True))
        .order_by(col(TaskInstance.id))
    ).all()
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
        instance_ids=list(instance_ids),
        seed_instruction_ids=list(seed_ids),
    )
    session.add(snapshot)
    session.commit()
    return snapshot


def get_snapshot(session: Session, dataset: Dataset, snapshot_id: int) -> Snapshot:
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.dataset_id != dataset.id:
        raise NotFound(f"dataset {dataset.name!r} has no snapshot {snapshot_id}")
    return snapshot


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
