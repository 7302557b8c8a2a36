"""Embedding novelty: reject when the max cosine (normalised vectors, inner product) is above the threshold.

Its measurement is recorded even when ROUGE-L already rejected the candidate (the vector is there and the
nearest neighbour costs a FAISS lookup), so every stored decision has both similarities.
"""

from __future__ import annotations

from typing import cast

from filters.lookahead import ahead
from filters.novelty_pool import NoveltyPool
from filters.rescoring import Hit
from filters.stages.base import StageInput, ThresholdStage, Verdict

# From this many pool items the FAISS search is started on a helper thread before the chain runs, so it
# overlaps ROUGE-L (filters/lookahead.py); handing it over costs ~0.1 ms, which pays once ROUGE-L takes
# longer than that. `python benchmarks/gate_ahead.py` (p50 per candidate, ahead vs in turn): 20K 0.57 vs
# 0.44 ms, 100K 0.59 vs 0.59, 300K 0.73 vs 0.73 (p95 1.22 vs 1.41); 1M (benchmarks/million_service.py):
# see the README.
AHEAD_MIN_ITEMS = 500_000


class EmbeddingStage(ThresholdStage):
    id = "embedding"
    rule_ids = ("embedding",)
    records = ("max_cosine", "cosine_neighbor_id")
    threshold_setting = "embedding_threshold"
    needs_vector = True
    measures_after_rejection = True
    ahead_min_items: int | None = AHEAD_MIN_ITEMS  # None: never ahead (benchmarks compare both)

    def applies(self, pool: NoveltyPool) -> bool:
        return pool.vectors is not None

    def start(self, candidate: StageInput, pool: NoveltyPool) -> None:
        vectors, least = pool.vectors, self.ahead_min_items
        if candidate.vector is None or vectors is None or least is None or len(vectors) < least:
            return
        candidate.ahead[self.id] = vectors.nearest_later(candidate.vector, ahead)

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        if candidate.vector is None or pool.vectors is None:
            raise ValueError("the embedding stage needs the candidate's embedding")
        started = candidate.ahead.pop(self.id, None)
        found = started() if started is not None else pool.vectors.nearest(candidate.vector)
        cosine, neighbor = cast(Hit, found)
        detail = self.exceeds(cosine, neighbor, "cosine")
        scores = {"max_cosine": cosine, "cosine_neighbor_id": neighbor}
        return Verdict("embedding" if detail else None, detail, scores)
