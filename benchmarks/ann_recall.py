"""Exact flat scan vs HNSW for the embedding novelty gate and similarity search, on real embeddings.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ann_recall`` (embeddings are computed once and
cached by ``benchmarks.corpus.load_corpus_embeddings``; after that the script takes a few minutes).

Pool: the first N all-MiniLM-L6-v2 embeddings of the benchmark corpus, N in 1K … 100K. Queries: 1,000
held-out embeddings from beyond index 100K (texts that are not in any pool). For each size it prints, side
by side from the same run, the competitor — the bare faiss ``IndexIDMap2(IndexFlatIP)`` searched as the
service searched it before (faiss's default OpenMP threads even for one query) — and ``VectorIndex`` in
flat (exact) and HNSW mode with its default parameters:

* build time (flat: copy; HNSW: graph build from scratch with one ``add_many``),
* single-query latency (k=10, one ``search`` call per query, p50 / p99 in ms),
* batched throughput (batches of 32 queries, queries per second),
* HNSW recall@10 and recall@1 against the exact scan, and how often the novelty gate (max cosine >
  threshold) decides the same way,

then the switch point (the smallest measured size from which HNSW, with recall@10 >= 0.99, is faster than
the flat scan for single queries, at every larger measured size too), an efSearch sweep at 100K, and the
restart path at 100K: one-shot build, save, load, file size. ``--busy`` keeps one core spinning meanwhile,
as a service that is also embedding or generating would (this machine has 2 cores).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
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
from filters.stages.embedding import GATE_EF_SEARCH

SIZES = (1_000, 5_000, 10_000, 20_000, 50_000, 100_000)
QUERY_START = 100_000
QUERIES = 1_000
K = 10
BATCH = 32
RECALL_TARGET = 0.99


def single_latencies(search, queries: np.ndarray) -> np.ndarray:
    """Milliseconds per single-query ``search(row)`` call (after a few warm-up calls)."""
    for row in queries[:20]:
        search(row)
    out = np.empty(len(queries))
    for i, row in enumerate(queries):
        started = time.perf_counter()
        search(row)
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


def switch_point(rows: list[dict], flat_key: str) -> int | None:
    """Smallest size from which HNSW is faster than ``flat_key`` (p50) with enough recall, at every larger
    measured size too."""
    for i, row in enumerate(rows):
        if all(r["hnsw_p50"] < r[flat_key] and r["r10"] >= RECALL_TARGET for r in rows[i:]):
            return row["size"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busy", action="store_true", help="keep one core busy (a loaded service) meanwhile")
    args = parser.parse_args()
    wall = time.perf_counter()
    vectors = load_corpus_embeddings()
    if len(vectors) < QUERY_START + QUERIES:
        raise SystemExit(f"need {QUERY_START + QUERIES} embeddings, the corpus has {len(vectors)}")
    queries = vectors[QUERY_START : QUERY_START + QUERIES]
    dim = vectors.shape[1]
    threshold = next(f.default for f in dataclasses.fields(ChainConfig) if f.name == "embedding_threshold")
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    print(
        f"{len(vectors)} real MiniLM embeddings ({dim}-d); {QUERIES} held-out queries; k={K}; "
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads (faiss default) on "
        f"{os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}"
        + ("; one core kept busy by a spinning process (--busy)" if burner else "")
    )
    print(
        f"HNSW: M={DEFAULT_HNSW_M} efConstruction={DEFAULT_EF_CONSTRUCTION} efSearch={DEFAULT_EF_SEARCH}; "
        f"novelty gate threshold (cosine) {threshold}\n"
        "p50/p99: single-query latency in ms; q/s@32: batched throughput; 'before' = the bare faiss flat "
        "index as the service searched it\n(faiss's default threads even for one query; VectorIndex runs one "
        "query on one thread); R@10/R@1: recall against the exact scan;\ngate=: share of queries whose gate "
        "decision (max cosine > threshold) is the same; dups: queries whose exact max cosine is over it"
    )
    print(
        f"{'':>7} | {'before':^15} | {'VectorIndex flat (exact)':^32} | {'VectorIndex HNSW (default)':^32} |"
        f" {'HNSW vs exact':^27}"
    )
    columns = "build s  p50 ms  p99 ms   q/s@32"
    header = f"{'pool':>7} |  p50 ms  p99 ms | {columns} | {columns} |   R@10    R@1  gate=  dups"
    print(header)
    print("-" * len(header))
    rows: list[dict] = []
    try:
        for size in SIZES:
            pool, ids = vectors[:size], np.arange(size, dtype=np.int64)
            flat = VectorIndex(dim, ann_min_size=None)
            started = time.perf_counter()
            flat.add_many(ids, pool)
            flat_build = time.perf_counter() - started
            hnsw = VectorIndex(dim, ann_min_size=0)
            started = time.perf_counter()
            hnsw.add_many(ids, pool)
            hnsw_build = time.perf_counter() - started
            assert flat.kind == "flat" and hnsw.kind == "hnsw"

            raw = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))  # as the service searched it before
            raw.add_with_ids(pool, ids)
            before = single_latencies(lambda row, raw=raw: raw.search(row.reshape(1, -1), K), queries)
            flat_lat = single_latencies(lambda row, index=flat: index.search(row, K), queries)
            hnsw_lat = single_latencies(lambda row, index=hnsw: index.search(row, K), queries)
            flat_qps, hnsw_qps = batched_qps(flat, queries), batched_qps(hnsw, queries)
            exact_scores, exact_ids = flat.search(queries, K)
            approx_scores, approx_ids = hnsw.search(queries, K)
            row = {
                "size": size,
                "before_p50": np.median(before),
                "flat_p50": np.median(flat_lat),
                "hnsw_p50": np.median(hnsw_lat),
                "r10": recall(approx_ids, exact_ids, K),
            }
            rows.append(row)
            r1 = recall(approx_ids, exact_ids, 1)
            gate = np.mean((exact_scores[:, 0] > threshold) == (approx_scores[:, 0] > threshold))
            dups = int(np.sum(exact_scores[:, 0] > threshold))
            print(
                f"{size:>7} | {row['before_p50']:>7.3f} {np.percentile(before, 99):>7.3f} | "
                f"{flat_build:>7.3f} {row['flat_p50']:>7.3f} {np.percentile(flat_lat, 99):>7.3f} "
                f"{flat_qps:>8.0f} | {hnsw_build:>7.2f} {row['hnsw_p50']:>7.3f} "
                f"{np.percentile(hnsw_lat, 99):>7.3f} {hnsw_qps:>8.0f} | "
                f"{row['r10']:>6.4f} {r1:>6.3f} {gate:>6.3f} {dups:>5}",
                flush=True,
            )
    finally:
        if burner:
            burner.kill()
            burner.wait()
    print(
        f"\nswitch point (smallest measured size from which HNSW p50 < exact flat p50 with R@10 >= "
        f"{RECALL_TARGET}, at every larger size too): {switch_point(rows, 'flat_p50')} "
        f"(against 'before': {switch_point(rows, 'before_p50')}); "
        f"filters.index.DEFAULT_ANN_MIN_SIZE = {DEFAULT_ANN_MIN_SIZE}"
    )

    # efSearch sweep on the 100K graph (search only, no rebuild).
    print(
        f"\nefSearch sweep at {SIZES[-1]} (same graph; gate=: the gate's decision as the exact scan's, "
        f"max=: the same max cosine):\n  efSearch    R@10     R@1  gate=   max=  p50 ms"
    )
    for ef in (16, 32, 48, 64, 96, 128, 192, 256):
        hnsw.ef_search = ef
        approx_scores, approx_ids = hnsw.search(queries, K)
        lat = single_latencies(lambda row, index=hnsw: index.search(row, K), queries[:300])
        gate = np.mean((exact_scores[:, 0] > threshold) == (approx_scores[:, 0] > threshold))
        same_max = np.mean(exact_scores[:, 0] == approx_scores[:, 0])
        mark = "  <- default" if ef == DEFAULT_EF_SEARCH else ""
        mark += "  <- the embedding gate's" if ef == GATE_EF_SEARCH else ""
        print(
            f"  {ef:>8} {recall(approx_ids, exact_ids, K):>7.4f} {recall(approx_ids, exact_ids, 1):>7.3f} "
            f"{gate:>6.3f} {same_max:>6.3f} {np.median(lat):>7.3f}{mark}"
        )
    hnsw.ef_search = DEFAULT_EF_SEARCH

    # Restart path at 100K: save, load, file size, against rebuilding the graph.
    with tempfile.TemporaryDirectory() as folder:
        print(f"\nrestart path at {len(hnsw)} vectors (HNSW build from scratch above: {hnsw_build:.1f}s):")
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
    print(f"\nload average at end {os.getloadavg()[0]:.1f}; total {time.perf_counter() - wall:.0f}s")


if __name__ == "__main__":
    main()
