"""The novelty check with the FAISS search started ahead (overlapping ROUGE-L) vs in turn, by pool size.

For each size the pool of ``benchmarks/million_texts.py`` (corpus texts with their real MiniLM vectors and
seeded perturbations with synthetic near-duplicate vectors; a tenth of the items are corpus texts) is built
in this process with the pool's own classes (``VectorIndex`` HNSW as a service holds it, ``NoveltyPool``),
and 1,000 candidates (half near-duplicates of pool texts, half unseen texts, embedded by the service's
embedder) are decided with the chain ``exact,rouge,embedding``, each both ways (both at the gate's efSearch)
on the same pool state
(``benchmarks/million_timing.py``'s ``paired_decisions``), accepted ones joining the pool. Prints p50 / p95
per candidate both ways, their ratio and how many decisions agree: the measurement behind
``filters/stages/embedding.py``'s ``AHEAD_MIN_ITEMS``.

    python benchmarks/gate_ahead.py [--sizes 20000,100000,300000] [--candidates 1000]

(1,000,000 items: ``benchmarks/million_service.py`` prints the same pair for its stored pool.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.million_texts import DIMENSION, candidates, make_pool  # noqa: E402
from benchmarks.million_timing import embed, paired_decisions, percentile  # noqa: E402
from filters.exact_vectors import ExactVectors  # noqa: E402
from filters.index import VectorIndex  # noqa: E402
from filters.novelty_pool import NoveltyPool  # noqa: E402
from filters.stages.embedding import AHEAD_MIN_ITEMS, GATE_EF_SEARCH  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000,300000")
    parser.add_argument("--candidates", type=int, default=1000)
    args = parser.parse_args()
    print(f"the service starts the search ahead from {AHEAD_MIN_ITEMS} pool items")
    header = f"{'pool':>9} | {'ahead p50':>9} {'p95':>7} | {'in turn p50':>11} {'p95':>7} | in turn/ahead"
    print(f"{header} | same")
    for size in (int(part) for part in args.sizes.split(",")):
        texts, vectors, bases, held_out = make_pool(size)
        sample = candidates(bases, held_out, args.candidates, seed=1)
        sample_vectors = embed(sample)
        with tempfile.TemporaryDirectory() as folder:
            index = VectorIndex(DIMENSION, exact=ExactVectors(DIMENSION, tail_dir=Path(folder)))
            index.add_many(np.arange(1, size + 1), vectors)
            pool = NoveltyPool(vectors=index, vectors_dir=Path(folder))
            pool.add_many(list(range(1, size + 1)), ["seed"] * size, texts)
            chain = "exact,rouge,embedding"
            paired = paired_decisions(pool, sample, sample_vectors, chain, size + 1, GATE_EF_SEARCH)
            del pool, index
        ahead, in_turn = percentile(paired.ahead, 50), percentile(paired.in_turn, 50)
        print(
            f"{size:>9} | {ahead:>7.3f}ms {percentile(paired.ahead, 95):>5.3f}ms | {in_turn:>9.3f}ms "
            f"{percentile(paired.in_turn, 95):>5.3f}ms | {in_turn / ahead:>12.2f}x | "
            f"{paired.same_record}/{len(sample)}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
