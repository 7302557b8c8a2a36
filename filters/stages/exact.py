"""Exact duplicates: the same text as a pool item, ignoring case and runs of spaces."""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import PASS, ChainConfig, DecisionStage, StageInput, Verdict


class ExactStage(DecisionStage):
    id = "exact"
    rule_ids = ("exact_duplicate",)

    @classmethod
    def from_config(cls, config: ChainConfig) -> ExactStage:
        return cls()

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        twin = pool.exact_twin(candidate.text)
        return PASS if twin is None else Verdict("exact_duplicate", f"same text as item {twin}")
