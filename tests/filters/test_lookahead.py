"""Work started ahead on a helper thread: the embedding stage's FAISS search overlapping ROUGE-L scoring."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import filters.stages.embedding as embedding_stage
from filters import lookahead
from filters.chain import DecisionChain
from filters.heuristics import preset
from filters.index import VectorIndex
from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig
from tests.support.candidates import Candidate

DIM = 16


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_ahead_runs_on_a_helper_thread_and_answers_its_result_or_its_error():
    answer = lookahead.ahead(lambda: threading.current_thread().name)
    assert answer().startswith("lookahead")
    assert lookahead.now(lambda: threading.current_thread().name)() == threading.current_thread().name

    def fails() -> None:
        raise RuntimeError("search failed")

    with pytest.raises(RuntimeError, match="search failed"):
        lookahead.ahead(fails)()


@pytest.mark.parametrize("ann_min_size", [None, 0])
def test_a_search_started_ahead_answers_what_a_search_now_answers(ann_min_size):
    index = VectorIndex(DIM, ann_min_size=ann_min_size)
    index.add(np.arange(10, 210), np.stack([unit(i) for i in range(200)]))
    queries = np.stack([unit(1000 + i) for i in range(5)])
    now_scores, now_ids = index.search(queries, 3)
    ahead_scores, ahead_ids = index.search_later(queries, 3, lookahead.ahead)()
    assert np.array_equal(now_ids, ahead_ids) and np.array_equal(now_scores, ahead_scores)
    assert index.nearest_later(queries[0], lookahead.ahead)() == index.nearest(queries[0])
    assert VectorIndex(DIM).nearest_later(queries[0], lookahead.ahead)() == (None, None)


class Spy:
    """Stands in for ``lookahead.ahead`` in the embedding stage: counts the searches started ahead."""

    def __init__(self) -> None:
        self.started = 0

    def __call__(self, function, *args):  # noqa: ANN001, ANN204 - the signature of lookahead.ahead
        self.started += 1
        return lookahead.ahead(function, *args)


def test_each_candidate_is_searched_ahead_against_the_pool_its_predecessors_joined(monkeypatch):
    """Started per candidate after the one before joined the pool: a twin of an accepted candidate of
    the same batch is rejected by the embedding stage with that candidate as its neighbour."""
    spy = Spy()
    monkeypatch.setattr(embedding_stage, "ahead", spy)
    config = ChainConfig(heuristics=preset(), stages=("heuristics", "exact", "rouge", "embedding"))
    chain = DecisionChain.from_config(config)
    (stage,) = [s for s in chain.stages if isinstance(s, embedding_stage.EmbeddingStage)]
    stage.ahead_min_items = 1
    pool = NoveltyPool(config.rouge_threshold, DIM)
    pool.add(1, "seed", "Give three tips for staying healthy.", unit(0))
    texts = [
        "Suggest a weekend itinerary for a trip to Rome.",
        "Write a limerick about a forgetful robot.",  # the same vector as the one before
        "draw a map",  # rejected by the heuristics: nothing is started for it
        "Explain how tides are caused by the moon.",
    ]
    vectors = {texts[0]: unit(1), texts[1]: unit(1), texts[2]: unit(2), texts[3]: unit(3)}
    next_id = iter(range(100, 200))

    def record(position, decision, vector):  # noqa: ANN001, ANN202
        return next(next_id) if decision.accepted else None

    decided = chain.decide_batch(
        pool, [Candidate(t) for t in texts], lambda batch: np.stack([vectors[t] for t in batch]), record
    )
    assert [d.decision.rule for d in decided] == [None, "embedding", "too_short", None]
    assert decided[1].decision.cosine_neighbor_id == 100
    assert spy.started == 3

    stage.ahead_min_items = embedding_stage.AHEAD_MIN_ITEMS  # a pool this small is searched in this thread
    pool_now = NoveltyPool(config.rouge_threshold, DIM)
    pool_now.add(1, "seed", "Give three tips for staying healthy.", unit(0))
    next_id = iter(range(100, 200))
    again = chain.decide_batch(
        pool_now, [Candidate(t) for t in texts], lambda batch: np.stack([vectors[t] for t in batch]), record
    )
    assert [d.decision for d in again] == [d.decision for d in decided]
    assert spy.started == 3
