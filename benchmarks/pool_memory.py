"""Memory per pool item: the ROUGE-L index and the exact-duplicate keys (target: ≤ 2 KB together), the
texts and origins the pool keeps, and the FAISS vectors, for N real texts of benchmarks/corpus.py.

Each part is built alone from the same texts and measured with ``tracemalloc`` (the bytes Python
allocated for it and still holds, numpy buffers included); the FAISS index lives outside Python's
allocator and is counted from its serialized form (what it holds): before, an ``IndexIDMap2(IndexFlatIP)``
of float32 vectors (its reverse id map, ~40 B/item more, not counted); now, by default, float16 codes and an
int64 id per item (``VectorIndex(codec="fp16")``, the float32 vectors kept on disk for exact re-scoring).
Its size does not depend on the vectors' values, so random unit vectors stand in for embeddings here.

    python benchmarks/pool_memory.py [--items 20000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.corpus import load_corpus  # noqa: E402
from filters.index import VectorIndex  # noqa: E402
from filters.novelty_pool import normalize_for_exact  # noqa: E402
from filters.rouge import RougeNoveltyIndex  # noqa: E402

EMBEDDING_DIMENSION = 384  # MiniLM-L6-v2, the default embedder


def held_bytes(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated once ``build()`` returned (what keeping its result costs)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    options = parser.parse_args()
    texts = load_corpus(options.items)[: options.items]
    tokens = [RougeNoveltyIndex.tokenize(text) for text in texts]
    ids = list(range(1, len(texts) + 1))

    def rouge_index() -> RougeNoveltyIndex:
        index = RougeNoveltyIndex()
        index.add_many(zip(ids, tokens, strict=True))
        return index

    def rouge_index_one_by_one() -> RougeNoveltyIndex:  # as accepted candidates join a running pool
        index = RougeNoveltyIndex()
        for item_id, item_tokens in zip(ids, tokens, strict=True):
            index.add(item_id, item_tokens)
        return index

    def exact_keys() -> dict[str, int]:
        keys: dict[str, int] = {}
        for item_id, text in zip(ids, texts, strict=True):
            keys.setdefault(normalize_for_exact(text), item_id)
        return keys

    def texts_and_origins() -> tuple[dict[int, str], dict[int, str]]:
        copies = (t.encode().decode() for t in texts)  # the pool's own strings, not the corpus's
        return dict(zip(ids, copies, strict=True)), dict.fromkeys(ids, "generated")

    n = len(texts)
    rouge, _ = held_bytes(rouge_index)
    grown, _ = held_bytes(rouge_index_one_by_one)
    exact, _ = held_bytes(exact_keys)
    kept, _ = held_bytes(texts_and_origins)
    unit = np.random.default_rng(0).normal(size=(n, EMBEDDING_DIMENSION)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    before = faiss.IndexIDMap2(faiss.IndexFlatIP(EMBEDDING_DIMENSION))
    before.add_with_ids(unit, np.arange(n, dtype=np.int64))
    old_vectors = len(faiss.serialize_index(before))
    now = VectorIndex(EMBEDDING_DIMENSION, ann_min_size=None)
    now.add_many(np.arange(n), unit)
    new_vectors = len(faiss.serialize_index(now._index)) + 8 * n
    words = sum(len(t.split()) for t in texts) / n
    print(
        f"{n} real texts, {words:.1f} words and {sum(map(len, tokens)) / n:.1f} ROUGE tokens each on average"
    )
    print(f"{'part':<40}{'bytes/item':>12}")
    for label, size in (
        ("ROUGE-L index (loaded in bulk)", rouge),
        ("ROUGE-L index (grown one by one)", grown),
        ("exact-duplicate keys", exact),
        ("ROUGE-L index + exact keys (target 2048)", max(rouge, grown) + exact),
        ("texts and origins", kept),
        ("FAISS vectors before (flat float32)", old_vectors),
        ("FAISS vectors now (flat float16 + ids)", new_vectors),
    ):
        print(f"{label:<40}{size / n:>12.0f}")
    print(f"FAISS vectors before / now: {old_vectors / new_vectors:.2f}x (and 1,536 B/item on disk now)")


if __name__ == "__main__":
    main()
