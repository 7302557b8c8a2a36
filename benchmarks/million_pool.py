"""The embedding gate over a 1,000,000-item pool: decisions against brute force, latency, memory, restart.

How the vectors were made (embedding 1M texts on this 2-core CPU would take hours): the first 20,000 texts
of benchmarks/corpus.py embedded by all-MiniLM-L6-v2 (``load_corpus_embeddings(20000)``, ONNX Runtime, as
the service embeds) are the *real* vectors; every other pool vector is a synthetic near-duplicate of one of
them, ``normalize(v + σ·g/√d)`` with ``g`` standard normal, ``d`` = 384 and ``σ`` uniform in [0.2, 1.0]
(cosine to its original ≈ 1/√(1+σ²): 0.98 … 0.71, both sides of the 0.85 threshold), numpy seed 0. Queries
are fresh near-duplicates of random real vectors made the same way (seed 1), so about half are over the
threshold. These are not embeddings of texts: they stand in for a pool of real texts and perturbations,
with the same dimension, norm and clustered neighbourhoods. No texts, ROUGE index or database here: this is
the vector part of the pool only (``VectorIndex`` as a pool holds it: float16 codes, HNSW M=32,
efSearch=128, float32 vectors in a file, exact re-scoring).

Prints: graph build time; the gate's decisions (max cosine > 0.85), max cosine and neighbour against the
exact float32 brute force (``IndexFlatIP``, one query at a time on one thread, as the service runs a
single query: faiss's multi-threaded scan of one query over more than ~10K vectors rounds the last bit
differently) on a sample; single-query p50/p99; the
process's resident memory and the index's bytes per item; save, and load as a restart does (ready: the
load's time, then one query); the search side of ``/similar`` (k=10) at 100 queries/s, open loop (the
query's embedding, ~10 ms on this CPU, is not included).

    python benchmarks/million_pool.py [--items 1000000] [--sample 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import load_corpus_embeddings  # noqa: E402
from benchmarks.million_timing import memory  # noqa: E402
from filters.exact_vectors import ExactVectors  # noqa: E402
from filters.index import VectorIndex  # noqa: E402
from filters.stages.base import DEFAULT_EMBEDDING_THRESHOLD as THRESHOLD  # noqa: E402

REAL = 20_000


def near_duplicates(real: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = real[rng.integers(0, len(real), count)]
    sigma = rng.uniform(0.2, 1.0, size=(count, 1)).astype(np.float32)
    noisy = picked + sigma * rng.standard_normal(picked.shape, dtype=np.float32) / np.float32(np.sqrt(384))
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def rss_mib() -> float:
    return memory(os.getpid())[0]


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300, help="queries checked against brute force")
    args = parser.parse_args()
    wall = time.perf_counter()
    real = load_corpus_embeddings(REAL)
    pool = np.concatenate([real, near_duplicates(real, args.items - REAL, seed=0)])
    queries = near_duplicates(real, max(args.sample, 2000), seed=1)
    print(
        f"{len(pool)} pool vectors ({REAL} real MiniLM embeddings + synthetic near-duplicates, see the doc)"
    )
    print(f"resident memory with the float32 vectors generated: {rss_mib():.0f} MiB")

    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks" / ".cache") as folder:
        exact = ExactVectors(pool.shape[1], tail_dir=Path(folder))
        index = VectorIndex(pool.shape[1], exact=exact, codec="fp16")
        started = time.perf_counter()
        index.add_many(np.arange(1, len(pool) + 1), pool)  # the graph built in one parallel add
        build_s = time.perf_counter() - started
        assert index.kind == "hnsw"
        print(f"HNSW graph (float16) of {len(index)} vectors built in {build_s:.0f}s")

        brute = faiss.IndexFlatIP(pool.shape[1])
        brute.add(pool)
        sample = queries[: args.sample]
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # the one-thread kernel the gate's single queries use (see the doc)
        same_decision = same_score = same_neighbour = over = 0
        for query in sample:
            scores, positions = brute.search(query[None], 1)
            exact_score, exact_id = float(scores[0, 0]), int(positions[0, 0]) + 1
            score, item = index.nearest(query)
            same_decision += (score > THRESHOLD) == (exact_score > THRESHOLD)
            same_score += score == exact_score
            same_neighbour += item == exact_id
            over += exact_score > THRESHOLD
        faiss.omp_set_num_threads(threads)
        del brute
        print(
            f"gate on {len(sample)} queries ({over} over {THRESHOLD}) against the float32 brute force: "
            f"identical decisions {same_decision}/{len(sample)}, bitwise identical max cosine "
            f"{same_score}, identical neighbour {same_neighbour}"
        )
        pool_bytes = pool.nbytes
        del pool
        latencies = []
        for query in queries:
            started = time.perf_counter()
            index.nearest(query)
            latencies.append((time.perf_counter() - started) * 1000)
        p50, p99 = percentiles(latencies)
        faiss_bytes = len(faiss.serialize_index(index._index)) + 8 * len(index)
        print(f"gate single query (k=1): p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        print(
            f"resident memory holding the index (float32 copy freed): {rss_mib():.0f} MiB; index "
            f"{faiss_bytes / len(index):.0f} B/item in memory + {pool_bytes / len(index):.0f} B/item on disk"
        )

        path = Path(folder) / "pool.faiss"
        started = time.perf_counter()
        index.save(path)
        save_s = time.perf_counter() - started
        del index
        started = time.perf_counter()
        loaded = VectorIndex.load(path)
        loaded.nearest(queries[0])
        ready_s = time.perf_counter() - started
        print(
            f"restart: save {save_s:.1f}s ({path.stat().st_size / 2**20:.0f} MiB + "
            f"{(Path(str(path) + '.f32')).stat().st_size / 2**20:.0f} MiB of float32); load + first "
            f"query {ready_s:.1f}s"
        )

        interval, late = 1 / 100, []
        start = time.perf_counter()
        for i, query in enumerate(queries[:1000]):
            due = start + i * interval
            while time.perf_counter() < due:
                time.sleep(max(0.0, due - time.perf_counter()))
            loaded.search(query, 10)
            late.append((time.perf_counter() - due) * 1000)  # from when it was due: queueing included
        p50, p99 = percentiles(late)
        print(
            f"/similar search (k=10) at 100 queries/s, open loop, embedding excluded: p50 {p50:.3f} ms, "
            f"p99 {p99:.3f} ms"
        )
    print(f"load average {os.getloadavg()[0]:.1f}; total {time.perf_counter() - wall:.0f}s")


if __name__ == "__main__":
    main()
