"""FAISS calls with one OpenMP thread, for single queries on a machine whose cores are busy."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import faiss

_P = ParamSpec("_P")
_R = TypeVar("_R")


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
