"""Embedding novelty: reject when the max cosine (normalised vectors, inner product) is above the threshold.

Its measurement is recorded even when ROUGE-L already rejected the candidate (the vector is there and the
nearest neighbour costs a FAISS lookup), so every stored decision has both similarities.
"""

from __future__ import annotations

from typing import cast

from filters.lookahead import ahead, now
from filters.novelty_pool import NoveltyPool
from filters.rescoring import Hit
from filters.stages.base import StageInput, ThresholdStage, Verdict

# From this many pool items the FAISS search is started on a helper thread before the chain runs, so it
# overlaps ROUGE-L (filters/lookahead.py); handing it over costs ~0.1 ms, which pays once ROUGE-L takes
# longer than that. `python benchmarks/gate_ahead.py` (p50 per candidate, ahead vs in turn, both at the
# gate's efSearch; one run, 2 vCPUs): 20K 0.45 vs 0.33 ms, 100K 0.60 vs 0.51, 300K 0.60 vs 0.61 (p95 1.19
# vs 1.22); at 1M (benchmarks/million_service.py) ahead 0.82 ms against 1.05 in turn at efSearch 128.
AHEAD_MIN_ITEMS = 500_000
# efSearch of the gate's own search (one neighbour, its score re-scored exactly); /similar keeps the index's
# (128, chosen for recall@10). On the 1M-item pool of benchmarks/million_texts.py, 1,000 candidates against
# the exact float32 scan: decisions at 0.85 identical 1000/1000 at 64 and at 128; neighbour identical
# 965 vs 976; a different decision at another threshold (as a replay would make) 2 vs 1 at 0.75, 1 vs 1 at
# 0.8, 0 at 0.85-0.95; the novelty check p50 0.80 vs 1.03 ms (README "1M-item benchmark"). At 100K real
# MiniLM vectors (benchmarks/ann_recall.py's sweep): gate decisions identical 1.000 at 64 and 128, the same
# max cosine 0.984 vs 0.989.
GATE_EF_SEARCH = 64


class EmbeddingStage(ThresholdStage):
    id = "embedding"
    rule_ids = ("embedding",)
    records = ("max_cosine", "cosine_neighbor_id")
    threshold_setting = "embedding_threshold"
    needs_vector = True
    measures_after_rejection = True
    ahead_min_items: int | None = AHEAD_MIN_ITEMS  # None: never ahead (benchmarks compare both)
    breadth: int | None = GATE_EF_SEARCH  # None: the index's own efSearch

    def applies(self, pool: NoveltyPool) -> bool:
        return pool.vectors is not None

    def start(self, candidate: StageInput, pool: NoveltyPool) -> None:
        vectors, least = pool.vectors, self.ahead_min_items
        if candidate.vector is None or vectors is None or least is None or len(vectors) < least:
            return
        candidate.ahead[self.id] = vectors.nearest_later(candidate.vector, ahead, self.breadth)

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        if candidate.vector is None or pool.vectors is None:
            raise ValueError("the embedding stage needs the candidate's embedding")
        started = candidate.ahead.pop(self.id, None)
        if started is None:
            started = pool.vectors.nearest_later(candidate.vector, now, self.breadth)
        cosine, neighbor = cast(Hit, started())
        detail = self.exceeds(cosine, neighbor, "cosine")
        scores = {"max_cosine": cosine, "cosine_neighbor_id": neighbor}
        return Verdict("embedding" if detail else None, detail, scores)
