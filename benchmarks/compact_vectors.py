"""Float16 pool vectors re-scored exactly vs the float32 index they replace, on real texts.

Old: ``VectorIndex(codec="float32")`` (float32 vectors in memory; its flat index is a faiss ``IndexFlatIP``,
the exact brute force). New: the default ``codec="fp16"`` (float16 codes in memory, float32 vectors on
disk, the hits within the error bound re-scored, :mod:`filters.rescoring`). Both flat (exact) unless said.

1. The embedding gate in arrival order on the shipped seed sets (seed_tasks/ and ../shared/data) plus their
   perturbations (words dropped or swapped, Chinese characters changed, rewordings, exact repeats): each
   candidate is decided against the pool, accepted ones join it. Counts of identical decisions, bitwise
   identical max cosine and identical neighbour; the pools end identical.
2. The same gate with a pool of 18,000 real corpus texts (benchmarks/corpus.py; embeddings cached) and
   4,000 queries (2,000 perturbed pool texts, 2,000 held-out texts), and ``/similar``'s top 10 (ids and
   scores; each query searched alone, as the gate searches), with single-query latency p50, the hits
   re-scored per query and the bound ``E``.
3. Over an HNSW graph (both approximate): recall@1 against the exact scan and gate agreement.
4. Where the float32 vectors for re-scoring come from: ``pread`` from the vector file (the default)
   against reading the rows' stored embedding bytes from SQLite for the same ids, and a memory map.
5. Memory: faiss index bytes per item, old vs new (the serialized index, which is what it holds).

    python benchmarks/compact_vectors.py          # ~3 minutes on 2 cores once the embeddings are cached
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CACHE, load_corpus, load_corpus_embeddings  # noqa: E402
from benchmarks.embedding_threshold import reword  # noqa: E402
from benchmarks.novelty_gate import perturb, perturb_chinese  # noqa: E402
from filters.index import VectorIndex  # noqa: E402
from filters.stages.base import DEFAULT_EMBEDDING_THRESHOLD as THRESHOLD  # noqa: E402

CORPUS = 20_000
POOL = 18_000
K = 10


def seed_texts() -> list[str]:
    files = sorted((ROOT / "seed_tasks").glob("*.jsonl")) + sorted(
        (ROOT.parent / "shared" / "data").glob("*.jsonl")
    )
    texts = []
    for path in files:
        texts += [json.loads(line)["instruction"] for line in path.read_text().splitlines() if line.strip()]
    return texts


def embed_cached(texts: list[str]) -> np.ndarray:
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"texts-{key}.npy"
    if path.exists():
        return np.load(path)
    from filters.embedding import SentenceTransformerEmbedder

    vectors = SentenceTransformerEmbedder(threads=1).embed(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def variants(texts: list[str], rng: random.Random) -> list[str]:
    out = list(texts)
    for text in texts:
        latin = text.isascii()
        out.append(perturb(text, rng) if latin else perturb_chinese(text, rng))
        out.append(reword(text) if latin else perturb_chinese(text, rng))
    out += rng.sample(texts, len(texts) // 10)  # exact repeats
    rng.shuffle(out)
    return out


def gate_in_arrival_order(vectors: np.ndarray) -> tuple[int, int, int, int, int]:
    old, new = (VectorIndex(vectors.shape[1], ann_min_size=None, codec=c) for c in ("float32", "fp16"))
    same_decision = same_score = same_neighbour = rejected = 0
    for position, vector in enumerate(vectors):
        (old_score, old_id), (new_score, new_id) = old.nearest(vector), new.nearest(vector)
        old_reject = old_score is not None and old_score > THRESHOLD
        new_reject = new_score is not None and new_score > THRESHOLD
        same_decision += old_reject == new_reject
        same_score += old_score == new_score
        same_neighbour += old_id == new_id
        rejected += old_reject
        if not old_reject:
            old.add([position], vector)
        if not new_reject:
            new.add([position], vector)
    assert old.ids().tolist() == new.ids().tolist() or same_decision < len(vectors)
    return len(vectors), same_decision, same_score, same_neighbour, rejected


def one_by_one(index: VectorIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each query searched alone, as the gate and a lone ``/similar`` search it (faiss scores a batch of 20
    or more with BLAS, whose float32 sums round differently in the last bit)."""
    found = [index.search(row, k) for row in queries]
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def p50_ms(search, queries: np.ndarray) -> float:
    for row in queries[:20]:
        search(row)
    times = []
    for row in queries:
        started = time.perf_counter()
        search(row)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def count_rescored(index: VectorIndex, queries: np.ndarray, k: int) -> list[int]:
    """Hits re-scored per query (the ExactVectors reads), counted by wrapping ``read``."""
    counts: list[int] = []
    exact = index.exact_vectors
    assert exact is not None
    original = exact.read

    def counting(positions: np.ndarray) -> np.ndarray:
        counts.append(len(positions))
        return original(positions)

    exact.read = counting  # type: ignore[method-assign]
    try:
        for row in queries:
            index.search(row, k)
    finally:
        exact.read = original  # type: ignore[method-assign]
    return counts


def rescoring_sources(pool: np.ndarray, index: VectorIndex, queries: np.ndarray) -> None:
    candidates = []
    exact = index.exact_vectors
    assert exact is not None
    original = exact.read
    exact.read = lambda positions: (candidates.append(positions.copy()), original(positions))[1]  # type: ignore[method-assign]
    for row in queries:
        index.search(row, 1)
    exact.read = original  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(Path(folder) / "rows.db")
        db.execute("CREATE TABLE instruction (id INTEGER PRIMARY KEY, embedding BLOB)")
        db.executemany(
            "INSERT INTO instruction VALUES (?, ?)", ((i, v.tobytes()) for i, v in enumerate(pool))
        )
        db.commit()
        mapped_path = Path(folder) / "vectors.f32"
        pool.tofile(mapped_path)
        mapped = np.memmap(mapped_path, dtype=np.float32, mode="r", shape=pool.shape)

        def from_sqlite(positions: np.ndarray) -> np.ndarray:
            marks = ",".join("?" * len(positions))
            rows = db.execute(
                f"SELECT id, embedding FROM instruction WHERE id IN ({marks})", positions.tolist()
            )
            by_id = {i: blob for i, blob in rows}
            return np.frombuffer(b"".join(by_id[int(p)] for p in positions), dtype=np.float32)

        timings = {}
        for name, read in (
            ("pread from the vector file (default)", original),
            ("SQLite: the rows' stored embedding", from_sqlite),
            ("memory map of the vector file", lambda positions: np.array(mapped[np.sort(positions)])),
        ):
            started = time.perf_counter()
            for positions in candidates:
                read(positions)
            timings[name] = (time.perf_counter() - started) / len(candidates) * 1e6
        db.close()
    print(f"\n4. re-scoring reads ({len(candidates)} gate queries at {len(pool)} items, same ids each way):")
    base = timings["pread from the vector file (default)"]
    for name, micros in timings.items():
        print(f"  {name:<40} {micros:8.1f} µs per query  ({micros / base:.1f}x)")
    print(
        "  (pread and the map are served by the page cache; a map adds every page it touches to the "
        "process's RSS, pread adds none)"
    )


def main() -> None:
    wall = time.perf_counter()
    rng = random.Random(11)
    texts = seed_texts()
    candidates = variants(texts, rng)
    vectors = embed_cached(candidates)
    print(
        f"embedding gate at threshold {THRESHOLD}; old = float32 IndexFlatIP (exact brute force), "
        "new = float16 codes + exact re-scoring"
    )
    n, decision, score, neighbour, rejected = gate_in_arrival_order(vectors)
    print(
        f"\n1. shipped seed sets: {len(texts)} seeds -> {n} candidates in arrival order "
        f"({rejected} rejected by the gate):\n  identical decisions {decision}/{n}, bitwise identical max "
        f"cosine {score}/{n}, identical neighbour {neighbour}/{n}"
    )

    corpus = load_corpus(CORPUS)
    embedded = load_corpus_embeddings(CORPUS)
    pool = embedded[:POOL]
    perturbed = [perturb(corpus[i], rng) for i in rng.sample(range(POOL), 2000)]
    queries = np.concatenate([embed_cached(perturbed), embedded[POOL : POOL + 2000]])
    old = VectorIndex(pool.shape[1], ann_min_size=None, codec="float32")
    new = VectorIndex(pool.shape[1], ann_min_size=None, codec="fp16")
    old.add_many(np.arange(POOL), pool)
    new.add_many(np.arange(POOL), pool)
    old_scores, old_ids = one_by_one(old, queries, 1)  # the gate: nearest(), k=1
    new_scores, new_ids = one_by_one(new, queries, 1)
    gate_old, gate_new = old_scores[:, 0] > THRESHOLD, new_scores[:, 0] > THRESHOLD
    old_top, old_top_ids = one_by_one(old, queries, K)
    new_top, new_top_ids = one_by_one(new, queries, K)
    # faiss orders equal scores in a top k > 1 by its heap, the re-scoring by position: same set and scores
    tied_order = int(((old_top_ids != new_top_ids).any(axis=1) & (old_top == new_top).all(axis=1)).sum())
    rescored = count_rescored(new, queries, 1)
    rescored_k = count_rescored(new, queries[:500], K)
    print(
        f"\n2. pool of {POOL} real corpus texts, {len(queries)} queries ({int(gate_old.sum())} over the "
        f"threshold):\n  gate: identical decisions {int((gate_old == gate_new).sum())}/{len(queries)}, "
        f"bitwise identical max cosine {int((old_scores[:, 0] == new_scores[:, 0]).sum())}, identical "
        f"neighbour {int((old_ids[:, 0] == new_ids[:, 0]).sum())}\n  /similar top {K}: identical ids "
        f"{int((old_top_ids == new_top_ids).all(axis=1).sum())}/{len(queries)} ({tied_order} more where only "
        f"the order of equal scores differs), bitwise identical scores "
        f"{int((old_top == new_top).all(axis=1).sum())}/{len(queries)}\n  bound E = {new.error:.2e}; "
        f"hits re-scored per query: gate mean {np.mean(rescored):.1f} max {max(rescored)}, top-{K} mean "
        f"{np.mean(rescored_k):.1f} max {max(rescored_k)}\n  single-query p50 (gate, k=1): old "
        f"{p50_ms(lambda q: old.search(q, 1), queries[:1000]):.3f} ms, new "
        f"{p50_ms(lambda q: new.search(q, 1), queries[:1000]):.3f} ms"
    )

    graphs = {}
    for codec in ("float32", "fp16"):
        graph = VectorIndex(pool.shape[1], ann_min_size=0, codec=codec)
        graph.add_many(np.arange(POOL), pool)
        graphs[codec] = one_by_one(graph, queries, K)
    print(f"\n3. HNSW graph over the same {POOL} (approximate both; against the exact scan):")
    for codec, (scores, ids) in graphs.items():
        found = ids[:, 0] == old_top_ids[:, 0]
        print(
            f"  {codec:>7}: recall@1 {found.mean():.4f}, gate agreement "
            f"{np.mean((scores[:, 0] > THRESHOLD) == gate_old):.4f}, max cosine bitwise exact where the "
            f"neighbour is found {int((scores[found, 0] == old_top[found, 0]).sum())}/{int(found.sum())}"
        )

    rescoring_sources(pool, new, queries)

    print(
        "\n5. faiss memory per item (serialized index + 8 B of id; the old IndexIDMap2 also kept a reverse "
        "hash map of the ids, not counted, so the old figure is a lower bound):"
    )
    rows = []
    for label, codec, ann in (
        ("flat", "float32", None),
        ("flat", "fp16", None),
        ("HNSW", "float32", 0),
        ("HNSW", "fp16", 0),
    ):
        index = VectorIndex(pool.shape[1], ann_min_size=ann, codec=codec)
        index.add_many(np.arange(POOL), pool)
        per_item = (len(faiss.serialize_index(index._index)) + 8 * len(index)) / POOL
        rows.append(per_item)
        on_disk = "" if codec == "float32" else " + 1536 B/item on disk (float32 vectors)"
        print(f"  {label:>4} {codec:>7}: {per_item:7.0f} B/item resident{on_disk}")
    print(f"  old / new: flat {rows[0] / rows[1]:.2f}x, HNSW {rows[2] / rows[3]:.2f}x")
    print(f"\nload average {os.getloadavg()[0]:.1f}; total {time.perf_counter() - wall:.0f}s")


if __name__ == "__main__":
    main()
