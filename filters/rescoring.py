"""Exact answers from a compact index: search its approximate scores, re-score exactly the hits that matter.

A stored vector ``x`` is kept as ``x̃`` (its float16 rounding), ``e = x̃ − x``. For a query ``q``,
``|q·x̃ − q·x| = |q·e| ≤ ‖q‖·‖e‖`` (Cauchy–Schwarz) ``≤ ‖q‖·E``, where ``E`` is the largest ``‖e‖`` over
the stored vectors (measured as they are added: each is encoded and decoded again; ~2.4e-4 for float16 on
real MiniLM vectors, whose components are below 1). Each score is also a float32 sum of ``d`` products, off
by at most ``γ_d·Σ|q_i·x_i| ≤ d·2⁻²⁴·‖q‖·‖x‖ ≈ 2.3e-5`` at d=384; ``SLACK`` covers that for both sums. So with
``h = ‖q‖·E + SLACK`` every approximate score ``s̃`` is within ``h`` of the exact ``s``, and

* the exact k-th best score ``S_k ≥ s̃_k − h`` (the k best approximate hits each have ``s ≥ s̃ − h``);
* a vector with ``s̃ < s̃_k − 2h`` has ``s < s̃_k − h ≤ S_k``: it is not in the exact top k.

Re-scoring every hit with ``s̃ ≥ s̃_k − 2h`` (the search is widened until its last hit falls below that)
with faiss's own float32 kernel — bitwise the scores ``IndexFlatIP`` gives, whatever the other vectors —
and keeping the best k gives exactly a flat float32 scan's top k, ties to the earlier position as
``IndexFlatIP`` breaks them for k=1. Over an HNSW graph the same re-scoring makes the scores of the hits
it finds exact; which hits it finds stays the graph's approximation.
"""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np

from filters.exact_vectors import ExactVectors
from filters.faiss_threads import Found
from filters.lookahead import Answer, Start

SLACK = 1e-4  # ≥ the float32 rounding of both sums (≤ 2.3e-5 each at d=384), with room
EXTRA_HITS = 8  # fetched beyond k at first: usually enough to see the window close

Hit = tuple[float | None, int | None]  # the best (score, id), (None, None) when there is none
ApproximateSearch = Callable[[np.ndarray, int], Found]


def encoding_error(quantizer: faiss.ScalarQuantizer, vectors: np.ndarray) -> float:
    """The largest ``‖decode(encode(x)) − x‖`` over ``vectors``: the ``E`` of the bound above."""
    largest = 0.0
    for start in range(0, len(vectors), 65_536):  # bounded temporaries for a bulk add
        chunk = np.ascontiguousarray(vectors[start : start + 65_536], dtype=np.float32)
        differences = quantizer.decode(quantizer.compute_codes(chunk)).astype(np.float64) - chunk
        largest = max(largest, float(np.sqrt((differences * differences).sum(axis=1)).max()))
    return largest


def exact_scores(query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """float32 inner products of ``query`` with each row, computed as ``IndexFlatIP`` computes them."""
    out = np.empty(len(vectors), dtype=np.float32)
    if len(vectors):
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]  # in the SWIG module, not the .pyi
            faiss.swig_ptr(out), faiss.swig_ptr(query), faiss.swig_ptr(rows), query.shape[0], len(rows)
        )
    return out


def first_fetch(total: int, k: int) -> int:
    """How many hits the first search fetches for a top ``k`` out of ``total`` vectors."""
    return min(total, k + EXTRA_HITS)


def rescored_search(
    search: ApproximateSearch,
    exact: ExactVectors,
    queries: np.ndarray,
    k: int,
    error: float,
    first: Found,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` ``(scores, positions)`` per query with exact scores; missing ones are ``-inf`` / ``-1``.

    ``search(queries, n)`` is the compact index's own search (approximate scores, positions, best first);
    ``error`` is its ``E``; ``first`` is ``search(queries, first_fetch(len(exact), k))``, already run.
    """
    total = len(exact)
    out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    out_positions = np.full((len(queries), k), -1, dtype=np.int64)
    scores, positions = first
    for row, query in enumerate(queries):
        half_width = float(np.linalg.norm(query)) * error + SLACK
        row_scores, row_positions = scores[row], positions[row]
        while True:
            found = int((row_positions >= 0).sum())
            if found == 0:
                break
            floor = float(row_scores[min(k, found) - 1]) - 2 * half_width
            widest = len(row_positions) >= total or found < len(row_positions)
            if widest or float(row_scores[-1]) < floor:
                break
            more = search(queries[row : row + 1], min(total, 4 * len(row_positions)))
            row_scores, row_positions = more[0][0], more[1][0]
        if found == 0:
            continue
        keep = (row_positions >= 0) & (row_scores >= floor)
        candidates = row_positions[keep]
        rescored = exact_scores(query, exact.read(candidates))
        best = np.lexsort((candidates, -rescored))[:k]
        out_scores[row, : len(best)] = rescored[best]
        out_positions[row, : len(best)] = candidates[best]
    return out_scores, out_positions


def top_k_later(
    search: ApproximateSearch,
    exact: ExactVectors | None,
    error: float,
    ids: np.ndarray,
    queries: np.ndarray,
    k: int,
    start: Start,
) -> Answer[Found]:
    """Top-``k`` ``(scores, ids)`` per query of an index whose positions map to ``ids``; missing ones are
    ``-inf`` / ``-1``. ``search`` is handed to ``start`` now (filters/lookahead.py); the answer re-scores
    (when the index keeps ``exact`` vectors) and maps positions to ids. Nothing may be added between."""
    if len(ids) == 0 or k <= 0:
        shape = (len(queries), max(k, 0))
        empty = np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
        return lambda: empty
    first = start(search, queries, k if exact is None else first_fetch(len(ids), k))

    def answer() -> Found:
        scores, positions = first()
        if exact is not None:
            scores, positions = rescored_search(search, exact, queries, k, error, (scores, positions))
        missing = positions < 0
        found = ids[np.where(missing, 0, positions)]
        found[missing] = -1
        scores[missing] = -np.inf
        return scores, found

    return answer


def first_hit(found: Answer[Found]) -> Answer[Hit]:
    """The best ``(score, id)`` of the first query of ``found``, ``(None, None)`` when there is none."""

    def answer() -> Hit:
        scores, ids = found()
        return (None, None) if ids[0, 0] < 0 else (float(scores[0, 0]), int(ids[0, 0]))

    return answer
