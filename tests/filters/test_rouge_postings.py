"""Prefix postings sorted by item length: inserting entries one by one gives the bulk build's arrays, and a
query reads the lengths its places allow (saturated lengths included) and nothing it must not skip."""

from __future__ import annotations

import numpy as np

from filters.rouge_bounds import length_bounds, needed_overlap
from filters.rouge_postings import PrefixPostings, pack, sorted_unique

LENGTH_MAX = (1 << 19) - 1


def test_entries_added_one_by_one_equal_the_bulk_build():
    rng = np.random.default_rng(3)
    elements = rng.integers(0, 20, 500)
    positions = np.arange(500)
    places = rng.integers(0, 6, 500)
    lengths = rng.integers(1, 40, 500)
    built = PrefixPostings()
    by_length = np.lexsort((positions, lengths))  # the order build() takes them in
    built.build(elements[by_length], pack(positions, places, lengths)[by_length])
    added = PrefixPostings()
    for element, position, place, length in zip(elements, positions, places, lengths, strict=True):
        added._sorted.setdefault(int(element), np.zeros(0, dtype=np.int64))
        # one element at a given place: add() takes the item's prefix in place order
        prefix = [-1] * int(place) + [int(element)]
        added.add(prefix, int(position), int(length))
    added._sorted.pop(-1)
    assert built._sorted.keys() == added._sorted.keys()
    for element, array in built._sorted.items():
        assert np.array_equal(array, added._sorted[element])
        assert np.all(np.diff(array) > 0)


def test_a_query_reads_exactly_the_items_both_filters_keep():
    """Against the filters written out item by item, for every query length and place."""
    rng = np.random.default_rng(5)
    lengths = rng.integers(1, 60, 3000)
    places = rng.integers(0, 30, 3000)
    places = np.minimum(places, lengths - 1)
    postings = PrefixPostings()
    by_length = np.argsort(lengths, kind="stable")
    postings.build(np.zeros(3000, dtype=np.int64), pack(np.arange(3000), places, lengths)[by_length])
    longest = int(lengths.max())
    for threshold in (0.5, 0.7):
        for n in (1, 3, 11, 25, 59, 120):
            need = needed_overlap(n, threshold, longest)
            low = length_bounds(n, threshold)[0]
            for place in (0, 1, 4, 10):
                got, got_lengths = postings.candidates([(place, 0)], n, need, low)
                required = need[np.minimum(lengths, len(need) - 1)]
                keep = np.minimum(n - place, lengths - places) >= required
                assert np.array_equal(got, np.flatnonzero(keep)), (threshold, n, place)
                assert np.array_equal(got_lengths, lengths[got])


def test_a_saturated_length_is_kept_where_its_true_length_could_qualify():
    """An item of 2**20 tokens is stored with the saturated length 2**19 - 1, below a long query's low
    length bound and too short for its place to pass: it is kept all the same (it is scored exactly)."""
    postings = PrefixPostings()
    lengths = np.array([10, 2 * LENGTH_MAX, 12], dtype=np.int64)
    places = np.array([0, 4000, 0], dtype=np.int64)
    postings.build(np.zeros(3, dtype=np.int64), pack(np.arange(3), places, lengths)[[0, 2, 1]])
    n = 2 * LENGTH_MAX  # the same text again: F = 1
    need = needed_overlap(n, 0.7, int(lengths.max()))
    assert length_bounds(n, 0.7)[0] > LENGTH_MAX
    assert postings.candidates([(0, 0)], n, need, length_bounds(n, 0.7)[0])[0].tolist() == [1]
    short = needed_overlap(11, 0.7, int(lengths.max()))
    assert postings.candidates([(0, 0)], 11, short, length_bounds(11, 0.7)[0])[0].tolist() == [0, 2]


def test_sorted_unique_is_numpy_unique():
    values = np.random.default_rng(1).integers(0, 50, 400)
    for part in (values[:0], values[:1], values):
        assert np.array_equal(sorted_unique(part), np.unique(part))
