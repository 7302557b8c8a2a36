"""Reviewers' verdicts: recording them, each target's current state and history, and the review queue.

A target is an instruction or an instance of the dataset; its newest review row is its current state (none:
``unreviewed``). The queue lists targets in the order a reviewer should see them: lowest judge confidence
first (``judge_expected``, else ``judge_score``; unjudged last, then by id), or a random audit sample of a
given size (the same seed, the same sample).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.core.errors import get_in_dataset
from app.models import (
    Dataset,
    Instruction,
    QueueItem,
    Review,
    ReviewCreate,
    ReviewPublic,
    ReviewQueue,
    TaskInstance,
    stored_id,
)
from app.models.reviews import ReviewKind, ReviewState
from filters.stages.judge import judge_confidence

Decision = Literal["accepted", "rejected", "all"]
BATCH = 500


def _target_column(kind: ReviewKind) -> Any:
    return col(Review.instruction_id) if kind == "instruction" else col(Review.instance_id)


def current_reviews(
    session: Session, dataset_id: int, kind: ReviewKind, ids: Iterable[int] | None = None
) -> dict[int, Review]:
    """Each reviewed target's newest review, by target id (of ``ids`` only, when given)."""
    target = _target_column(kind)
    newest = (
        select(func.max(Review.id))
        .where(col(Review.dataset_id) == dataset_id, target.is_not(None))
        .group_by(target)
    )
    if ids is not None:
        newest = newest.where(target.in_(list(ids)))
    rows = session.exec(select(Review).where(col(Review.id).in_(newest)))
    return {(r.instruction_id if kind == "instruction" else r.instance_id) or 0: r for r in rows}


def state_of(review: Review | None) -> ReviewState:
    return review.state if review is not None else "unreviewed"  # type: ignore[return-value]


def _check_target(session: Session, dataset: Dataset, data: ReviewCreate) -> None:
    if data.instruction_id is not None:
        get_in_dataset(session, Instruction, data.instruction_id, dataset, "instruction")
    elif data.instance_id is not None:
        get_in_dataset(session, TaskInstance, data.instance_id, dataset, "instance")


def record_review(session: Session, dataset: Dataset, data: ReviewCreate) -> Review:
    """Store one verdict (the target's new current state); its earlier ones stay as history."""
    _check_target(session, dataset, data)
    review = Review(dataset_id=stored_id(dataset), **data.model_dump())
    session.add(review)
    session.commit()
    return review


def review_public(review: Review, dataset: Dataset) -> ReviewPublic:
    kind: ReviewKind = "instruction" if review.instruction_id is not None else "instance"
    return ReviewPublic(
        id=stored_id(review),
        dataset=dataset.name,
        kind=kind,
        target_id=review.instruction_id or review.instance_id or 0,
        state=state_of(review),
        reviewer=review.reviewer,
        note=review.note,
        edited_text=review.edited_text,
        edited_input=review.edited_input,
        created_at=review.created_at,
    )


def history(session: Session, dataset: Dataset, kind: ReviewKind, target_id: int) -> list[Review]:
    """Every review of one target, oldest first."""
    query = select(Review).where(col(Review.dataset_id) == dataset.id, _target_column(kind) == target_id)
    return list(session.exec(query.order_by(col(Review.id))).all())


def _candidates(dataset_id: int, kind: ReviewKind, decision: Decision) -> Any:
    """The queue's query (rows ``(target, its task)``; an instruction's second column is its id), its
    table and the confidence it is ordered by."""
    if kind == "instruction":
        table: Any = Instruction
        query: Any = select(Instruction, col(Instruction.id)).where(
            col(Instruction.dataset_id) == dataset_id, col(Instruction.origin) != "seed"
        )
    else:
        table = TaskInstance
        query = (
            select(TaskInstance, Instruction)
            .join(Instruction, col(Instruction.id) == col(TaskInstance.instruction_id))
            .where(col(TaskInstance.dataset_id) == dataset_id)
        )
    if decision != "all":
        query = query.where(col(table.accepted).is_(decision == "accepted"))
    confidence = func.coalesce(col(table.judge_expected), col(table.judge_score))
    return query, table, confidence


def _item(kind: ReviewKind, target: Any, second: Any, review: Review | None) -> QueueItem:
    task: Instruction = target if kind == "instruction" else second
    return QueueItem(
        kind=kind,
        id=stored_id(target),
        instruction_id=stored_id(task),
        instruction=task.instruction,
        input=target.input if kind == "instance" else None,
        output=target.output if kind == "instance" else None,
        accepted=target.accepted,
        rule=target.rule,
        judge_score=target.judge_score,
        judge_expected=target.judge_expected,
        confidence=judge_confidence(target.judge_expected, target.judge_score),
        review_state=state_of(review),
    )


def review_queue(
    session: Session,
    dataset: Dataset,
    kind: ReviewKind = "instruction",
    state: ReviewState | None = "unreviewed",
    decision: Decision = "accepted",
    limit: int = 50,
    sample: int | None = None,
    seed: int = 0,
) -> ReviewQueue:
    """Targets in ``state`` (None: any), lowest confidence first, or a seeded random ``sample`` of them."""
    query, table, confidence = _candidates(stored_id(dataset), kind, decision)
    reviews = current_reviews(session, stored_id(dataset), kind)

    def wanted(target_id: int) -> bool:
        return state is None or state_of(reviews.get(target_id)) == state

    if sample is not None:
        ids = [row[0] for row in session.exec(query.with_only_columns(col(table.id))) if wanted(row[0])]
        chosen = random.Random(seed).sample(sorted(ids), min(sample, len(ids)))
        found = {stored_id(t): (t, task) for t, task in session.exec(query.where(col(table.id).in_(chosen)))}
        items = [_item(kind, *found[i], reviews.get(i)) for i in chosen]
        return ReviewQueue(order="sample", items=items)
    # ids in order first (a narrow sort), then only the rows shown
    ordered = query.with_only_columns(col(table.id)).order_by(
        case((confidence.is_(None), 1), else_=0), confidence, col(table.id)
    )
    shown: list[int] = []
    for row in _batches(session, ordered):
        if wanted(row[0]):
            shown.append(row[0])
            if len(shown) >= limit:
                break
    rows = {stored_id(t): (t, task) for t, task in session.exec(query.where(col(table.id).in_(shown)))}
    items = [_item(kind, *rows[i], reviews.get(i)) for i in shown]
    return ReviewQueue(order="confidence", items=items)


def _batches(session: Session, query: Any) -> Iterator[tuple[Any, Any]]:
    offset = 0
    while True:
        rows = session.exec(query.offset(offset).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        offset += BATCH
