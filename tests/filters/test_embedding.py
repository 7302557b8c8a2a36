"""The real all-MiniLM-L6-v2 embedder (loaded once for this module) and the vector byte format."""

from __future__ import annotations

import os

import numpy as np
import pytest

from filters.embedding import SentenceTransformerEmbedder, from_bytes, to_bytes
from filters.index import VectorIndex

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIM = 384


@pytest.fixture(scope="module")
def minilm(request) -> SentenceTransformerEmbedder:
    """The one real embedder of this module (the suite's session embedder when conftest provides it)."""
    try:
        return request.getfixturevalue("real_embedder")
    except pytest.FixtureLookupError:
        return SentenceTransformerEmbedder()


def test_embed_returns_normalised_float32(minilm):
    vectors = minilm.embed(["How do I bake bread?", "Name three primary colours.", "你好，世界"])
    assert minilm.dimension == DIM
    assert vectors.shape == (3, DIM)
    assert vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embed_nothing(minilm):
    vectors = minilm.embed([])
    assert vectors.shape == (0, DIM)
    assert vectors.dtype == np.float32


def test_similar_sentences_score_higher_than_unrelated(minilm):
    bread, recipe, capital = minilm.embed(
        [
            "How do I bake bread at home?",
            "Give me a recipe for homemade bread.",
            "What is the capital of France?",
        ]
    )
    assert float(bread @ recipe) > float(bread @ capital) + 0.3
    assert float(recipe @ bread) > float(recipe @ capital) + 0.3


def test_real_vectors_in_faiss_find_the_paraphrase(minilm):
    pool = [
        "Give three tips for staying healthy.",
        "Translate the sentence into French.",
        "Write a haiku about the ocean.",
        "Explain how photosynthesis works.",
    ]
    index = VectorIndex(minilm.dimension)
    index.add([100, 101, 102, 103], minilm.embed(pool))
    query = minilm.embed(["Compose a short haiku about the sea."])
    score, item_id = index.nearest(query[0])
    assert item_id == 102
    assert 0.5 < score <= 1.0 + 1e-5
    # a pool item is its own nearest neighbour with cosine ~1
    self_score, self_id = index.nearest(minilm.embed([pool[3]])[0])
    assert self_id == 103 and self_score == pytest.approx(1.0, abs=1e-4)


def test_to_bytes_from_bytes_round_trip():
    vector = np.random.default_rng(0).normal(size=DIM).astype(np.float32)
    blob = to_bytes(vector)
    assert isinstance(blob, bytes) and len(blob) == 4 * DIM
    restored = from_bytes(blob, DIM)
    assert restored.dtype == np.float32
    np.testing.assert_array_equal(restored, vector)


def test_to_bytes_converts_float64_to_float32():
    vector = np.linspace(-1, 1, DIM)  # float64
    restored = from_bytes(to_bytes(vector), DIM)
    assert len(to_bytes(vector)) == 4 * DIM
    np.testing.assert_allclose(restored, vector, rtol=1e-6)


@pytest.mark.parametrize("stored_dim", [DIM - 1, DIM + 1, 0])
def test_from_bytes_wrong_dimension_raises(stored_dim):
    blob = to_bytes(np.zeros(stored_dim, dtype=np.float32))
    with pytest.raises(ValueError, match=str(stored_dim)):
        from_bytes(blob, DIM)


def test_the_embedder_runs_on_cuda_when_a_gpu_is_visible_with_batches_sized_for_it():
    from filters.embedding import CPU_BATCH_SIZE, CUDA_BATCH_SIZE, batch_size_for, choose_device

    assert choose_device(None, cuda_visible=lambda: True) == "cuda"
    assert choose_device(None, cuda_visible=lambda: False) == "cpu"
    assert choose_device("cpu", cuda_visible=lambda: True) == "cpu"  # an explicit choice wins
    assert batch_size_for("cuda") == CUDA_BATCH_SIZE > batch_size_for("cpu") == CPU_BATCH_SIZE
    assert batch_size_for("cuda:1") == CUDA_BATCH_SIZE
