"""The relevance and judge rules re-decided from the scores stored with each candidate (no model call).

A replay needs these two rules to read what a model measured when the candidate was first decided
(``StageInput.stored``), compared with the replay's thresholds. They are kept here, small, until the live
relevance and judge stages of ``filters/stages/`` read stored scores themselves; then
:func:`stored_score_stage` returns those and this module goes.

- ``relevance``: rejects when the stored ``relevance`` is below the threshold; applies only to a dataset
  with a non-empty ``domain``.
- ``judge``: rejects when the stored score (``judge_expected`` if present, else ``judge_score``) is below
  the threshold.

A candidate with no stored score, or a threshold of None, passes the rule.
"""

from __future__ import annotations

from filters.novelty_pool import NoveltyPool
from filters.stages.base import PASS, ChainConfig, DecisionStage, StageInput, Verdict

STORED_SCORE_RULES: tuple[str, ...] = ("relevance", "judge")  # stage id = rule id


def judge_confidence(judge_expected: float | None, judge_score: float | None) -> float | None:
    """The judge's score that ranks and thresholds a candidate: the expected score, else the sampled one."""
    return judge_expected if judge_expected is not None else judge_score


class _StoredThresholdStage(DecisionStage):
    uses_pool = False  # the stored scores and the threshold decide; run up front

    def __init__(self, threshold: float | None, enabled: bool) -> None:
        self.threshold = threshold
        self.enabled = enabled

    @classmethod
    def from_config(cls, config: ChainConfig) -> DecisionStage:
        raise TypeError("built by stored_score_stage() with the replay's thresholds")

    def applies(self, pool: NoveltyPool) -> bool:
        return self.enabled and self.threshold is not None

    def score(self, candidate: StageInput) -> float | None:
        raise NotImplementedError

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        score = self.score(candidate)
        if self.threshold is None or score is None or score >= self.threshold:
            return PASS
        return Verdict(self.id, f"{self.id} score {score:.3f} < {self.threshold}")


class StoredRelevanceStage(_StoredThresholdStage):
    id = "relevance"
    rule_ids = ("relevance",)

    def score(self, candidate: StageInput) -> float | None:
        return candidate.stored.get("relevance")


class StoredJudgeStage(_StoredThresholdStage):
    id = "judge"
    rule_ids = ("judge",)

    def score(self, candidate: StageInput) -> float | None:
        return judge_confidence(candidate.stored.get("judge_expected"), candidate.stored.get("judge_score"))


def stored_score_stage(
    stage_id: str, threshold: float | None, domain: str, disabled_rules: frozenset[str]
) -> DecisionStage:
    """The replay's stage ``stage_id`` (one of :data:`STORED_SCORE_RULES`)."""
    enabled = stage_id not in disabled_rules
    if stage_id == "relevance":
        return StoredRelevanceStage(threshold, enabled and bool(domain.strip()))
    if stage_id == "judge":
        return StoredJudgeStage(threshold, enabled)
    raise ValueError(f"no stored-score stage {stage_id!r}")
