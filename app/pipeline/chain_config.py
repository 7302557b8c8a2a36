"""A dataset's decision chain settings: its thresholds (the server's where it sets none), its rules and the
relevance stage's reference vectors (the domain description's, then the seeds')."""

from __future__ import annotations

import numpy as np
from sqlmodel import Session, col, select

from app.models import Dataset, Instruction
from filters.embedding import Embedder, vectors_from_bytes
from filters.heuristics import RULE_IDS as HEURISTIC_RULE_IDS
from filters.heuristics import preset
from filters.stages.base import DEFAULT_JUDGE_THRESHOLD, DEFAULT_RELEVANCE_THRESHOLD, ChainConfig

QualityThresholds = tuple[float, float]  # the server's relevance and judge thresholds


def chain_config(
    dataset: Dataset,
    stages: tuple[str, ...],
    reference: np.ndarray | None = None,
    thresholds: QualityThresholds = (DEFAULT_RELEVANCE_THRESHOLD, DEFAULT_JUDGE_THRESHOLD),
) -> ChainConfig:
    """The dataset's chain settings; its unset relevance and judge thresholds are the server's."""
    relevance, judge = thresholds
    return ChainConfig(
        heuristics=preset(
            dataset.heuristics_preset, [r for r in dataset.disabled_rules if r in HEURISTIC_RULE_IDS]
        ),
        stages=stages,
        disabled_rules=frozenset(dataset.disabled_rules),
        rouge_threshold=dataset.rouge_threshold,
        embedding_threshold=dataset.embedding_threshold,
        relevance_threshold=relevance if dataset.relevance_threshold is None else dataset.relevance_threshold,
        judge_threshold=judge if dataset.judge_threshold is None else dataset.judge_threshold,
        relevance_reference=reference,
    )


def relevance_reference(session: Session, dataset: Dataset, embedder: Embedder | None) -> np.ndarray | None:
    """The domain description's vector, then the seeds' (stored; embedded here when missing)."""
    if not dataset.domain.strip() or embedder is None:
        return None
    seeds = session.exec(
        select(Instruction.instruction, Instruction.embedding)
        .where(col(Instruction.dataset_id) == dataset.id, col(Instruction.origin) == "seed")
        .order_by(col(Instruction.id))
    ).all()
    missing = [text for text, blob in seeds if blob is None]
    fresh = iter(embedder.embed(missing)) if missing else iter(())
    dimension = embedder.dimension
    vectors = [
        vectors_from_bytes([blob], dimension)[0] if blob is not None else next(fresh) for _, blob in seeds
    ]
    return np.vstack([embedder.embed([dataset.domain])[0], *vectors]).astype(np.float32)
