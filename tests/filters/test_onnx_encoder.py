"""ONNX Runtime gives the sentence-transformers vectors, and the export is cached and reused."""

from __future__ import annotations

import numpy as np

from filters.embedding import SentenceTransformerEmbedder

TEXTS = [
    "Give three tips for staying healthy.",
    "Translate the sentence into French.",
    "Explain how a bill becomes a law in a parliamentary democracy, step by step, for a civics class.",
    "Write a haiku about autumn leaves.",
    "",
]


def test_onnx_vectors_equal_torch_vectors_and_the_export_is_reused(tmp_path, real_embedder):
    onnx = SentenceTransformerEmbedder(onnx_cache_dir=tmp_path)
    exported = list(tmp_path.glob("*.onnx"))
    assert len(exported) == 1
    torch_vectors = real_embedder.embed(TEXTS)
    for batch_size in (1, 2, 64):  # padding and length sorting must not change a vector
        onnx.batch_size = batch_size
        vectors = onnx.embed(TEXTS)
        assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(vectors, torch_vectors, atol=1e-5)
    np.testing.assert_allclose(onnx.embed_queries(TEXTS[:2]), torch_vectors[:2], atol=1e-5)
    mtime = exported[0].stat().st_mtime_ns
    again = SentenceTransformerEmbedder(onnx_cache_dir=tmp_path)
    assert again.embed(TEXTS[:1]).shape == (1, 384)
    assert exported[0].stat().st_mtime_ns == mtime and len(list(tmp_path.glob("*.onnx"))) == 1
