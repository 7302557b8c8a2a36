"""The ordered filter chain: heuristics → exact duplicate → ROUGE-L novelty → embedding novelty.

Candidates are decided one at a time in arrival order; the first failing rule decides, and an accepted
candidate joins the pool before the next one is decided (the caller adds it with :meth:`FilterChain.add`
once it has an id). Every decision carries the scores computed so far.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from filters.heuristics import HeuristicConfig, first_failing_rule
from filters.index import VectorIndex
from filters.rouge import RougeNoveltyIndex

STAGES: tuple[str, ...] = ("heuristics", "exact", "rouge", "embedding")
DEFAULT_ROUGE_THRESHOLD = 0.7


@dataclass(frozen=True)
class Decision:
    accepted: bool
    rule: str | None = None
    detail: str | None = None
    max_rouge_l: float | None = None
    rouge_neighbor_id: int | None = None
    max_cosine: float | None = None
    cosine_neighbor_id: int | None = None


@dataclass
class ChainConfig:
    heuristics: HeuristicConfig
    stages: frozenset[str] = field(default_factory=lambda: frozenset(STAGES))
    rouge_threshold: float = DEFAULT_ROUGE_THRESHOLD
    embedding_threshold: float = 0.85


def parse_stages(spec: str | Iterable[str] | None) -> frozenset[str]:
    """``"rouge"`` or ``"heuristics,exact"`` → a validated set of stages; None means all."""
    if spec is None:
        return frozenset(STAGES)
    parts = [p.strip() for p in spec.split(",")] if isinstance(spec, str) else list(spec)
    parts = [p for p in parts if p]
    unknown = sorted(set(parts) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown filter(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    if not parts:
        raise ValueError(f"no filters selected; choose from {', '.join(STAGES)}")
    return frozenset(parts)


def normalize_for_exact(text: str) -> str:
    """Whitespace runs to one space, ends stripped, case folded (``str.split`` and ``\\s`` agree on what
    whitespace is)."""
    return " ".join(text.split()).casefold()


class FilterChain:
    """Decides candidates against a pool held in a ROUGE index, an exact set and a FAISS index."""

    def __init__(
        self, config: ChainConfig, dimension: int | None = None, vectors: VectorIndex | None = None
    ) -> None:
        self.config = config
        self.rouge = RougeNoveltyIndex(config.rouge_threshold)
        self.exact: dict[str, int] = {}
        self.vectors = vectors if vectors is not None else (VectorIndex(dimension) if dimension else None)

    def uses_embeddings(self, stages: frozenset[str] | None = None) -> bool:
        stages = self.config.stages if stages is None else stages
        return "embedding" in stages and self.vectors is not None

    def __len__(self) -> int:
        return len(self.rouge)

    def add(
        self, item_id: int, text: str, embedding: np.ndarray | None, tokens: list[str] | None = None
    ) -> None:
        """Put an accepted (or seed) item into every index of the pool."""
        self.rouge.add(item_id, tokens if tokens is not None else self.rouge.tokenize(text))
        self.exact.setdefault(normalize_for_exact(text), item_id)
        if self.vectors is not None and embedding is not None:
            self.vectors.add([item_id], embedding)

    def add_many(self, ids: list[int], texts: list[str], embeddings: np.ndarray | None) -> None:
        """Bulk :meth:`add` for start-up (one ranking pass for the ROUGE index, one FAISS add)."""
        tokenize = self.rouge.tokenize
        self.rouge.add_many((item_id, tokenize(text)) for item_id, text in zip(ids, texts, strict=True))
        for item_id, text in zip(ids, texts, strict=True):
            self.exact.setdefault(normalize_for_exact(text), item_id)
        if self.vectors is not None and embeddings is not None:
            self.vectors.add(ids, embeddings)

    def passes_heuristics(self, text: str, stages: frozenset[str] | None = None) -> bool:
        """False when the heuristics stage (if selected) rejects ``text`` whatever the pool holds."""
        stages = self.config.stages if stages is None else stages
        return "heuristics" not in stages or not first_failing_rule(text, self.config.heuristics)

    def decide(
        self,
        text: str,
        embedding: np.ndarray | None = None,
        tokens: list[str] | None = None,
        stages: frozenset[str] | None = None,
    ) -> Decision:
        """Decide one candidate against the current pool; ``stages`` overrides the configured set."""
        stages = self.config.stages if stages is None else stages
        if "heuristics" in stages:
            failed = first_failing_rule(text, self.config.heuristics)
            if failed:
                return Decision(False, failed[0], failed[1])
        if "exact" in stages:
            twin = self.exact.get(normalize_for_exact(text))
            if twin is not None:
                return Decision(False, "exact_duplicate", f"same text as item {twin}")
        rouge_l = neighbor = cosine = cos_neighbor = None
        if "rouge" in stages and len(self.rouge):
            match = self.rouge.max_score(tokens if tokens is not None else self.rouge.tokenize(text))
            rouge_l, neighbor = match.score, match.item_id
        if "embedding" in stages and self.vectors is not None:
            if embedding is None:
                raise ValueError("the embedding stage needs the candidate's embedding")
            cosine, cos_neighbor = self.vectors.nearest(embedding)
        scores = (rouge_l, neighbor, cosine, cos_neighbor)
        if rouge_l is not None and rouge_l > self.config.rouge_threshold:
            detail = f"ROUGE-L {rouge_l:.3f} > {self.config.rouge_threshold} with item {neighbor}"
            return Decision(False, "rouge_l", detail, *scores)
        if cosine is not None and cosine > self.config.embedding_threshold:
            detail = f"cosine {cosine:.3f} > {self.config.embedding_threshold} with item {cos_neighbor}"
            return Decision(False, "embedding", detail, *scores)
        return Decision(True, None, None, *scores)
