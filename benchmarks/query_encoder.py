"""Query embedding cost: batches padded to their longest text against length-aware chunks.

The text encoder (``filters.onnx_encoder``, MiniLM under ONNX Runtime, one thread as in the service)
embeds held-out corpus texts in batches of 1, 4, 8 and 16 — the batches ``/similar`` forms under load.
"padded" runs each batch as one model call padded to its longest text (how a plain batched encoder
works); "chunked" is ours: texts of similar token length together, the others alone. Both give the
same vectors (checked here); the table is milliseconds per query.

    python benchmarks/query_encoder.py [--queries 320]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import filters.onnx_encoder as onnx_encoder  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from benchmarks.corpus import load_corpus  # noqa: E402
from filters.embedding import SentenceTransformerEmbedder  # noqa: E402

BATCHES = (1, 4, 8, 16)


def padded_chunks(lengths: np.ndarray, batch_size: int, slack: float = 0.1) -> list[tuple[int, int]]:
    """Every batch as one chunk, whatever the lengths (the plain batched encoder)."""
    return [(start, min(start + batch_size, len(lengths))) for start in range(0, len(lengths), batch_size)]


def per_query_ms(
    embedder: SentenceTransformerEmbedder, texts: list[str], batch: int
) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = [embedder.embed_queries(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    return (time.perf_counter() - started) / len(texts) * 1e3, np.concatenate(vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=320)
    args = parser.parse_args()
    texts = load_corpus()[-args.queries :]
    embedder = SentenceTransformerEmbedder(onnx_cache_dir=Settings().onnx_cache_dir, threads=1)
    if getattr(embedder, "_onnx", None) is None:
        raise SystemExit("ONNX Runtime is not in use (SI_ONNX_CACHE_DIR unset?)")
    embedder.embed_queries(texts[:16])  # warm up
    ours = onnx_encoder.length_chunks
    print(f"{len(texts)} held-out corpus texts, MiniLM on ONNX Runtime, 1 thread; ms per query")
    print(f"{'batch':>6} {'padded':>8} {'chunked':>8} {'ratio':>6} {'max |diff|':>11}")
    for batch in BATCHES:
        onnx_encoder.length_chunks = padded_chunks
        padded_ms, padded_vectors = per_query_ms(embedder, texts, batch)
        onnx_encoder.length_chunks = ours
        chunked_ms, chunked_vectors = per_query_ms(embedder, texts, batch)
        diff = float(np.abs(padded_vectors - chunked_vectors).max())
        print(
            f"{batch:>6} {padded_ms:>8.2f} {chunked_ms:>8.2f} {padded_ms / chunked_ms:>5.2f}x {diff:>11.1e}"
        )


if __name__ == "__main__":
    main()
