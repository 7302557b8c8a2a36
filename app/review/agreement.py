"""How often the judge agrees with the reviewers: accuracy, Cohen's κ and the confusion table.

The judge accepts an item when its confidence (``judge_expected``, else ``judge_score``) is at least the
threshold; a reviewer accepts it when the current review is ``approved`` or ``edited`` and rejects it when
``rejected``. Items without a judge score or without a verdict are left out. κ = (p_o − p_e) / (1 − p_e),
with p_e from each side's share of accepts; it is undefined (None) when p_e = 1 (both always say the same
one thing).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.models import Agreement, Dataset, Instruction, TaskInstance, id_col, stored_id
from app.models.reviews import ReviewKind
from app.review.reviews import current_reviews
from filters.stages.base import DEFAULT_JUDGE_THRESHOLD
from filters.stages.judge import judge_confidence

LABELS = ("accept", "reject")


def confusion_table(pairs: Iterable[tuple[bool, bool]]) -> dict[str, dict[str, int]]:
    """``table[judge][reviewer]`` counts from ``(judge_accepts, reviewer_accepts)`` pairs."""
    table = {j: dict.fromkeys(LABELS, 0) for j in LABELS}
    for judge, reviewer in pairs:
        table[LABELS[not judge]][LABELS[not reviewer]] += 1
    return table


def accuracy_and_kappa(table: dict[str, dict[str, int]]) -> tuple[float | None, float | None]:
    n = sum(sum(row.values()) for row in table.values())
    if n == 0:
        return None, None
    observed = (table["accept"]["accept"] + table["reject"]["reject"]) / n
    judge_accepts = sum(table["accept"].values()) / n
    reviewer_accepts = (table["accept"]["accept"] + table["reject"]["accept"]) / n
    expected = judge_accepts * reviewer_accepts + (1 - judge_accepts) * (1 - reviewer_accepts)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return observed, kappa


def agreement(
    session: Session,
    dataset: Dataset,
    kind: ReviewKind,
    threshold: float | None = None,
    server_threshold: float = DEFAULT_JUDGE_THRESHOLD,
) -> Agreement:
    """``threshold`` unset: the dataset's judge threshold, or when it has none the server's (as the live
    judge stage decides)."""
    if threshold is None:
        threshold = server_threshold if dataset.judge_threshold is None else dataset.judge_threshold
    reviews = {
        i: r for i, r in current_reviews(session, stored_id(dataset), kind).items() if r.state != "unreviewed"
    }
    table = Instruction if kind == "instruction" else TaskInstance
    scores = session.exec(
        select(id_col(table.id), col(table.judge_expected), col(table.judge_score)).where(
            col(table.id).in_(list(reviews))
        )
    ).all()
    pairs = []
    for target_id, expected, sampled in scores:
        confidence = judge_confidence(expected, sampled)
        if confidence is not None:
            pairs.append((confidence >= threshold, reviews[target_id].state != "rejected"))
    confusion = confusion_table(pairs)
    accuracy, kappa = accuracy_and_kappa(confusion)
    return Agreement(
        dataset=dataset.name,
        kind=kind,
        threshold=threshold,
        items=len(pairs),
        accuracy=accuracy,
        cohen_kappa=kappa,
        confusion=confusion,
    )
