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

SLACK = 1e-4  # ≥ the float32 rounding of both sums (≤ 2.3e-5 each at d=384), with room
EXTRA_HITS = 8  # fetched beyond k at first: usually enough to see the window close

ApproximateSearch = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


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


def rescored_search(
    search: ApproximateSearch,
    exact: ExactVectors,
    queries: np.ndarray,
    k: int,
    error: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` ``(scores, positions)`` per query with exact scores; missing ones are ``-inf`` / ``-1``.

    ``search(queries, n)`` is the compact index's own search (approximate scores, positions, best first);
    ``error`` is its ``E``.
    """
    total = len(exact)
    out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    out_positions = np.full((len(queries), k), -1, dtype=np.int64)
    fetch = min(total, k + EXTRA_HITS)
    scores, positions = search(queries, fetch)
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
