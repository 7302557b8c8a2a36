"""The encoder's vector cache: a cached vector is the one the model gives for the same input."""

from __future__ import annotations

import numpy as np
import pytest

from filters.embedding import SentenceTransformerEmbedder
from filters.vector_cache import VectorCache, ids_key

TEXTS = [
    "Give three tips for staying healthy.",
    "Translate the sentence into French.",
    "Explain how a bill becomes a law in a parliamentary democracy, step by step, for a civics class.",
    "Write a haiku about autumn leaves.",
]


def test_the_least_recently_used_vector_goes_first():
    cache = VectorCache(capacity=2, dimension=2)
    a, b, c = ids_key([101, 7, 102]), ids_key([101, 8, 102]), ids_key([101, 9, 102])
    cache.store([a, b], np.array([[1, 0], [0, 1]], dtype=np.float32))
    out = np.zeros((1, 2), dtype=np.float32)
    assert cache.lookup([a], out) == [] and out.tolist() == [[1, 0]]  # a is now the most recent
    cache.store([c], np.array([[0.6, 0.8]], dtype=np.float32))  # b goes
    out = np.zeros((3, 2), dtype=np.float32)
    assert cache.lookup([a, b, c], out) == [1]
    assert out[0].tolist() == [1, 0] and out[2].tolist() == pytest.approx([0.6, 0.8])
    assert len(cache) == 2 and (cache.hits, cache.misses) == (3, 1)
    assert ids_key([1, 2]) != ids_key([1, 2, 0]) and ids_key([1, 2]) == ids_key((1, 2))


def test_an_empty_cache_keeps_nothing():
    cache = VectorCache(capacity=0, dimension=2)
    key = ids_key([1])
    cache.store([key], np.ones((1, 2), dtype=np.float32))
    assert cache.lookup([key], np.zeros((1, 2), dtype=np.float32)) == [0]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx")
    SentenceTransformerEmbedder(onnx_cache_dir=path)  # exports the encoder once for this module
    return path


def test_a_case_changed_repeat_gets_the_vector_the_model_gives_it(onnx_dir):
    """all-MiniLM-L6-v2 lower-cases: the repeat is the same model input, so the cached vector is exactly
    the one the uncached encoder computes for the repeat itself."""
    plain = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir)
    cached = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir, cache_items=100)
    first = cached.embed(TEXTS)
    np.testing.assert_array_equal(first, plain.embed(TEXTS))
    repeats = [text.upper() for text in TEXTS[:2]] + [text.lower() for text in TEXTS[2:]]
    again = cached.embed(repeats)
    cache = cached._onnx.cache
    assert (cache.hits, cache.misses) == (4, 4)
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(again, plain.embed(repeats))


def test_a_mixed_batch_matches_the_uncached_encoder(onnx_dir):
    """Hits, misses and texts repeated within one call: each vector is the uncached one (well inside the
    1e-5 the project allows between ONNX Runtime and torch), and a repeat within the call is run once."""
    plain = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir)
    cached = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir, cache_items=3)
    cached.embed(TEXTS[:2])
    mixed = [
        TEXTS[3],
        TEXTS[0].lower(),
        "Summarise the plot of a famous novel in two sentences.",
        TEXTS[3].upper(),
        TEXTS[2],
        "",
    ]
    vectors = cached.embed(mixed)
    np.testing.assert_allclose(vectors, plain.embed(mixed), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[3])
    cache = cached._onnx.cache
    assert (cache.hits, cache.misses) == (2, 6) and len(cache) == 3  # TEXTS[0], TEXTS[3] twice; 3 kept
    assert cached.embed(mixed[-1:]).shape == (1, 384)  # the newest entries stay
    assert cache.hits == 3
