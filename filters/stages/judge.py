"""The LLM judge's verdict: reject a candidate whose overall score is below the dataset's threshold.

The score is the expected overall score over the score tokens' probabilities when the backend gave them,
else the sampled one (1-5). The judge runs outside the chain, before the dataset's lock, on candidates
the text-only stages passed (app/pipeline/judge.py); its scores reach the stage in
``StageInput.stored``, as stored scores do on replay. A candidate with no score (the judge is off,
its answer was unreadable or its request failed) passes, recording nothing.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict


def judge_confidence(judge_expected: float | None, judge_score: float | None) -> float | None:
    """The judge's score that ranks and thresholds a candidate: the expected score, else the sampled one."""
    return judge_expected if judge_expected is not None else judge_score


class JudgeStage(DecisionStage):
    id = "judge"
    rule_ids = ("judge",)
    records = ("judge_score", "judge_expected")
    uses_pool = False
    scored_outside = True
    measures_after_rejection = True  # a near-duplicate that was judged keeps its scores (for replay)

    def __init__(self, threshold: float, enabled: bool = True) -> None:
        self.threshold = threshold
        self.enabled = enabled

    @classmethod
    def from_config(cls, config: ChainConfig) -> JudgeStage:
        return cls(config.judge_threshold, "judge" not in config.disabled_rules)

    def applies(self, pool: NoveltyPool) -> bool:
        """False when the dataset switched the judge off: then nothing calls the judge for it."""
        return self.enabled

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        sampled = candidate.stored.get("judge_score")
        expected = candidate.stored.get("judge_expected")
        score = judge_confidence(expected, sampled)
        if score is None:
            return Verdict()
        scores = {"judge_score": sampled, "judge_expected": expected}
        if score < self.threshold:
            return Verdict("judge", f"judge score {score:.2f} < {self.threshold}", scores)
        return Verdict(scores=scores)
