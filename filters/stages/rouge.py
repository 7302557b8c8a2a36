"""ROUGE-L novelty: reject when the max ROUGE-L F against the pool is strictly above the threshold.

The pool's index (filters/rouge.py) gives rouge-score's exact value without visiting the whole pool.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict


class RougeStage(DecisionStage):
    id = "rouge"
    rule_ids = ("rouge_l",)
    records = ("max_rouge_l", "rouge_neighbor_id")

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    @classmethod
    def from_config(cls, config: ChainConfig) -> RougeStage:
        return cls(config.rouge_threshold)

    def applies(self, pool: NoveltyPool) -> bool:
        return len(pool.rouge) > 0

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        match = pool.rouge.max_score(candidate.tokens(pool))
        scores = {"max_rouge_l": match.score, "rouge_neighbor_id": match.item_id}
        if match.score > self.threshold:
            detail = f"ROUGE-L {match.score:.3f} > {self.threshold} with item {match.item_id}"
            return Verdict("rouge_l", detail, scores)
        return Verdict(scores=scores)
