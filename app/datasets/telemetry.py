"""Saturation and diversity of a dataset's accepted candidates, for ``GET …/stats``.

Diversity is measured on the newest ``MAX_ROWS`` accepted candidates: distinct n-grams over all of them;
the mean nearest-neighbour similarity over at most ``NN_QUERIES`` of them (a seeded random sample when
there are more), each one's nearest neighbour searched among all of them. Up to ``NN_QUERIES`` rows the
figure is exact; above, it estimates the same mean (``nn_queries`` in the response says how many rows it
averaged), at ``NN_QUERIES`` × rows products instead of rows².
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from app.datasets.diversity import distinct_n_tokens, mean_nn_similarity, tokenize, verb_object_breakdown
from app.jobs.saturation import novelty_curve
from app.models import Instruction

MAX_ROWS = 5000  # the newest accepted rows measured
NN_QUERIES = 500  # rows whose nearest neighbour is searched (all rows up to this many)
NN_SAMPLE_SEED = 0
TextsKept = Callable[[Callable[[], dict[str, Any]]], dict[str, Any]]  # computes, or returns what it kept


def accepted_rows(session: Session, dataset_id: int, job_id: int | None = None, *columns: Any) -> list[Any]:
    """The newest ``MAX_ROWS`` accepted candidates, oldest first: (text, vector) or the ``columns`` given."""
    query = (
        select(*(columns or (Instruction.instruction, Instruction.embedding)))
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted))
        .where(col(Instruction.origin) != "seed")
        .order_by(col(Instruction.id).desc())
        .limit(MAX_ROWS)
    )
    if job_id is not None:
        query = query.where(col(Instruction.job_id) == job_id)
    return list(reversed(session.exec(query).all()))


def text_diversity(texts: list[str]) -> dict[str, Any]:
    tokens = [tokenize(text) for text in texts]
    return {
        "accepted": len(texts),
        "distinct_1": distinct_n_tokens(tokens, 1),
        "distinct_2": distinct_n_tokens(tokens, 2),
    }


def vector_diversity(blobs: list[bytes | None]) -> dict[str, Any]:
    stored = [b for b in blobs if b]
    vectors = (
        np.frombuffer(b"".join(stored), dtype=np.float32).reshape(len(stored), -1)
        if stored
        else np.zeros((0, 1), dtype=np.float32)
    )
    queries = None
    if len(vectors) > NN_QUERIES:
        rng = np.random.default_rng(NN_SAMPLE_SEED)
        queries = np.sort(rng.choice(len(vectors), NN_QUERIES, replace=False))
    return {
        "mean_nn_similarity": mean_nn_similarity(vectors, queries),
        "nn_queries": len(vectors) if queries is None else len(queries),
    }


def diversity(texts: list[str], blobs: list[bytes | None]) -> dict[str, Any]:
    return {**text_diversity(texts), **vector_diversity(blobs)}


def dataset_diversity(
    session: Session, dataset_id: int, breakdown: bool, kept: TextsKept | None = None
) -> dict[str, Any]:
    """``diversity`` of the newest accepted rows, and with ``breakdown`` their ``verb_object`` pairs.
    ``kept``: where the text measures are kept while the dataset is unchanged (they depend on its rows
    only); the vector measure is computed afresh, since stored vectors may be back-filled later."""
    if kept is None or breakdown:
        rows = accepted_rows(session, dataset_id)
        texts = [t for t, _ in rows]
        result: dict[str, Any] = {"diversity": diversity(texts, [b for _, b in rows])}
        if breakdown:
            result["verb_object"] = verb_object_breakdown(texts)
        return result
    measured = kept(lambda: text_diversity(accepted_rows(session, dataset_id, None, Instruction.instruction)))
    blobs = accepted_rows(session, dataset_id, None, Instruction.embedding)
    return {"diversity": {**measured, **vector_diversity(blobs)}}


def dataset_curve(session: Session, dataset_id: int, window: int) -> dict[str, Any]:
    return {
        "novelty_curve": novelty_curve(session, dataset_id=dataset_id, window=window),
        "novelty_window": window,
    }
