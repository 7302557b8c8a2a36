"""The relevance and judge rules from stored scores: below the threshold rejects, at it passes."""

from __future__ import annotations

from app.review.stored_score_stages import stored_score_stage
from filters.novelty_pool import NoveltyPool
from filters.stages.base import StageInput

POOL = NoveltyPool()


def verdict(stage_id: str, threshold: float | None, domain: str = "cooking", disabled=frozenset(), **stored):
    stage = stored_score_stage(stage_id, threshold, domain, frozenset(disabled))
    if not stage.applies(POOL):
        return "n/a"
    return stage.check(StageInput("Bake bread.", stored=stored), POOL).rule


def test_the_judge_reads_the_expected_score_before_the_sampled_one():
    assert verdict("judge", 3.0, judge_score=5.0, judge_expected=2.9) == "judge"
    assert verdict("judge", 3.0, judge_score=1.0, judge_expected=3.0) is None
    assert verdict("judge", 3.0, judge_score=2.0) == "judge"
    assert verdict("judge", 3.0) is None  # never judged
    assert verdict("judge", None, judge_score=1.0) == "n/a"
    assert verdict("judge", 3.0, disabled={"judge"}, judge_score=1.0) == "n/a"


def test_relevance_needs_a_domain():
    assert verdict("relevance", 0.3, relevance=0.29) == "relevance"
    assert verdict("relevance", 0.3, relevance=0.3) is None
    assert verdict("relevance", 0.3, domain=" ", relevance=0.1) == "n/a"
