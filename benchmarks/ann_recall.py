"""Exact flat scan vs HNSW for the embedding novelty gate and similarity search, on real embeddings.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ann_recall`` (embeddings are computed once and
cached by ``benchmarks.corpus.load_corpus_embeddings``; after that the script takes a few minutes).

Pool: the first N all-MiniLM-L6-v2 embeddings of the benchmark corpus, N in 1K … 100K. Queries: 1,000
held-out embeddings from beyond index 100K (texts that are not in any pool). For each size it prints, side
by side from the same run, the exact ``IndexFlatIP`` (the competitor: what the service used before) and
``VectorIndex`` in HNSW mode with its default parameters:

* build time (flat: copy; HNSW: graph build from scratch with one ``add_many``),
* single-query latency (k=10, one ``search`` call per query, p50 / p99 in ms),
* batched throughput (batches of 32 queries, queries per second),
* HNSW recall@10 and recall@1 against the exact scan, and how often the novelty gate (max cosine >
  threshold) decides the same way,

then the switch point (the smallest measured size from which HNSW, with recall@10 >= 0.99, is faster than
the flat scan for single queries, at every larger measured size too), an efSearch sweep at 100K, and the
restart path at 100K: one-shot build, save, load, file size.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.corpus import load_corpus_embeddings
from filters.chain import ChainConfig
from filters.index import (
    DEFAULT_ANN_MIN_SIZE,
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_HNSW_M,
    VectorIndex,
)

SIZES = (1_000, 5_000, 10_000, 20_000, 50_000, 100_000)
QUERY_START = 100_000
QUERIES = 1_000
K = 10
BATCH = 32
RECALL_TARGET = 0.99


def single_latencies(index: VectorIndex, queries: np.ndarray) -> np.ndarray:
    """Milliseconds per single-query ``search`` call (after a few warm-up calls)."""
    for row in queries[:20]:
        index.search(row, K)
    out = np.empty(len(queries))
    for i, row in enumerate(queries):
        started = time.perf_counter()
        index.search(row, K)
        out[i] = time.perf_counter() - started
    return out * 1000


def batched_qps(index: VectorIndex, queries: np.ndarray) -> float:
    index.search(queries[:BATCH], K)
    started = time.perf_counter()
    for start in range(0, len(queries), BATCH):
        index.search(queries[start : start + BATCH], K)
    return len(queries) / (time.perf_counter() - started)


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth))


def main() -> None:
    wall = time.perf_counter()
    vectors = load_corpus_embeddings()
    if len(vectors) < QUERY_START + QUERIES:
        raise SystemExit(f"need {QUERY_START + QUERIES} embeddings, the corpus has {len(vectors)}")
    queries = vectors[QUERY_START : QUERY_START + QUERIES]
    threshold = ChainConfig().embedding_threshold
    print(
        f"{len(vectors)} real MiniLM embeddings ({vectors.shape[1]}-d); {QUERIES} held-out queries; k={K}; "
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads (faiss default) "
        f"on {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}"
    )
    print(
        f"HNSW: M={DEFAULT_HNSW_M} efConstruction={DEFAULT_EF_CONSTRUCTION} efSearch={DEFAULT_EF_SEARCH}; "
        f"gate threshold (cosine) {threshold}"
    )
    header = (
        f"{'pool':>7} | {'build s':>7} {'p50 ms':>7} {'p99 ms':>7} {'q/s@32':>8} | "
        f"{'build s':>7} {'p50 ms':>7} {'p99 ms':>7} {'q/s@32':>8} | {'R@10':>6} {'R@1':>6} {'gate=':>6}"
    )
    print(f"{'':>7} | {'exact flat (IndexFlatIP)':^32} | {'HNSW (VectorIndex default)':^32} |")
    print(header)
    print("-" * len(header))
    rows = []
    hnsw = None
    for size in SIZES:
        pool, ids = vectors[:size], np.arange(size, dtype=np.int64)
        flat = VectorIndex(vectors.shape[1], ann_min_size=None)
        started = time.perf_counter()
        flat.add_many(ids, pool)
        flat_build = time.perf_counter() - started
        hnsw = VectorIndex(vectors.shape[1], ann_min_size=0)
        started = time.perf_counter()
        hnsw.add_many(ids, pool)
        hnsw_build = time.perf_counter() - started
        assert flat.kind == "flat" and hnsw.kind == "hnsw"

        flat_lat, hnsw_lat = single_latencies(flat, queries), single_latencies(hnsw, queries)
        flat_qps, hnsw_qps = batched_qps(flat, queries), batched_qps(hnsw, queries)
        exact_scores, exact_ids = flat.search(queries, K)
        approx_scores, approx_ids = hnsw.search(queries, K)
        r10, r1 = recall(approx_ids, exact_ids, K), recall(approx_ids, exact_ids, 1)
        gate = np.mean((exact_scores[:, 0] > threshold) == (approx_scores[:, 0] > threshold))
        rows.append((size, np.median(flat_lat), np.median(hnsw_lat), r10))
        print(
            f"{size:>7} | {flat_build:>7.3f} {np.median(flat_lat):>7.3f} {np.percentile(flat_lat, 99):>7.3f} "
            f"{flat_qps:>8.0f} | {hnsw_build:>7.2f} {np.median(hnsw_lat):>7.3f} "
            f"{np.percentile(hnsw_lat, 99):>7.3f} {hnsw_qps:>8.0f} | {r10:>6.4f} {r1:>6.3f} {gate:>6.3f}",
            flush=True,
        )
    switch = None
    for i, (size, *_rest) in enumerate(rows):
        if all(h < f and r >= RECALL_TARGET for _, f, h, r in rows[i:]):
            switch = size
            break
    print(
        f"\nswitch point (smallest measured size from which HNSW p50 < flat p50 and R@10 >= {RECALL_TARGET}, "
        f"at every larger size too): {switch}; filters.index.DEFAULT_ANN_MIN_SIZE = {DEFAULT_ANN_MIN_SIZE}"
    )

    # efSearch sweep on the 100K graph (search only, no rebuild).
    assert hnsw is not None
    _, exact_ids = flat.search(queries, K)
    print(f"\nefSearch sweep at {SIZES[-1]} (same graph): efSearch  R@10    R@1   p50 ms")
    for ef in (16, 32, 48, 64, 96, 128, 192, 256):
        hnsw.ef_search = ef
        _, approx_ids = hnsw.search(queries, K)
        lat = single_latencies(hnsw, queries[:300])
        mark = " <- default" if ef == DEFAULT_EF_SEARCH else ""
        print(
            f"{'':>46}{ef:>6} {recall(approx_ids, exact_ids, K):>7.4f} "
            f"{recall(approx_ids, exact_ids, 1):>6.3f} {np.median(lat):>7.3f}{mark}"
        )
    hnsw.ef_search = DEFAULT_EF_SEARCH

    # Restart path at 100K: save, load, file size; and what a rebuild costs instead.
    with tempfile.TemporaryDirectory() as folder:
        print(f"\nrestart path at {len(hnsw)} vectors:")
        for index in (flat, hnsw):
            path = Path(folder) / f"{index.kind}.faiss"
            started = time.perf_counter()
            index.save(path)
            save_s = time.perf_counter() - started
            started = time.perf_counter()
            loaded = VectorIndex.load(path)
            load_s = time.perf_counter() - started
            assert loaded.kind == index.kind and loaded.max_id == index.max_id == len(index) - 1
            same = np.array_equal(loaded.search(queries[:100], K)[1], index.search(queries[:100], K)[1])
            print(
                f"  {index.kind:>5}: save {save_s:.2f}s, load {load_s:.2f}s, file "
                f"{path.stat().st_size / 2**20:.0f} MiB, same results after load: {same}"
            )
        print(f"  (HNSW build from scratch at {SIZES[-1]} above: {hnsw_build:.1f}s)")
    print(f"\nload average at end {os.getloadavg()[0]:.1f}; total {time.perf_counter() - wall:.0f}s")


if __name__ == "__main__":
    main()
