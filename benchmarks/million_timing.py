"""The novelty check's time per candidate over a stored pool, in this process, with the pool's own classes.

``benchmarks/million_service.py`` uses it between two runs of the server: the index the server saved is
loaded (``VectorIndex.load``), the ROUGE-L index and exact keys are built from the stored texts
(``NoveltyPool.add_many``, as ``app/pipeline/pools.py`` builds a pool), and ``DecisionChain.decide`` is
timed for each candidate with its vector given (embedding excluded, tokenizing included), twice on the same
pool state — the FAISS search started ahead on a helper thread (as the service decides at this size) and in
turn after ROUGE-L (as before), alternating which goes first — and an accepted candidate joins the pool
before the next, as in the service.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filters.chain import DecisionChain
from filters.index import DEFAULT_EF_SEARCH, VectorIndex
from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig
from filters.stages.embedding import GATE_EF_SEARCH, EmbeddingStage


@dataclass(frozen=True)
class Timing:
    rules: list[str | None]  # each candidate's rule (None: accepted), in order
    summary: str


def embed(texts: list[str]) -> np.ndarray:
    """The texts' vectors from the embedder the service uses (ONNX export of all-MiniLM-L6-v2)."""
    from app.core.settings import Settings
    from filters.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(onnx_cache_dir=Settings().onnx_cache_dir, threads=2)
    return np.ascontiguousarray(embedder.embed(texts), dtype=np.float32)


def time_decisions(db: Path, index_dir: Path, texts: list[str], vectors: np.ndarray, chain: str) -> Timing:
    (path,) = index_dir.glob("*.faiss")
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, origin, instruction FROM instruction ORDER BY id").fetchall()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tail:
        saved = VectorIndex.load(path)
        loaded_s = time.perf_counter() - started
        pool = NoveltyPool(vectors=saved, vectors_dir=Path(tail))
        pool.add_many([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        built_s = time.perf_counter() - started
        paired = paired_decisions(pool, texts, vectors, chain, rows[-1][0] + 1)
        rules, seconds, before = paired.rules, paired.ahead, paired.in_turn
        parts = stage_parts(pool, texts, vectors)
        del pool, saved
    ms = np.array(seconds) * 1000
    accepted = sum(rule is None for rule in rules)
    summary = (
        f"novelty check in this process ({len(rows)} items: saved index loaded in {loaded_s:.1f}s, ROUGE-L "
        f"index and exact keys built in {built_s - loaded_s:.1f}s): {len(ms)} candidates ({accepted} "
        f"accepted), p50 {np.percentile(ms, 50):.3f} ms, p95 {np.percentile(ms, 95):.3f} ms, p99 "
        f"{np.percentile(ms, 99):.3f} ms per candidate (vector given; FAISS search started ahead, "
        f"overlapping ROUGE-L, efSearch {GATE_EF_SEARCH}); searched in turn after ROUGE-L at efSearch "
        f"{DEFAULT_EF_SEARCH}, as before, in the same run: p50 "
        f"{percentile(before, 50):.3f} ms, p95 {percentile(before, 95):.3f} ms; the same decisions "
        f"{paired.agree}/{len(ms)} (every recorded field the same {paired.same_record}/{len(ms)}); {parts}"
    )
    return Timing(rules, summary)


@dataclass
class Paired:
    rules: list[str | None]  # each candidate's rule (None: accepted), in order
    ahead: list[float]  # seconds per decision: the FAISS search started ahead on a helper thread, at the
    # gate's efSearch (as the service decides from AHEAD_MIN_ITEMS on)
    in_turn: list[float]  # seconds per decision: the search after ROUGE-L in this thread, at the index's
    # efSearch (as before)
    agree: int  # candidates both ways decided alike (accepted, or rejected by the same rule)
    same_record: int  # … with every recorded field identical too (scores, neighbours)


def paired_decisions(
    pool: NoveltyPool,
    texts: list[str],
    vectors: np.ndarray,
    chain: str,
    next_id: int,
    in_turn_breadth: int | None = None,
) -> Paired:
    """Each candidate decided both ways on the same pool state (alternating which goes first, as the second
    runs on warmer caches), then added to the pool when accepted (ids from ``next_id`` on). The search in
    turn runs at ``in_turn_breadth`` (None: the index's efSearch, as before)."""
    config = ChainConfig(stages=tuple(chain.split(",")))
    ahead, in_turn = DecisionChain.from_config(config), DecisionChain.from_config(config)
    for chain_, least, breadth in ((ahead, 1, GATE_EF_SEARCH), (in_turn, None, in_turn_breadth)):
        for stage in chain_.stages:
            if isinstance(stage, EmbeddingStage):
                stage.ahead_min_items, stage.breadth = least, breadth
    paired = Paired([], [], [], 0, 0)
    for position, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        timed = {}
        for chain_ in (ahead, in_turn) if position % 2 == 0 else (in_turn, ahead):
            begun = time.perf_counter()
            timed[id(chain_)] = chain_.decide(pool, text, vector), time.perf_counter() - begun
        (decision, took), (other, other_took) = timed[id(ahead)], timed[id(in_turn)]
        paired.ahead.append(took)
        paired.in_turn.append(other_took)
        paired.rules.append(decision.rule)
        paired.agree += decision.rule == other.rule
        paired.same_record += decision == other
        if decision.accepted:
            pool.add(next_id, "submitted", text, vector)
            next_id += 1
    return paired


def stage_parts(pool: NoveltyPool, texts: list[str], vectors: np.ndarray) -> str:
    """p50 of the ROUGE-L index's and the vector index's parts alone, over the same candidates."""
    rouge, cosine = [], []
    for text, vector in zip(texts, vectors, strict=True):
        begun = time.perf_counter()
        pool.rouge.max_score(pool.rouge.tokenize(text))
        middle = time.perf_counter()
        assert pool.vectors is not None
        pool.vectors.nearest(vector)
        rouge.append(middle - begun)
        cosine.append(time.perf_counter() - middle)
    return f"alone: ROUGE-L p50 {percentile(rouge, 50):.3f} ms, cosine p50 {percentile(cosine, 50):.3f} ms"


def stored_vectors(db: Path, ids: list[int]) -> dict[int, np.ndarray]:
    """The embeddings the service stored for these rows (the ones it stored one for)."""
    with sqlite3.connect(db) as connection:
        blobs = dict(
            connection.execute(
                f"SELECT id, embedding FROM instruction WHERE id IN ({','.join(map(str, ids))})"
            ).fetchall()
        )
    return {i: np.frombuffer(blob, dtype=np.float32) for i, blob in blobs.items() if blob is not None}


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")
