"""VectorIndex: exact inner-product search over int64 ids, with save/load."""

from __future__ import annotations

import threading

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


# ---- flat up to ann_min_size, then HNSW ----------------------------------------------------------------


def brute_force(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]]


def test_default_index_is_flat_and_empty_max_id():
    index = VectorIndex(DIM)
    assert index.kind == "flat"
    assert index.max_id == -1
    assert VectorIndex(DIM, ann_min_size=None).kind == "flat"
    assert VectorIndex(DIM, ann_min_size=0).kind == "hnsw"
    with pytest.raises(ValueError):
        VectorIndex(DIM, ann_min_size=-1)


def test_switches_to_hnsw_when_an_add_reaches_ann_min_size():
    vectors = random_unit_vectors(60, seed=4)
    ids = np.arange(60, dtype=np.int64) * 7 + 2**35
    index = VectorIndex(DIM, ann_min_size=50)
    for position in range(49):
        index.add([ids[position]], vectors[position])
    assert index.kind == "flat" and len(index) == 49
    index.add([ids[49]], vectors[49])  # the 50th vector: switch
    assert index.kind == "hnsw" and len(index) == 50
    assert index.ids().tolist() == ids[:50].tolist()  # every stored vector moved over, in order
    index.add(ids[50:], vectors[50:])  # and it keeps accepting vectors as HNSW
    assert index.kind == "hnsw" and len(index) == 60
    assert index.max_id == int(ids[-1])
    queries = random_unit_vectors(10, seed=5)
    scores, found = index.search(queries, 5)
    # 60 vectors with efSearch >= 60: the graph search is exhaustive, hence exact
    np.testing.assert_array_equal(found, brute_force(vectors, ids, queries, 5))
    np.testing.assert_allclose(scores[:, 0], (queries @ vectors.T).max(axis=1), rtol=1e-5, atol=1e-6)
    for position in (0, 31, 49, 59):  # stored vectors find themselves with cosine 1
        score, item_id = index.nearest(vectors[position])
        assert item_id == int(ids[position]) and score == pytest.approx(1.0, abs=1e-5)


def test_a_bulk_add_that_crosses_the_threshold_builds_hnsw_with_everything():
    vectors = random_unit_vectors(70, seed=6)
    ids = np.arange(70, dtype=np.int64)[::-1].copy()  # ids need not be increasing
    index = VectorIndex(DIM, ann_min_size=50)
    index.add(ids[:30], vectors[:30])
    assert index.kind == "flat"
    index.add_many(ids[30:], vectors[30:])
    assert index.kind == "hnsw" and len(index) == 70
    assert index.max_id == 69
    queries = random_unit_vectors(8, seed=7)
    np.testing.assert_array_equal(index.search(queries, 3)[1], brute_force(vectors, ids, queries, 3))


def test_hnsw_pads_missing_neighbours_like_flat():
    index = VectorIndex(DIM, ann_min_size=0)
    index.add([5, 6], random_unit_vectors(2))
    scores, ids = index.search(random_unit_vectors(1, seed=3), 4)
    assert sorted(ids[0, :2].tolist()) == [5, 6]
    assert ids[0, 2:].tolist() == [-1, -1]
    assert np.all(np.isneginf(scores[0, 2:])) and np.all(np.isfinite(scores[0, :2]))


def test_add_rejects_mismatched_ids():
    with pytest.raises(ValueError):
        VectorIndex(DIM).add([1, 2], random_unit_vectors(3))


@pytest.mark.parametrize("ann_min_size", [None, 10])
def test_save_load_round_trip_of_both_kinds_with_max_id(tmp_path, ann_min_size):
    vectors = random_unit_vectors(40, seed=8)
    ids = np.arange(40, dtype=np.int64) * 3 + 2**40
    index = VectorIndex(DIM, ann_min_size=ann_min_size, hnsw_m=8)
    index.add_many(ids, vectors)
    expected_kind = "flat" if ann_min_size is None else "hnsw"
    assert index.kind == expected_kind
    path = tmp_path / "vectors.faiss"
    index.save(path)
    assert not list(tmp_path.glob("*.partial"))  # written atomically
    loaded = VectorIndex.load(path, ann_min_size=ann_min_size, ef_search=64)
    assert loaded.kind == expected_kind
    assert loaded.max_id == index.max_id == int(ids.max())
    assert loaded.ids().tolist() == ids.tolist()
    assert loaded.ef_search == 64
    if expected_kind == "hnsw":
        assert loaded.hnsw_m == 8
    queries = random_unit_vectors(6, seed=9)
    index.ef_search = 64
    for got, want in zip(loaded.search(queries, 5), index.search(queries, 5), strict=True):
        np.testing.assert_array_equal(got, want)
    # catching up rows added after the save: new ids above max_id
    loaded.add([int(ids.max()) + 1], vectors[0])
    assert loaded.max_id == int(ids.max()) + 1 and len(loaded) == 41


def test_a_loaded_flat_index_switches_on_its_next_add(tmp_path):
    index = VectorIndex(DIM, ann_min_size=None)
    index.add(np.arange(30), random_unit_vectors(30))
    index.save(tmp_path / "flat.faiss")
    loaded = VectorIndex.load(tmp_path / "flat.faiss", ann_min_size=20)
    assert loaded.kind == "flat"
    loaded.add([100], random_unit_vectors(1, seed=1))
    assert loaded.kind == "hnsw" and len(loaded) == 31 and loaded.max_id == 100


def test_load_rejects_a_foreign_index(tmp_path):
    import faiss

    faiss.write_index(faiss.IndexFlatIP(DIM), str(tmp_path / "plain.faiss"))
    with pytest.raises(ValueError):
        VectorIndex.load(tmp_path / "plain.faiss")


# ---- recall on real sentence embeddings ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_embeddings(real_embedder) -> tuple[np.ndarray, np.ndarray]:
    """Real MiniLM embeddings of the shipped seed tasks: pool = the English and Chinese instructions and
    the English instance inputs; queries = the first line of each English output (other real texts)."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "seed_tasks"
    rows = [json.loads(line) for line in (folder / "en_seed_tasks.jsonl").read_text().splitlines() if line]
    zh = [json.loads(line) for line in (folder / "zh_seed_tasks.jsonl").read_text().splitlines() if line]
    instances = [i for r in rows for i in r["instances"]]
    pool = [r["instruction"] for r in rows + zh] + [i["input"] for i in instances if i["input"]]
    pool = list(dict.fromkeys(pool))  # distinct texts, so each one's nearest neighbour is itself
    queries = list(dict.fromkeys(" ".join(i["output"].split("\n")[0].split()[:16]) for i in instances))
    return real_embedder.embed(pool), real_embedder.embed(queries)


def test_hnsw_recall_on_real_sentence_embeddings(seed_embeddings):
    pool, queries = seed_embeddings
    assert len(pool) >= 250 and len(queries) >= 100
    ids = np.arange(len(pool), dtype=np.int64) + 1000
    exact = VectorIndex(pool.shape[1], ann_min_size=None)
    exact.add_many(ids, pool)
    approx = VectorIndex(pool.shape[1], ann_min_size=100)  # switches part-way through the adds
    for start in range(0, len(pool), 37):
        approx.add(ids[start : start + 37], pool[start : start + 37])
    assert approx.kind == "hnsw" and len(approx) == len(pool)
    exact_scores, exact_ids = exact.search(queries, 10)
    approx_scores, approx_ids = approx.search(queries, 10)
    hits = sum(len(set(a) & set(e)) for a, e in zip(approx_ids, exact_ids, strict=True))
    assert hits / exact_ids.size >= 0.99
    # the novelty gate sees the same max cosine, and scores are cosines (inner product metric)
    np.testing.assert_allclose(approx_scores[:, 0], exact_scores[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(approx_scores[:, 0], (queries @ pool.T).max(axis=1), rtol=1e-5, atol=1e-5)
    # every pool text finds itself
    assert np.array_equal(approx.search(pool, 1)[1][:, 0], ids)


def test_a_single_query_leaves_faiss_thread_setting_alone(filled):
    import faiss

    index, _, vectors = filled
    before = faiss.omp_get_max_threads()
    index.nearest(vectors[0])  # searched on one thread
    index.search(vectors[:4], 2)  # batches use the default
    assert faiss.omp_get_max_threads() == before


@pytest.fixture
def held_build(monkeypatch):
    """Background graph builds wait for the returned event before they start."""
    release = threading.Event()
    original = VectorIndex._new_hnsw

    def new_hnsw_when_released(self):
        assert release.wait(10)
        return original(self)

    monkeypatch.setattr(VectorIndex, "_new_hnsw", new_hnsw_when_released)
    return release


def test_a_background_build_answers_exactly_meanwhile_and_keeps_what_was_added(held_build):
    vectors = random_unit_vectors(80, seed=8)
    ids = np.arange(80, dtype=np.int64) * 3 + 2**33
    index = VectorIndex(DIM, ann_min_size=50)
    built = []
    index.add_many(ids[:60], vectors[:60], background=True, on_built=lambda: built.append(index.kind))
    assert index.building and index.kind == "flat" and len(index) == 60
    queries = random_unit_vectors(6, seed=9)
    exact_before = brute_force(vectors[:60], ids[:60], queries, 4)
    np.testing.assert_array_equal(index.search(queries, 4)[1], exact_before)
    index.add(ids[60:70], vectors[60:70])  # arrives while the graph is built: no second build
    index.add_many(ids[70:], vectors[70:], background=True)
    assert index.building and index.kind == "flat" and len(index) == 80 and built == []
    held_build.set()
    assert index.wait_built(10)
    assert index.kind == "hnsw" and not index.building and built == ["hnsw"]
    assert index.ids().tolist() == ids.tolist() and index.max_id == int(ids[-1])
    # 80 vectors with efSearch >= 80: the graph search is exhaustive, hence exact
    np.testing.assert_array_equal(index.search(queries, 4)[1], brute_force(vectors, ids, queries, 4))


def test_a_background_add_below_the_switch_point_stays_flat_without_a_builder():
    index = VectorIndex(DIM, ann_min_size=50)
    index.add_many(np.arange(20), random_unit_vectors(20), background=True)
    assert index.kind == "flat" and not index.building and len(index) == 20 and index.wait_built(0)


def test_a_failed_background_build_leaves_an_exact_index(monkeypatch):
    def broken(self):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(VectorIndex, "_new_hnsw", broken)
    vectors = random_unit_vectors(60, seed=10)
    index = VectorIndex(DIM, ann_min_size=50)
    built = []
    index.add_many(np.arange(60), vectors, background=True, on_built=lambda: built.append(True))
    assert index.wait_built(10)
    assert index.kind == "flat" and not index.building and len(index) == 60 and built == []
    queries = random_unit_vectors(3, seed=11)
    np.testing.assert_array_equal(
        index.search(queries, 5)[1], brute_force(vectors, np.arange(60), queries, 5)
    )


def test_unsaved_tracks_changes_since_the_last_save_or_load(tmp_path, held_build):
    index = VectorIndex(DIM, ann_min_size=50)
    assert not index.unsaved
    index.add([1, 2], random_unit_vectors(2))
    assert index.unsaved
    index.save(tmp_path / "a.faiss")
    assert not index.unsaved and not VectorIndex.load(tmp_path / "a.faiss").unsaved
    index.add_many(np.arange(10, 70), random_unit_vectors(60, seed=12), background=True)
    index.save(tmp_path / "b.faiss")  # saved mid-build: the flat stand-in
    assert not index.unsaved
    held_build.set()
    assert index.wait_built(10) and index.kind == "hnsw"
    assert index.unsaved  # the graph itself is not saved yet
