"""VectorIndex: exact inner-product search over int64 ids, with save/load."""

from __future__ import annotations

import numpy as np
import pytest

from filters.index import VectorIndex

DIM = 8


def random_unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def filled() -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    vectors = random_unit_vectors(20)
    ids = np.arange(20, dtype=np.int64) * 1000 + 2**40  # large ids survive
    index = VectorIndex(DIM)
    index.add(ids, vectors)
    return index, ids, vectors


def test_empty_index():
    index = VectorIndex(DIM)
    assert len(index) == 0
    scores, ids = index.search(random_unit_vectors(2), 3)
    assert scores.shape == ids.shape == (2, 3)
    assert np.all(ids == -1)
    assert np.all(np.isneginf(scores))
    assert index.nearest(random_unit_vectors(1)[0]) == (None, None)


def test_search_with_k_zero():
    index = VectorIndex(DIM)
    index.add([1], random_unit_vectors(1))
    scores, ids = index.search(random_unit_vectors(3), 0)
    assert scores.shape == ids.shape == (3, 0)


def test_adding_nothing_is_a_no_op():
    index = VectorIndex(DIM)
    index.add([], np.zeros((0, DIM), dtype=np.float32))
    assert len(index) == 0


def test_search_matches_brute_force(filled):
    index, ids, vectors = filled
    queries = random_unit_vectors(5, seed=1)
    scores, found = index.search(queries, 4)
    sims = queries @ vectors.T
    for row in range(len(queries)):
        order = np.argsort(-sims[row])[:4]
        assert list(found[row]) == list(ids[order])
        np.testing.assert_allclose(scores[row], sims[row, order], rtol=1e-5, atol=1e-6)


def test_a_stored_vector_is_its_own_nearest_neighbour(filled):
    index, ids, vectors = filled
    score, item_id = index.nearest(vectors[13])
    assert item_id == int(ids[13])
    assert isinstance(item_id, int) and isinstance(score, float)
    assert score == pytest.approx(1.0, abs=1e-5)


def test_k_beyond_size_pads_with_minus_one():
    index = VectorIndex(DIM)
    index.add([5, 6], random_unit_vectors(2))
    _, ids = index.search(random_unit_vectors(1, seed=3), 4)
    assert sorted(ids[0, :2].tolist()) == [5, 6]
    assert ids[0, 2:].tolist() == [-1, -1]


def test_add_accepts_float64_and_flat_vectors():
    index = VectorIndex(DIM)
    vector = random_unit_vectors(1)[0].astype(np.float64)
    index.add([42], vector)  # 1-D, float64
    assert len(index) == 1
    assert index.nearest(vector.astype(np.float32))[1] == 42


def test_save_load_round_trip(tmp_path, filled):
    index, ids, _ = filled
    path = tmp_path / "vectors.faiss"
    index.save(path)
    loaded = VectorIndex.load(path)
    assert loaded.dimension == DIM
    assert len(loaded) == len(index) == 20
    queries = random_unit_vectors(4, seed=2)
    for got, expected in zip(loaded.search(queries, 5), index.search(queries, 5), strict=True):
        np.testing.assert_array_equal(got, expected)
    # a loaded index keeps accepting new ids
    extra = random_unit_vectors(1, seed=9)
    loaded.add([7], extra)
    assert loaded.nearest(extra[0])[1] == 7
    assert len(loaded) == 21
