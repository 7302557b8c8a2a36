"""ONNX Runtime gives the sentence-transformers vectors, and the export is cached and reused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from filters.embedding import SentenceTransformerEmbedder, bundled_minilm_path
from filters.onnx_encoder import supported_layout

ROOT = Path(__file__).resolve().parents[2]

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


def test_a_cached_export_serves_without_torch(tmp_path, real_embedder):
    """A restart with the export cached reads the model's files and the export only: torch stays unloaded."""
    SentenceTransformerEmbedder(onnx_cache_dir=tmp_path)  # exports once
    script = (
        "import sys, json\n"
        "from filters.embedding import SentenceTransformerEmbedder\n"
        f"e = SentenceTransformerEmbedder(onnx_cache_dir={str(tmp_path)!r})\n"
        f"v = e.embed({TEXTS!r})\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'dim': e.dimension, 'v': v.tolist()}))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["torch"] is False
    assert result["dim"] == 384
    np.testing.assert_allclose(np.array(result["v"]), real_embedder.embed(TEXTS), atol=1e-5)


def test_layouts_the_file_reader_does_not_mirror_are_refused(tmp_path):
    model_dir = bundled_minilm_path()
    assert supported_layout(model_dir) == 256
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy, ignore=shutil.ignore_patterns("*.safetensors"))
    config = json.loads((copy / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (copy / "1_Pooling" / "config.json").write_text(json.dumps(config))
    assert supported_layout(copy) is None
    (copy / "modules.json").unlink()
    assert supported_layout(copy) is None


def test_length_chunks_cover_every_text_once_with_little_padding():
    from filters.onnx_encoder import length_chunks

    lengths = np.array([40, 39, 37, 36, 35, 20, 19, 18, 18, 18, 18, 5, 2])
    chunks = length_chunks(lengths, batch_size=3)
    assert chunks == [(0, 3), (3, 5), (5, 8), (8, 11), (11, 12), (12, 13)]
    for start, stop in chunks:
        assert stop - start <= 3
        assert all(lengths[i] >= 0.9 * lengths[start] for i in range(start, stop))
    assert length_chunks(np.array([], dtype=np.int64), 8) == []
    assert length_chunks(np.full(20, 7), 64) == [(0, 20)]
