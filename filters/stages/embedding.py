"""Embedding novelty: reject when the max cosine (normalised vectors, inner product) is above the threshold.

Its measurement is recorded even when ROUGE-L already rejected the candidate (the vector is there and the
nearest neighbour costs a FAISS lookup), so every stored decision has both similarities.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import StageInput, ThresholdStage, Verdict


class EmbeddingStage(ThresholdStage):
    id = "embedding"
    rule_ids = ("embedding",)
    records = ("max_cosine", "cosine_neighbor_id")
    threshold_setting = "embedding_threshold"
    needs_vector = True
    measures_after_rejection = True

    def applies(self, pool: NoveltyPool) -> bool:
        return pool.vectors is not None

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        if candidate.vector is None or pool.vectors is None:
            raise ValueError("the embedding stage needs the candidate's embedding")
        cosine, neighbor = pool.vectors.nearest(candidate.vector)
        detail = self.exceeds(cosine, neighbor, "cosine")
        scores = {"max_cosine": cosine, "cosine_neighbor_id": neighbor}
        return Verdict("embedding" if detail else None, detail, scores)
