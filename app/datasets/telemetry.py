"""Saturation and diversity of a dataset's accepted candidates, for ``GET …/stats``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from app.datasets.diversity import distinct_n, mean_nn_similarity, verb_object_breakdown
from app.jobs.saturation import novelty_curve
from app.models import Instruction

MAX_ROWS = 5000  # the newest accepted rows measured (the nearest-neighbour matrix is rows²)


def accepted_rows(
    session: Session, dataset_id: int, job_id: int | None = None
) -> list[tuple[str, bytes | None]]:
    query = (
        select(Instruction.instruction, Instruction.embedding)
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted))
        .where(col(Instruction.origin) != "seed")
        .order_by(col(Instruction.id).desc())
        .limit(MAX_ROWS)
    )
    if job_id is not None:
        query = query.where(col(Instruction.job_id) == job_id)
    return list(reversed(session.exec(query).all()))


def diversity(texts: list[str], blobs: list[bytes | None]) -> dict[str, Any]:
    stored = [b for b in blobs if b]
    vectors = np.stack([np.frombuffer(b, dtype=np.float32) for b in stored]) if stored else np.zeros((0, 1))
    return {
        "accepted": len(texts),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "mean_nn_similarity": mean_nn_similarity(vectors),
    }


def dataset_telemetry(session: Session, dataset_id: int, window: int, breakdown: bool) -> dict[str, Any]:
    rows = accepted_rows(session, dataset_id)
    texts = [t for t, _ in rows]
    result: dict[str, Any] = {
        "novelty_curve": novelty_curve(session, dataset_id=dataset_id, window=window),
        "novelty_window": window,
        "diversity": diversity(texts, [b for _, b in rows]),
    }
    if breakdown:
        result["verb_object"] = verb_object_breakdown(texts)
    return result
