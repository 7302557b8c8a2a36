"""Saturation and diversity of a dataset's accepted candidates, for ``GET …/stats``.

Diversity is measured on the newest ``MAX_ROWS`` accepted candidates: distinct n-grams over all of them;
the mean nearest-neighbour similarity over at most ``NN_QUERIES`` of them (a seeded random sample when
there are more), each one's nearest neighbour searched among all of them. Up to ``NN_QUERIES`` rows the
figure is exact; above, it estimates the same mean (``nn_queries`` in the response says how many rows it
averaged), at ``NN_QUERIES`` × rows products instead of rows².
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from app.datasets.diversity import (
    NgramWindow,
    distinct_n_tokens,
    mean_nn_similarity,
    tokenize,
    verb_object_breakdown,
)
from app.datasets.id_range import EVERY, IdRange
from app.jobs.saturation import novelty_curve
from app.models import Instruction

MAX_ROWS = 5000  # the newest accepted rows measured
NN_QUERIES = 500  # rows whose nearest neighbour is searched (all rows up to this many)
NN_SAMPLE_SEED = 0


def accepted_rows(
    session: Session, dataset_id: int, job_id: int | None = None, *columns: Any, ids: IdRange = EVERY
) -> list[Any]:
    """The newest ``MAX_ROWS`` accepted candidates with ids in ``ids``, oldest first: (text, vector) or the
    ``columns`` given."""
    query = (
        select(*(columns or (Instruction.instruction, Instruction.embedding)))
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted))
        .where(col(Instruction.origin) != "seed", *ids.where(col(Instruction.id)))
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


def window_diversity(window: NgramWindow) -> dict[str, Any]:
    """:func:`text_diversity` of the texts a sliding window holds."""
    return {"accepted": len(window), "distinct_1": window.distinct(1), "distinct_2": window.distinct(2)}


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


class AcceptedWindow:
    """The diversity of the newest ``MAX_ROWS`` accepted candidates, kept while rows are added: their
    distinct n-grams (:class:`NgramWindow`) and their stored vectors; a vector stored later (a back-fill
    of a row stored without one) is taken in by :func:`refresh_vectors`. :meth:`measures` equals
    :func:`diversity` of the same rows."""

    def __init__(self) -> None:
        self.texts = NgramWindow(MAX_ROWS)
        self._vectors: deque[tuple[int, bytes | None]] = deque()
        self.missing: set[int] = set()  # ids in the window without a stored vector
        self._measured: dict[str, Any] | None = None  # the vector measure, until the window changes

    def extend(self, rows: Sequence[tuple[int, str, bytes | None]]) -> None:
        """Add ``(id, text, vector)`` rows, oldest first; the oldest beyond ``MAX_ROWS`` leave."""
        self.texts.extend([text for _, text, _ in rows])
        for row_id, _, blob in rows[-MAX_ROWS:]:
            self._vectors.append((row_id, blob))
            if blob is None:
                self.missing.add(row_id)
            if len(self._vectors) > MAX_ROWS:
                self.missing.discard(self._vectors.popleft()[0])
        if rows:
            self._measured = None

    def fill(self, stored: dict[int, bytes]) -> None:
        if not stored:
            return
        self._vectors = deque((i, stored.get(i, blob)) for i, blob in self._vectors)
        self.missing -= stored.keys()
        self._measured = None

    def measures(self) -> dict[str, Any]:
        if self._measured is None:
            self._measured = vector_diversity([blob for _, blob in self._vectors])
        return {**window_diversity(self.texts), **self._measured}


def window_rows(session: Session, dataset_id: int, ids: IdRange) -> list[tuple[int, str, bytes | None]]:
    """What :meth:`AcceptedWindow.extend` takes: the newest accepted candidates with ids in ``ids``."""
    columns = (Instruction.id, Instruction.instruction, Instruction.embedding)
    return [(int(i), t, b) for i, t, b in accepted_rows(session, dataset_id, None, *columns, ids=ids)]


def refresh_vectors(session: Session, window: AcceptedWindow) -> None:
    """Take in the vectors stored since for the window's rows that had none."""
    if window.missing:
        query = select(Instruction.id, Instruction.embedding).where(
            col(Instruction.id).in_(sorted(window.missing)), col(Instruction.embedding).is_not(None)
        )
        window.fill({int(i or 0): b for i, b in session.exec(query).all() if b is not None})


def diversity(texts: list[str], blobs: list[bytes | None]) -> dict[str, Any]:
    return {**text_diversity(texts), **vector_diversity(blobs)}


def dataset_diversity(session: Session, dataset_id: int, breakdown: bool) -> dict[str, Any]:
    """``diversity`` of the newest accepted rows, and with ``breakdown`` their ``verb_object`` pairs."""
    rows = accepted_rows(session, dataset_id)
    texts = [t for t, _ in rows]
    result: dict[str, Any] = {"diversity": diversity(texts, [b for _, b in rows])}
    if breakdown:
        result["verb_object"] = verb_object_breakdown(texts)
    return result


def dataset_curve(session: Session, dataset_id: int, window: int) -> dict[str, Any]:
    return {
        "novelty_curve": novelty_curve(session, dataset_id=dataset_id, window=window),
        "novelty_window": window,
    }
