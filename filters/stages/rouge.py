"""ROUGE-L novelty: reject when the max ROUGE-L F against the pool is strictly above the threshold.

The pool's index (filters/rouge.py) gives rouge-score's exact value without visiting the whole pool.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import StageInput, ThresholdStage, Verdict


class RougeStage(ThresholdStage):
    id = "rouge"
    rule_ids = ("rouge_l",)
    records = ("max_rouge_l", "rouge_neighbor_id")
    threshold_setting = "rouge_threshold"

    def applies(self, pool: NoveltyPool) -> bool:
        return len(pool.rouge) > 0

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        match = pool.rouge.max_score(candidate.tokens(pool))
        detail = self.exceeds(match.score, match.item_id, "ROUGE-L")
        scores = {"max_rouge_l": match.score, "rouge_neighbor_id": match.item_id}
        return Verdict("rouge_l" if detail else None, detail, scores)
