"""DecisionChain.decide_batch: arrival order, one run of each stage per candidate, one embedding call."""

from __future__ import annotations

import numpy as np
import pytest

from filters.chain import DecisionChain
from filters.decision import Decision
from filters.heuristics import preset
from filters.novelty_pool import NoveltyPool
from filters.stages import STAGES
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict
from tests.support.candidates import Candidate

DIM = 4


def vector_of(text: str) -> np.ndarray:
    """A deterministic unit vector per text (texts sharing a first word point the same way)."""
    seed = sum(map(ord, text.split()[0])) % 1000
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


class Embedder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([vector_of(t) for t in texts])


class Store:
    """What the service does in ``record``: gives every accepted candidate the next id."""

    def __init__(self, first_id: int = 100) -> None:
        self.next_id = first_id
        self.recorded: list[tuple[int, Decision]] = []

    def __call__(self, position: int, decision: Decision, vector: np.ndarray | None) -> int | None:
        self.recorded.append((position, decision))
        if not decision.accepted:
            return None
        self.next_id += 1
        return self.next_id


def chain_and_pool(stages=("heuristics", "exact", "rouge", "embedding"), dimension=DIM):
    config = ChainConfig(heuristics=preset(), stages=stages)
    pool = NoveltyPool(config.rouge_threshold, dimension)
    pool.add(1, "seed", "Give three tips for staying healthy.", vector_of("Give"))
    return DecisionChain.from_config(config), pool


TEXTS = [
    "Suggest a weekend itinerary for a trip to Rome.",  # accepted
    "Suggest a weekend itinerary for a trip to Paris.",  # ROUGE-L against the one before it
    "draw a map",  # heuristics
    "Compose a short poem about autumn leaves falling.",  # accepted
    "compose a short  poem about autumn leaves falling.",  # exact duplicate of the one before
]


def test_a_batch_is_decided_in_arrival_order_and_accepted_items_join_the_pool():
    chain, pool = chain_and_pool(stages=("heuristics", "exact", "rouge"))
    store = Store()
    decided = chain.decide_batch(pool, [Candidate(t) for t in TEXTS], None, store)
    assert [d.decision.rule for d in decided] == [None, "rouge_l", "too_short", None, "exact_duplicate"]
    assert decided[1].decision.rouge_neighbor_id == 101  # the first candidate, added before the second
    assert "item 102" in decided[4].decision.detail
    assert [d.item_id for d in decided] == [101, None, None, 102, None]
    assert [p for p, _ in store.recorded] == [0, 1, 2, 3, 4]
    assert len(pool) == 3 and pool.machine_texts() == [TEXTS[0], TEXTS[3]]


def test_the_same_decisions_as_one_candidate_at_a_time():
    chain, pool = chain_and_pool()
    one_by_one = []
    single, single_pool = chain_and_pool()
    next_id = 100
    for text in TEXTS:
        decision = single.decide(single_pool, text, vector_of(text))
        one_by_one.append(decision)
        if decision.accepted:
            next_id += 1
            single_pool.add(next_id, "generated", text, vector_of(text))
    batch = chain.decide_batch(pool, [Candidate(t) for t in TEXTS], Embedder(), Store())
    assert [d.decision for d in batch] == one_by_one


def test_only_candidates_that_can_reach_the_vector_stage_are_embedded_in_one_call():
    chain, pool = chain_and_pool()
    embedder = Embedder()
    decided = chain.decide_batch(pool, [Candidate(t) for t in TEXTS], embedder, Store())
    assert embedder.calls == [[t for t in TEXTS if t != "draw a map"]]
    assert decided[2].vector is None and decided[2].decision.max_cosine is None
    # a near-duplicate still records its cosine; the decision stays ROUGE-L's
    assert decided[1].decision.rule == "rouge_l" and decided[1].decision.max_cosine is not None


def test_no_embedding_call_when_nothing_passes_the_text_stages():
    chain, pool = chain_and_pool()
    embedder = Embedder()
    decided = chain.decide_batch(pool, [Candidate("draw a map"), Candidate("Hi")], embedder, Store())
    assert [d.decision.rule for d in decided] == ["too_short", "too_short"]
    assert embedder.calls == []


def test_accepted_candidates_are_embedded_after_the_decision_when_no_vector_stage_ran():
    chain, pool = chain_and_pool()
    embedder = Embedder()
    decided = chain.only(("rouge",)).decide_batch(pool, [Candidate(t) for t in TEXTS[:2]], embedder, Store())
    assert [d.decision.accepted for d in decided] == [True, False]
    assert embedder.calls == [[TEXTS[0]]]  # after deciding, only the accepted one
    assert np.allclose(decided[0].vector, vector_of(TEXTS[0])) and decided[1].vector is None
    assert pool.vectors.nearest(vector_of(TEXTS[0]))[1] == 101


def test_deciding_stops_after_the_limit():
    chain, pool = chain_and_pool()
    store = Store()
    decided = chain.decide_batch(pool, [Candidate(t) for t in TEXTS], Embedder(), store, limit_accepted=1)
    assert len(decided) == 1 and decided[0].decision.accepted
    assert len(store.recorded) == 1


class CountingStage(DecisionStage):
    """Wraps a registered stage and counts its checks."""

    calls: dict[str, int] = {}

    def __init__(self, inner: DecisionStage) -> None:
        self.inner = inner
        self.id = inner.id  # type: ignore[misc]
        self.uses_pool = inner.uses_pool  # type: ignore[misc]
        self.needs_vector = inner.needs_vector  # type: ignore[misc]
        self.measures_after_rejection = inner.measures_after_rejection  # type: ignore[misc]

    @classmethod
    def from_config(cls, config: ChainConfig) -> DecisionStage:
        raise NotImplementedError

    def applies(self, pool: NoveltyPool) -> bool:
        return self.inner.applies(pool)

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        self.calls[self.id] = self.calls.get(self.id, 0) + 1
        return self.inner.check(candidate, pool)


def test_each_stage_runs_at_most_once_per_candidate():
    config = ChainConfig(heuristics=preset())
    CountingStage.calls = {}
    chain = DecisionChain([CountingStage(STAGES[s].from_config(config)) for s in config.stages])
    _, pool = chain_and_pool()
    chain.decide_batch(pool, [Candidate(t) for t in TEXTS], Embedder(), Store())
    assert CountingStage.calls["heuristics"] == len(TEXTS)
    # exact: all but the heuristics reject; rouge: not the exact duplicate either
    assert CountingStage.calls["exact"] == 4
    assert CountingStage.calls["rouge"] == 3
    assert CountingStage.calls["embedding"] == 4  # decides 2, measures the 2 near-duplicates


def test_the_configured_order_is_the_order_that_decides():
    """A candidate failing both the exact and the ROUGE-L stage is named by whichever comes first."""
    twin, vector = "give three tips for staying  healthy.", vector_of("Give")  # the seed's twin
    default, pool = chain_and_pool()
    assert default.decide(pool, twin, vector).rule == "exact_duplicate"
    swapped, pool = chain_and_pool(stages=("heuristics", "rouge", "exact", "embedding"))
    assert swapped.ids == ("heuristics", "rouge", "exact", "embedding")
    assert swapped.decide(pool, twin, vector).rule == "rouge_l"
    embedding_first, pool = chain_and_pool(stages=("embedding", "heuristics", "exact", "rouge"))
    assert embedding_first.decide(pool, twin, vector).rule == "embedding"


def test_unknown_stages_in_the_configuration_are_named():
    with pytest.raises(ValueError, match="bleu"):
        DecisionChain.from_config(ChainConfig(stages=("heuristics", "bleu")))


def test_prepared_candidates_are_decided_like_a_batch_without_another_embedding_call():
    """prepare() does every embedding up front; decide_prepared() (the locked part) embeds nothing."""
    chain, pool = chain_and_pool()
    expected = chain.decide_batch(pool, [Candidate(t) for t in TEXTS], Embedder(), Store())
    chain, pool = chain_and_pool()
    embedder = Embedder()
    prepared = chain.prepare(pool, [Candidate(t) for t in TEXTS], embedder)
    assert len(embedder.calls) == 1 and len(pool) == 1  # the pool is untouched by prepare
    decided = chain.decide_prepared(pool, prepared, embedder, Store())
    assert len(embedder.calls) == 1
    assert [d.decision for d in decided] == [d.decision for d in expected]


def test_a_prepared_batch_decided_in_parts_sees_the_earlier_parts_acceptances():
    chain, pool = chain_and_pool()
    candidates = [Candidate(t) for t in TEXTS]
    prepared = chain.prepare(pool, candidates, Embedder())
    store = Store()
    first = chain.decide_prepared(pool, prepared.part(0, 1, candidates[:1]), None, store)
    second = chain.decide_prepared(pool, prepared.part(1, 5, candidates[1:]), None, store)
    rules = [d.decision.rule for d in first + second]
    assert rules == [None, "rouge_l", "too_short", None, "exact_duplicate"]
    assert second[0].decision.rouge_neighbor_id == 101
    with pytest.raises(ValueError, match="prepared texts"):
        prepared.part(0, 1, candidates[1:2])
