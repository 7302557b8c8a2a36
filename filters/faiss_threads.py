"""FAISS calls with one OpenMP thread, for single queries on a machine whose cores are busy."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import faiss
import numpy as np

_P = ParamSpec("_P")
_R = TypeVar("_R")
Found = tuple[np.ndarray, np.ndarray]  # (scores, positions or ids) per query row


def single_threaded(function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """Run a FAISS call with one OpenMP thread (libgomp keeps the setting per calling thread).

    One query gains nothing from a parallel region and loses a lot to it on a busy machine: with 2 cores
    and one of them busy (embedding, generation, another request), a 2-thread region waits for a
    scheduler tick, so a single search took ~8 ms at p99 even on 1K vectors, against 0.1 ms with one thread,
    and the 2-thread flat scan of 20K took 3.3 ms p50 against 1.1 ms with one (7 ms against 1.3 ms with a
    busy core); ``benchmarks/ann_recall.py``'s 'before' column shows it at every size.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return function(*args, **kwargs)
    finally:
        faiss.omp_set_num_threads(threads)


def searcher(index: faiss.Index, breadth: int | None = None) -> Callable[[np.ndarray, int], Found]:
    """``index.search`` as a function of ``(rows, n)``: one OpenMP thread for a single row (above), and
    efSearch ``breadth`` (at least ``n``) when given, for an HNSW index only."""

    run: Callable[..., Found] = index.search

    def search(rows: np.ndarray, n: int) -> Found:
        options = {}
        if breadth is not None:  # in the SWIG module, not the .pyi
            options["params"] = faiss.SearchParametersHNSW(efSearch=max(breadth, n))  # type: ignore[attr-defined]
        if len(rows) == 1 and faiss.omp_get_max_threads() > 1:
            return single_threaded(run, rows, n, **options)
        return run(rows, n, **options)

    return search
