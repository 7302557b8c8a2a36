"""Embedding novelty: reject when the max cosine (normalised vectors, inner product) is above the threshold.

Its measurement is recorded even when ROUGE-L already rejected the candidate (the vector is there and the
nearest neighbour costs a FAISS lookup), so every stored decision has both similarities.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict


class EmbeddingStage(DecisionStage):
    id = "embedding"
    rule_ids = ("embedding",)
    records = ("max_cosine", "cosine_neighbor_id")
    needs_vector = True
    measures_after_rejection = True

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    @classmethod
    def from_config(cls, config: ChainConfig) -> EmbeddingStage:
        return cls(config.embedding_threshold)

    def applies(self, pool: NoveltyPool) -> bool:
        return pool.vectors is not None

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        if candidate.vector is None or pool.vectors is None:
            raise ValueError("the embedding stage needs the candidate's embedding")
        cosine, neighbor = pool.vectors.nearest(candidate.vector)
        scores = {"max_cosine": cosine, "cosine_neighbor_id": neighbor}
        if cosine is not None and cosine > self.threshold:
            detail = f"cosine {cosine:.3f} > {self.threshold} with item {neighbor}"
            return Verdict("embedding", detail, scores)
        return Verdict(scores=scores)
