"""Self-Instruct's heuristics (filters/heuristics.py) as a stage: the text alone decides."""

from __future__ import annotations

from filters.heuristics import RULE_IDS, HeuristicConfig, first_failing_rule
from filters.novelty_pool import NoveltyPool
from filters.stages.base import PASS, ChainConfig, DecisionStage, StageInput, Verdict


class HeuristicsStage(DecisionStage):
    id = "heuristics"
    rule_ids = RULE_IDS
    uses_pool = False

    def __init__(self, config: HeuristicConfig) -> None:
        self.config = config

    @classmethod
    def from_config(cls, config: ChainConfig) -> HeuristicsStage:
        return cls(config.heuristics)

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        failed = first_failing_rule(candidate.text, self.config)
        return Verdict(*failed) if failed else PASS
