"""Replay: re-decide a dataset's stored candidates with new thresholds or rules, calling no model.

The pool is rebuilt from the dataset's seeds up and the candidates are decided again through the decision
chain (filters/chain.py) in the order they were first decided (their ids), each accepted one joining the
pool before the next, exactly as the live acceptor does. What a model measured is read from storage: the
stored embeddings (only candidates stored without one are embedded, counted in ``embedded``), the relevance
and the judge's scores (``StageInput.stored``, read by the stored-score stages). Those model scores are
never changed by a replay; the novelty measurements (ROUGE-L, cosine and neighbours) are measured again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from app.models import Dataset, Instruction, ReplayRequest, stored_id
from app.pipeline.chain_config import chain_config, relevance_reference
from app.pipeline.pools import PoolRegistry
from filters.chain import DecisionChain
from filters.decision import DECISION_FIELDS, Decided, Decision
from filters.embedding import vectors_from_bytes
from filters.novelty_pool import NoveltyPool

# measured by a model when a candidate was first decided: a replay reads them and never changes them
MODEL_SCORES: tuple[str, ...] = ("relevance", "judge_score", "judge_expected")


@dataclass(frozen=True)
class ReplaySettings:
    """What a replay decides with: the request's values, else the dataset's."""

    rouge_threshold: float
    embedding_threshold: float
    relevance_threshold: float | None
    judge_threshold: float | None
    disabled_rules: tuple[str, ...]

    @classmethod
    def of(cls, dataset: Dataset, request: ReplayRequest) -> ReplaySettings:
        def pick(name: str) -> Any:
            value = getattr(request, name)
            return getattr(dataset, name) if value is None else value

        rules = request.disabled_rules if request.disabled_rules is not None else dataset.disabled_rules
        return cls(
            rouge_threshold=pick("rouge_threshold"),
            embedding_threshold=pick("embedding_threshold"),
            relevance_threshold=pick("relevance_threshold"),
            judge_threshold=pick("judge_threshold"),
            disabled_rules=tuple(dict.fromkeys(rules)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "disabled_rules": list(self.disabled_rules)}


@dataclass(frozen=True)
class StoredCandidate:
    """A stored candidate as the chain sees it again (``stored_scores``: filters/chain.py)."""

    id: int
    text: str
    origin: str
    old: Decision
    stored_scores: dict[str, float | None]
    vector: np.ndarray | None
    instance_stage: str | None = None


@dataclass
class ReplayOutcome:
    settings: ReplaySettings
    seeds: int
    candidates: list[StoredCandidate]
    decided: list[Decided]
    pool: NoveltyPool  # seeds + the candidates the replay accepts: the dataset's pool after applying it
    chain: DecisionChain  # the dataset's chain with the replay's settings: its chain after applying it
    embedded: int = 0
    new: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.new = [
            Decision(**{**asdict(d.decision), **{f: getattr(c.old, f) for f in MODEL_SCORES}})
            for c, d in zip(self.candidates, self.decided, strict=True)
        ]

    def changed(self) -> list[int]:
        """Positions whose verdict changed: accepted ↔ rejected, or rejected by another rule."""
        return [
            i
            for i, (c, d) in enumerate(zip(self.candidates, self.new, strict=True))
            if (c.old.accepted, c.old.rule) != (d.accepted, d.rule)
        ]


def replay_chain(
    registry: PoolRegistry, dataset: Dataset, settings: ReplaySettings, reference: np.ndarray | None
) -> DecisionChain:
    """The configured chain (SI_FILTER_CHAIN) with the replay's settings; the relevance and judge stages
    read the scores stored with each candidate (unset thresholds: the server's, as live)."""
    replayed = dataset.model_copy(
        update={
            "rouge_threshold": settings.rouge_threshold,
            "embedding_threshold": settings.embedding_threshold,
            "relevance_threshold": settings.relevance_threshold,
            "judge_threshold": settings.judge_threshold,
            "disabled_rules": list(settings.disabled_rules),
        }
    )
    return DecisionChain.from_config(chain_config(replayed, registry.stages, reference, registry.thresholds))


def _rows(session: Session, dataset_id: int) -> list[Instruction]:
    query = select(Instruction).where(col(Instruction.dataset_id) == dataset_id).order_by(col(Instruction.id))
    return list(session.exec(query).all())


def _vector(blob: bytes | None, dimension: int | None) -> np.ndarray | None:
    if blob is None or dimension is None:
        return None
    return vectors_from_bytes([blob], dimension)[0]


def redecide(
    session: Session,
    registry: PoolRegistry,
    dataset: Dataset,
    settings: ReplaySettings,
    embedded_now: dict[str, np.ndarray] | None = None,
) -> ReplayOutcome:
    """Decide every stored candidate of ``dataset`` again with ``settings``; stores nothing.

    ``embedded_now`` holds the vectors of texts stored without one, by text: those found there are not
    embedded again, those embedded are added (so a second replay of the same rows embeds nothing).
    """
    cache = embedded_now if embedded_now is not None else {}
    embedder = registry.embedder
    dimension = embedder.dimension if embedder is not None else None
    rows = _rows(session, stored_id(dataset))
    seeds = [r for r in rows if r.origin == "seed"]
    candidates = [
        StoredCandidate(
            id=stored_id(r),
            text=r.instruction,
            origin=r.origin,
            old=Decision(**{f: getattr(r, f) for f in DECISION_FIELDS}),
            stored_scores={f: getattr(r, f) for f in MODEL_SCORES},
            vector=_vector(r.embedding, dimension),
            instance_stage=r.instance_stage,
        )
        for r in rows
        if r.origin != "seed"
    ]
    embedded = 0

    def embed(texts: list[str]) -> np.ndarray:
        nonlocal embedded
        if embedder is None:
            raise ValueError("no embedder")
        stored = {**cache, **{c.text: c.vector for c in candidates if c.vector is not None}}
        missing = list(dict.fromkeys(t for t in texts if t not in stored))
        if missing:
            cache.update(zip(missing, embedder.embed(missing), strict=True))
            stored.update(cache)
            embedded += len(missing)
        return np.stack([stored[t] for t in texts]) if texts else np.zeros((0, dimension or 0), np.float32)

    pool = NoveltyPool(settings.rouge_threshold, dimension)
    seed_vectors = None
    if dimension is not None and seeds:
        blobs = [s.embedding for s in seeds]
        missing = [s.instruction for s, b in zip(seeds, blobs, strict=True) if b is None]
        fresh = iter(embed(missing)) if missing else iter(())
        seed_vectors = np.stack([vectors_from_bytes([b], dimension)[0] if b else next(fresh) for b in blobs])
    pool.add_many([stored_id(s) for s in seeds], ["seed"] * len(seeds), [s.instruction for s in seeds])
    if seed_vectors is not None:
        pool.add_vectors([stored_id(s) for s in seeds], seed_vectors)
    reference = relevance_reference(session, dataset, embedder)  # the domain's and the seeds' vectors
    chain = replay_chain(registry, dataset, settings, reference)

    def record(position: int, decision: Decision, vector: np.ndarray | None) -> int | None:
        return candidates[position].id if decision.accepted else None

    decided = chain.decide_batch(pool, candidates, embed if dimension else None, record)
    return ReplayOutcome(settings, len(seeds), candidates, decided, pool, chain, embedded)
