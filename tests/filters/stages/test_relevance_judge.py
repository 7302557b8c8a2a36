"""The relevance and judge stages in the chain: thresholds, stored scores, switched off per dataset."""

from __future__ import annotations

import numpy as np

from filters.chain import DecisionChain
from filters.decision import CandidateText
from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig
from tests.support.candidates import Candidate


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


REFERENCE = np.vstack([unit(1, 0, 0), unit(0, 1, 0)])  # the domain, then one seed
VECTORS = {
    "Give a recipe for a quick tomato soup.": unit(1, 0.1, 0),
    "Explain how to keep bread fresh for longer.": unit(0, 1, 0.2),
    "Describe how a TCP handshake opens a connection.": unit(0, 0.1, 1),
}


def embed(texts: list[str]) -> np.ndarray:
    return np.vstack([VECTORS[t] for t in texts])


def decide(config: ChainConfig, texts: list[str], judge: dict[str, dict] | None = None):
    chain = DecisionChain.from_config(config)
    pool = NoveltyPool(0.7, 3)
    candidates: list[CandidateText] = [Candidate(t) for t in texts]
    prepared = chain.prepare(pool, candidates, embed)
    for position in prepared.passing():
        prepared.inputs[position].stored = (judge or {}).get(texts[position], {})
    ids = iter(range(100))
    return [d.decision for d in chain.decide_prepared(pool, prepared, embed, lambda *_: next(ids))]


def test_relevance_is_the_best_cosine_to_the_domain_or_a_seed():
    config = ChainConfig(relevance_reference=REFERENCE, relevance_threshold=0.5)
    near, seed, far = decide(
        config,
        [
            "Give a recipe for a quick tomato soup.",
            "Explain how to keep bread fresh for longer.",
            "Describe how a TCP handshake opens a connection.",
        ],
    )
    assert near.accepted and near.relevance > 0.99
    assert seed.accepted and seed.relevance > 0.97
    assert far.rule == "relevance" and far.relevance < 0.1 and "< 0.5" in (far.detail or "")


def test_without_a_reference_or_switched_off_relevance_records_nothing():
    (plain,) = decide(ChainConfig(), ["Describe how a TCP handshake opens a connection."])
    (off,) = decide(
        ChainConfig(relevance_reference=REFERENCE, disabled_rules=frozenset({"relevance"})),
        ["Describe how a TCP handshake opens a connection."],
    )
    assert plain.accepted and plain.relevance is None
    assert off.accepted and off.relevance is None


def test_the_judge_decides_on_the_expected_score_else_the_sampled_one():
    scores = {
        "Give a recipe for a quick tomato soup.": {"judge_score": 4.0, "judge_expected": 2.6},
        "Explain how to keep bread fresh for longer.": {"judge_score": 3.0},
        "Describe how a TCP handshake opens a connection.": {},
    }
    low, sampled, unjudged = decide(ChainConfig(), list(scores), scores)
    assert low.rule == "judge" and low.judge_score == 4.0 and low.judge_expected == 2.6
    assert sampled.accepted and sampled.judge_score == 3.0 and sampled.judge_expected is None
    assert unjudged.accepted and unjudged.judge_score is None


def test_a_near_duplicate_keeps_its_judge_scores_and_a_switched_off_judge_passes():
    scores = {"Give a recipe for a quick tomato soup.": {"judge_score": 5.0}}
    first, twin = decide(
        ChainConfig(),
        ["Give a recipe for a quick tomato soup.", "Give a recipe for a quick tomato soup."],
        scores,
    )
    assert first.accepted and twin.rule == "exact_duplicate" and twin.judge_score == 5.0
    off = ChainConfig(judge_threshold=5.0, disabled_rules=frozenset({"judge"}))
    (passed,) = decide(
        off,
        ["Explain how to keep bread fresh for longer."],
        {"Explain how to keep bread fresh for longer.": {"judge_score": 1.0}},
    )
    assert passed.accepted and passed.judge_score is None
    assert not DecisionChain.from_config(off).runs("judge", NoveltyPool(0.7, 3))


def test_a_stored_relevance_is_used_without_a_vector():
    chain = DecisionChain.from_config(ChainConfig(relevance_reference=REFERENCE, relevance_threshold=0.5))
    pool = NoveltyPool(0.7, None)
    prepared = chain.prepare(pool, [Candidate("Give two reasons why people drink green tea.")], None)
    prepared.inputs[0].stored = {"relevance": 0.2}
    decided = chain.decide_prepared(pool, prepared, None, lambda *_: 1)
    assert decided[0].decision.rule == "relevance" and decided[0].decision.relevance == 0.2
