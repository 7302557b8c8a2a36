"""A float16 index re-scored from float32 vectors answers exactly what a float32 IndexFlatIP answers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import faiss
import numpy as np
import pytest

from filters.index import VectorIndex
from filters.rescoring import SLACK, encoding_error, exact_scores
from filters.stages.base import DEFAULT_EMBEDDING_THRESHOLD

DIM = 32


def crowded_vectors(n: int, spread: float, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, ``spread`` apart: float16 codes misorder many of them."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, DIM))
    vectors = centres[rng.integers(0, 4, n)] + spread * rng.normal(size=(n, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def flat_float32(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def test_the_encoding_error_bounds_every_approximate_score():
    vectors = crowded_vectors(500, 0.3)
    quantizer = faiss.ScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_fp16)
    error = encoding_error(quantizer, vectors)
    assert 0 < error < 1e-3
    compact = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    compact.add(vectors)
    queries = crowded_vectors(50, 0.3, seed=1)
    approximate, positions = compact.search(queries, 500)
    for row, query in enumerate(queries):
        exact = exact_scores(query, vectors[positions[row]])
        assert np.abs(approximate[row] - exact).max() <= error + SLACK


def test_exact_scores_are_bitwise_those_of_index_flat_ip():
    vectors = crowded_vectors(100, 0.3)
    query = crowded_vectors(1, 0.3, seed=2)
    scores, positions = flat_float32(vectors).search(query, 100)
    np.testing.assert_array_equal(exact_scores(query[0], vectors[positions[0]]), scores[0])


@pytest.mark.parametrize("k", [1, 5])
def test_near_ties_come_out_in_the_exact_order_with_exact_scores(k):
    vectors = crowded_vectors(2000, 2e-3)  # neighbours closer than float16 can tell apart
    queries = crowded_vectors(200, 2e-3, seed=3)
    compact = VectorIndex(DIM, ann_min_size=None)
    ids = np.arange(len(vectors), dtype=np.int64) * 10 + 7
    compact.add_many(ids, vectors)
    expected_scores, expected_positions = flat_float32(vectors).search(queries, k)
    scores, found = compact.search(queries, k)
    np.testing.assert_array_equal(found, ids[expected_positions])
    np.testing.assert_array_equal(scores, expected_scores)
    # and the float16 order alone would have been wrong for many of them
    raw = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    raw.add(vectors)
    assert (raw.search(queries, k)[1] != expected_positions).any(axis=1).sum() >= 10


def test_an_exact_twin_is_found_first_as_index_flat_ip_finds_it():
    vectors = crowded_vectors(30, 0.3)
    vectors = np.concatenate([vectors, vectors[4:5], vectors[4:5]])  # the same vector three times
    compact = VectorIndex(DIM, ann_min_size=None)
    compact.add_many(np.arange(len(vectors)), vectors)
    _, expected = flat_float32(vectors).search(vectors[4:5], 1)
    assert compact.nearest(vectors[4]) == (float(flat_float32(vectors).search(vectors[4:5], 1)[0][0, 0]), 4)
    assert expected[0, 0] == 4


def test_a_saved_compact_index_answers_the_same_after_load(tmp_path):
    vectors = crowded_vectors(300, 2e-3)
    index = VectorIndex(DIM, ann_min_size=None)
    index.add_many(np.arange(300), vectors)
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", ann_min_size=None)
    assert loaded.codec == "fp16" and loaded.error == index.error
    queries = crowded_vectors(40, 2e-3, seed=4)
    for got, want in zip(loaded.search(queries, 3), index.search(queries, 3), strict=True):
        np.testing.assert_array_equal(got, want)
    (tmp_path / "v.faiss.f32").write_bytes(b"\0" * (300 * DIM * 4))  # other vectors beside the index
    with pytest.raises(ValueError, match="other vectors"):
        VectorIndex.load(tmp_path / "v.faiss")


# ---- the gate on real texts: the shipped seed sets and their perturbations ---------------------------


def perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        if len(words) < 3:
            break
        i = rng.randrange(len(words))
        if rng.random() < 0.5:
            del words[i]
        else:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
    return " ".join(words)


def test_gate_decisions_on_real_texts_are_those_of_the_float32_scan(real_embedder):
    """Candidates (seed texts, their perturbations, exact repeats) decided one by one in arrival order,
    each accepted one joining the pool: every decision, max cosine and neighbour is the float32 scan's."""
    folder = Path(__file__).resolve().parents[2] / "seed_tasks"
    rows = [
        json.loads(line)
        for name in ("en_seed_tasks.jsonl", "zh_seed_tasks.jsonl")
        for line in (folder / name).read_text().splitlines()
        if line
    ]
    texts = [row["instruction"] for row in rows]
    rng = random.Random(0)
    candidates = texts + [perturb(t, rng) for t in texts] + [perturb(t, rng) for t in texts] + texts[:20]
    rng.shuffle(candidates)
    vectors = real_embedder.embed(candidates)
    compact = VectorIndex(vectors.shape[1], ann_min_size=None)
    brute = faiss.IndexFlatIP(vectors.shape[1])
    accepted: list[int] = []
    decided = []
    for position, vector in enumerate(vectors):
        ours = compact.nearest(vector)
        if brute.ntotal:
            scores, found = brute.search(vector[None], 1)
            theirs = (float(scores[0, 0]), accepted[int(found[0, 0])])
        else:
            theirs = (None, None)
        assert ours == theirs, candidates[position]
        if theirs[0] is None or theirs[0] <= DEFAULT_EMBEDDING_THRESHOLD:
            compact.add([position], vector)
            brute.add(vector[None])
            accepted.append(position)
        decided.append(theirs[0] is not None and theirs[0] > DEFAULT_EMBEDDING_THRESHOLD)
    assert 100 < sum(decided) < len(candidates) - 100  # both decisions were taken many times
