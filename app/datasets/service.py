"""Datasets and their seed pools."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.settings import Settings
from app.models import (
    Dataset,
    DatasetCreate,
    DatasetPublic,
    DecisionChange,
    Generation,
    Instruction,
    Job,
    Replay,
    Review,
    Schedule,
    Snapshot,
    TaskInstance,
    Template,
    initial_instance_stage,
    stored_id,
)
from app.pipeline.acceptor import accepting
from app.pipeline.pools import PoolRegistry
from filters.embedding import to_bytes
from filters.novelty_pool import normalize_for_exact
from generators.tasks import Task, TaskFileError, load_seed_file

logger = logging.getLogger(__name__)


def get_dataset(session: Session, name: str) -> Dataset:
    dataset = session.exec(select(Dataset).where(func.lower(Dataset.name) == name.lower())).first()
    if dataset is None:
        raise NotFound(f"dataset {name!r} does not exist")
    return dataset


def create_dataset(session: Session, data: DatasetCreate, settings: Settings) -> Dataset:
    same = session.exec(select(Dataset).where(func.lower(Dataset.name) == data.name.lower())).first()
    if same is not None:  # names compare case-insensitively: ``Mine`` is ``mine``
        raise Conflict(f"dataset {same.name!r} already exists")
    values = data.model_dump(exclude_none=True)
    values.setdefault("rouge_threshold", settings.rouge_threshold)
    values.setdefault("embedding_threshold", settings.embedding_threshold)
    values.setdefault("heuristics_preset", settings.heuristics_preset)
    dataset = Dataset.model_validate(values)
    session.add(dataset)
    session.flush()
    return dataset


def add_seeds(
    session: Session, registry: PoolRegistry, dataset: Dataset, tasks: Sequence[Task]
) -> tuple[int, int]:
    """Add seed tasks to a dataset's pool (no filtering); returns ``(added, skipped_duplicates)``.

    Seeds whose text equals an existing pool item (ignoring case and spacing) are skipped.
    """
    pool = registry.get(dataset)
    with accepting(session, registry, pool):
        in_upload: set[str] = set()
        fresh: list[Task] = []
        for task in tasks:
            key = normalize_for_exact(task.instruction)
            if key not in in_upload and pool.novelty.exact_twin(task.instruction) is None:
                in_upload.add(key)
                fresh.append(task)
        vectors = (
            registry.embedder.embed([t.instruction for t in fresh]) if (registry.embedder and fresh) else None
        )
        for position, task in enumerate(fresh):
            row = Instruction(
                dataset_id=stored_id(dataset),
                origin="seed",
                instruction=task.instruction,
                name=task.name,
                instances=[{"input": i.input, "output": i.output} for i in task.instances],
                is_classification=task.is_classification,
                accepted=True,
                instance_stage=initial_instance_stage("seed", True),
                embedding=to_bytes(vectors[position]) if vectors is not None else None,
            )
            session.add(row)
            session.flush()
            vector = vectors[position] if vectors is not None else None
            pool.novelty.add(stored_id(row), row.origin, row.instruction, vector)
    if fresh and dataset.domain.strip():  # the relevance stage's reference holds the seeds' vectors
        registry.invalidate(pool.dataset_id)
    return len(fresh), len(tasks) - len(fresh)


def load_seeds_from_file(path: str | Path) -> list[Task]:
    try:
        return load_seed_file(path)
    except TaskFileError as exc:
        raise InvalidInput(str(exc)) from None


def dataset_counts(session: Session, dataset_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Instruction.origin, Instruction.accepted, func.count())
        .where(col(Instruction.dataset_id) == dataset_id)
        .group_by(col(Instruction.origin), col(Instruction.accepted))
    ).all()
    return counts_by_origin(rows)


def counts_by_origin(rows: Iterable[tuple[str, bool, int]]) -> dict[str, int]:
    """``seed_count, accepted_count, rejected_count`` from (origin, accepted, rows) groups."""
    counts = {"seed_count": 0, "accepted_count": 0, "rejected_count": 0}
    for origin, accepted, n in rows:
        if origin == "seed":
            counts["seed_count"] += n
        else:
            counts["accepted_count" if accepted else "rejected_count"] += n
    return counts


def instance_counts(session: Session, dataset_id: int, upto: int | None = None) -> dict[str | None, int]:
    """Instances per rejecting rule (None: accepted) of the dataset's instances with ids up to ``upto``
    (all: None)."""
    query = (
        select(TaskInstance.rule, func.count())
        .where(col(TaskInstance.dataset_id) == dataset_id)
        .where(*([col(TaskInstance.id) <= upto] if upto is not None else []))
        .group_by(col(TaskInstance.rule))
    )
    return dict(session.exec(query).all())


def public_instance_counts(counts: dict[str | None, int]) -> dict[str, int]:
    """Instances per decision, most first: ``accepted`` and each rejecting rule id."""
    return {
        rule or "accepted": n
        for rule, n in sorted(counts.items(), key=lambda r: (-r[1], r[0] is not None, r[0] or ""))
    }


def to_public(session: Session, dataset: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(dataset, update=dataset_counts(session, stored_id(dataset)))


def delete_dataset(session: Session, registry: PoolRegistry, dataset: Dataset) -> None:
    active = session.exec(
        select(Job).where(col(Job.dataset_id) == dataset.id, col(Job.status).in_(("queued", "running")))
    ).first()
    if active is not None:
        raise Conflict(f"dataset {dataset.name!r} has an active job ({active.id}); cancel it first")
    history = (Review, DecisionChange, Replay)  # they refer to the rows after them
    for table in (*history, TaskInstance, Snapshot, Template, Instruction, Generation, Job, Schedule):
        session.exec(delete(table).where(col(table.dataset_id) == dataset.id))
    session.delete(dataset)
    session.commit()
    registry.forget(stored_id(dataset))


def ensure_default_dataset(session: Session, registry: PoolRegistry, settings: Settings) -> None:
    """Create the configured default dataset from the shipped seeds when it does not exist yet."""
    name = settings.default_dataset
    if not name or session.exec(select(Dataset).where(col(Dataset.name) == name)).first():
        return
    tasks = load_seeds_from_file(settings.seed_dir / settings.default_seed_file)
    try:
        dataset = create_dataset(
            session,
            DatasetCreate(name=name, description=(f"seeded from {settings.default_seed_file}")),
            settings,
        )
        session.commit()
    except IntegrityError:  # another process starting at the same time created it
        session.rollback()
        return
    added, _ = add_seeds(session, registry, dataset, tasks)
    logger.info("created dataset %s with %d seed tasks", name, added)
