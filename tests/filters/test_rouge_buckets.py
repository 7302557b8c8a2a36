"""Token-bucket bounds never undercount the overlap, and scoring in bound order changes no answer."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.rouge import RougeNoveltyIndex
from filters.rouge_buckets import TokenBuckets, best_in_bound_order

WORDS = [f"w{i}" for i in range(40)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 300), max_size=30), min_size=1, max_size=20),
    st.lists(st.integers(0, 300), max_size=30),
)
def test_bucket_bound_is_at_least_the_multiset_overlap(items, query):
    buckets = TokenBuckets()
    buckets.extend(items)
    counts = buckets.query(query)
    assert counts is not None
    bounds = buckets.overlap_bounds(np.arange(len(items)), counts)
    for item, bound in zip(items, bounds.tolist(), strict=True):
        overlap = sum((Counter(item) & Counter(query)).values())
        assert bound >= overlap


def test_saturated_buckets_still_bound_and_an_overfull_query_has_none():
    buckets = TokenBuckets()
    buckets.extend([[7] * 300, [7] * 10])
    counts = buckets.query([7] * 255)
    assert counts is not None
    assert buckets.overlap_bounds(np.arange(2), counts).tolist() == [255, 10]
    assert buckets.query([7] * 256) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=80), st.integers(0, 3))
def test_bound_order_finds_the_best_and_its_earliest_index(values, slack):
    scores = np.array(values, dtype=np.float64)
    limit = scores + np.random.default_rng(len(values)).integers(0, slack + 1, len(values))
    best, at = best_in_bound_order(limit, lambda picked: scores[picked])
    assert (best, at) == (scores.max(), int(np.argmax(scores)))


def test_bounded_scan_returns_what_scoring_every_probed_item_returns():
    """Below the threshold too: the same best score, item and exactness as the plain scan."""
    rng = random.Random(0)
    bases = [[rng.choice(WORDS) for _ in range(rng.randint(4, 14))] for _ in range(150)]
    pool = [list(b) for b in bases] + [
        [w if rng.random() > 0.2 else rng.choice(WORDS) for w in rng.choice(bases)] for _ in range(600)
    ]
    index = RougeNoveltyIndex(0.7)
    index.add_many((i, " ".join(words).split()) for i, words in enumerate(pool))
    for i in range(300):
        index.add(10_000 + i, [rng.choice(WORDS) for _ in range(rng.randint(3, 12))])
    for _ in range(400):
        words = [w if rng.random() > 0.25 else rng.choice(WORDS) for w in rng.choice(pool)]
        query = [index._vocab.get(w, -1) for w in words]
        plain = index._scan(query, index._probe(query)[0], index.threshold, exact_below_floor=False)
        assert index.max_score(words) == plain


def test_an_earlier_tie_whose_bound_equals_the_best_is_still_scored():
    scores = np.full(33, 5.0)  # index 0 ties the best but is bounded tightest: scored after the first chunk
    limit = np.concatenate(([5.0], np.full(32, 6.0)))
    assert best_in_bound_order(limit, lambda picked: scores[picked]) == (5.0, 0)
