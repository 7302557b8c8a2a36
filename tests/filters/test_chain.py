"""DecisionChain: stage order, Decision fields, strict thresholds and arrival-order semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rouge_score import rouge_scorer

from filters.chain import DecisionChain, parse_stages
from filters.decision import Decision
from filters.heuristics import preset
from filters.novelty_pool import NoveltyPool, normalize_for_exact
from filters.stages import STAGES
from filters.stages.base import DEFAULT_ROUGE_THRESHOLD, DEFAULT_STAGE_ORDER, ChainConfig

# the novelty tests decide made-up texts that are no tasks, so the quality rules stay out of their chain
NOVELTY_STAGES = ("heuristics", "exact", "rouge", "embedding")

DIM = 4


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


E0, E1, E2, E3 = (np.eye(DIM, dtype=np.float32)[i] for i in range(DIM))


class PoolAndChain:
    """A pool and the chain deciding against it, as one dataset has them."""

    def __init__(self, chain: DecisionChain, pool: NoveltyPool) -> None:
        self.chain, self.pool = chain, pool

    def add(self, item_id, text, vector, tokens=None):
        self.pool.add(item_id, "seed", text, vector, tokens)

    def decide(self, text, vector=None, stages=None) -> Decision:
        return self.chain.only(stages).decide(self.pool, text, vector)

    def __len__(self) -> int:
        return len(self.pool)


def make_chain(
    stages=None, rouge_threshold=DEFAULT_ROUGE_THRESHOLD, embedding_threshold=0.85, dimension=DIM
) -> PoolAndChain:
    config = ChainConfig(
        heuristics=preset(),
        stages=parse_stages(stages) or NOVELTY_STAGES,
        rouge_threshold=rouge_threshold,
        embedding_threshold=embedding_threshold,
    )
    return PoolAndChain(DecisionChain.from_config(config), NoveltyPool(rouge_threshold, dimension))


# ---- parse_stages -------------------------------------------------------------------------------------


def test_parse_stages_none_means_the_configured_chain():
    assert parse_stages(None) is None
    assert set(DEFAULT_STAGE_ORDER) == set(STAGES)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("rouge", {"rouge"}),
        ("heuristics,exact", {"heuristics", "exact"}),
        (" heuristics , rouge ,", {"heuristics", "rouge"}),
        (["embedding", "exact"], {"embedding", "exact"}),
    ],
)
def test_parse_stages_valid(spec, expected):
    assert set(parse_stages(spec)) == expected


@pytest.mark.parametrize("spec", ["rouge,bleu", ["heuristics", "bleu"], "bleu"])
def test_parse_stages_unknown_raises_naming_it(spec):
    with pytest.raises(ValueError, match="bleu"):
        parse_stages(spec)


@pytest.mark.parametrize("spec", ["", " , ", []])
def test_parse_stages_empty_raises(spec):
    with pytest.raises(ValueError, match="no filters"):
        parse_stages(spec)


def test_normalize_for_exact():
    assert normalize_for_exact("  Explain\tthe  THEORY\nof relativity ") == "explain the theory of relativity"


# ---- stage order and Decision fields ------------------------------------------------------------------


def test_accepted_decision_carries_scores_and_neighbours():
    chain = make_chain()
    chain.add(7, "Give three tips for staying healthy.", E0)
    decision = chain.decide("Describe the water cycle in simple terms.", unit(0.1, 1.0))
    assert decision.accepted
    assert decision.rule is None and decision.detail is None
    expected_rouge = (
        rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        .score("Describe the water cycle in simple terms.", "Give three tips for staying healthy.")["rougeL"]
        .fmeasure
    )
    assert decision.max_rouge_l == expected_rouge
    assert decision.rouge_neighbor_id == 7
    assert decision.max_cosine == pytest.approx(0.1 / math.sqrt(1.01), abs=1e-6)
    assert decision.cosine_neighbor_id == 7


def test_empty_pool_accepts_with_no_scores():
    decision = make_chain().decide("Describe the water cycle in simple terms.", E0)
    assert decision == Decision(True)


def test_heuristics_come_first_and_carry_no_scores():
    chain = make_chain()
    chain.add(1, "Tell me something.", E0)
    decision = chain.decide("Tell me something.", E0)  # too short, exact duplicate and same vector
    assert not decision.accepted
    assert decision.rule == "too_short"
    assert decision.max_rouge_l is None and decision.max_cosine is None


def test_exact_duplicate_comes_before_rouge():
    chain = make_chain()
    chain.add(3, "Explain the theory of relativity.", E0)
    decision = chain.decide("  explain the THEORY of   relativity.", E0)
    assert decision.rule == "exact_duplicate"
    assert "3" in decision.detail
    assert decision.max_rouge_l is None


def test_rouge_comes_before_embedding_and_both_scores_are_recorded():
    chain = make_chain()
    chain.add(4, "Explain the theory of relativity to a child.", E1)
    decision = chain.decide("Explain the theory of relativity to a student.", E1)
    assert decision.rule == "rouge_l"
    assert decision.max_rouge_l > DEFAULT_ROUGE_THRESHOLD
    assert decision.rouge_neighbor_id == 4
    assert decision.max_cosine == pytest.approx(1.0)
    assert decision.cosine_neighbor_id == 4


def test_embedding_rejects_when_rouge_passes():
    chain = make_chain()
    chain.add(5, "Give three tips for staying healthy.", E2)
    decision = chain.decide("Describe the water cycle in simple terms.", unit(0.0, 0.1, 1.0))
    assert decision.rule == "embedding"
    assert decision.cosine_neighbor_id == 5
    assert decision.max_cosine > 0.85
    assert decision.max_rouge_l is not None and decision.max_rouge_l <= DEFAULT_ROUGE_THRESHOLD
    assert "5" in decision.detail


def test_cosine_neighbour_is_the_nearest_vector():
    chain = make_chain()
    chain.add(10, "Give three tips for staying healthy.", E0)
    chain.add(11, "Name the planets of the solar system.", E1)
    chain.add(12, "Translate this sentence into French.", E2)
    decision = chain.decide("Describe the water cycle in simple terms.", unit(0.2, 0.3, 1.0))
    assert decision.cosine_neighbor_id == 12


def test_stage_override_skips_stages():
    chain = make_chain()
    chain.add(1, "Tell me something.", E0)
    decision = chain.decide("Tell me something.", E0, stages=("rouge",))
    assert decision.rule == "rouge_l"
    assert decision.max_rouge_l == 1.0
    assert decision.max_cosine is None  # embedding stage not run


def test_only_rouge_stage_configured():
    chain = make_chain(stages="rouge", dimension=None)
    chain.add(1, "Hi", None)
    assert chain.decide("Hi").rule == "rouge_l"  # too short, but heuristics are off
    assert chain.decide("Bye").accepted


def test_embedding_stage_needs_the_candidate_embedding():
    chain = make_chain()
    chain.add(1, "Give three tips for staying healthy.", E0)
    with pytest.raises(ValueError, match="embedding"):
        chain.decide("Describe the water cycle in simple terms.")


def test_needs_vectors():
    def needs(setup, stages=None):
        return setup.chain.only(stages).needs_vectors(setup.pool)

    assert needs(make_chain())
    assert not needs(make_chain(dimension=None))
    assert not needs(make_chain(stages="heuristics,rouge"))
    assert not needs(make_chain(), ("rouge",))


def test_chain_without_vectors_skips_the_embedding_stage():
    chain = make_chain(dimension=None)
    chain.add(1, "Give three tips for staying healthy.", None)
    decision = chain.decide("Describe the water cycle in simple terms.")
    assert decision.accepted and decision.max_cosine is None


def test_add_with_pretokenized_tokens():
    chain = make_chain(stages="rouge", dimension=None)
    chain.add(1, "ignored text", None, tokens=["alpha", "beta"])
    decision = chain.decide("Alpha, beta!")
    assert (decision.max_rouge_l, decision.rouge_neighbor_id) == (1.0, 1)
    assert len(chain) == 1


# ---- strict thresholds --------------------------------------------------------------------------------


def test_rouge_threshold_is_strict():
    pool_text = "alpha beta epsilon zeta"
    candidate = "alpha beta gamma delta"  # LCS 2 of 4 both ways: F is exactly 0.5
    f = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False).score(candidate, pool_text)["rougeL"]
    assert f.fmeasure == 0.5
    at = make_chain(rouge_threshold=0.5, dimension=None)
    at.add(1, pool_text, None)
    decision = at.decide(candidate)
    assert decision.accepted
    assert decision.max_rouge_l == 0.5
    below = make_chain(rouge_threshold=0.49, dimension=None)
    below.add(1, pool_text, None)
    assert below.decide(candidate).rule == "rouge_l"


def test_embedding_threshold_is_strict():
    vector = np.array([0.5, np.sqrt(0.75), 0.0, 0.0], dtype=np.float32)
    assert float(vector @ E0) == 0.5
    for threshold, accepted in ((0.5, True), (0.49, False)):
        chain = make_chain(embedding_threshold=threshold)
        chain.add(1, "Give three tips for staying healthy.", E0)
        decision = chain.decide("Describe the water cycle in simple terms.", vector)
        assert decision.accepted is accepted
        assert decision.max_cosine == 0.5


# ---- arrival order ------------------------------------------------------------------------------------


def test_arrival_order_first_accepted_second_rejected():
    chain = make_chain()
    chain.add(1, "Give three tips for staying healthy.", E0)
    first = "Suggest a weekend itinerary for a trip to Rome."
    second = "Suggest a weekend itinerary for a trip to Paris."
    first_decision = chain.decide(first, E1)
    assert first_decision.accepted
    chain.add(2, first, E1)
    second_decision = chain.decide(second, E2)
    assert not second_decision.accepted
    assert second_decision.rule == "rouge_l"
    assert second_decision.rouge_neighbor_id == 2


def test_rejected_candidates_do_not_join_the_pool():
    chain = make_chain()
    chain.add(1, "Explain the theory of relativity to a child.", E0)
    rejected = "Explain the theory of relativity to a student."
    assert not chain.decide(rejected, E1).accepted
    # not added → its exact twin is judged against the pool only
    assert chain.decide(rejected, E1).rule == "rouge_l"
    assert len(chain) == 1


def test_exact_index_keeps_the_first_id():
    chain = make_chain()
    chain.add(1, "Explain the theory of relativity.", E0)
    chain.add(2, "explain the theory of relativity.", E1)
    assert "item 1" in chain.decide("Explain the theory of relativity.", E0).detail
