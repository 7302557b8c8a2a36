"""Work started ahead on a helper thread and answered when asked: a pool's vector search runs while the
same candidate's ROUGE-L is scored (both under the dataset's lock, one after the other before).

FAISS releases the GIL while it searches, so the graph search of one candidate and the ROUGE-L scoring of
the same candidate use two cores; only the C call runs on the helper (its Python wrapper is a few
microseconds), the re-scoring that follows runs in the caller's thread. Nothing may change the index
between the start and the answer: the callers hold the pool's lock throughout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
Answer = Callable[[], _T]
Start = Callable[..., Answer]  # now or ahead
_WORKERS = 2  # one per acceptor deciding at the same moment on a 2-core machine; more would only queue
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _helpers() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="lookahead")
        return _executor


def now(function: Callable[..., _T], *args: object) -> Answer[_T]:
    """Run ``function`` at once, in this thread (the default start)."""
    result = function(*args)
    return lambda: result


def ahead(function: Callable[..., _T], *args: object) -> Answer[_T]:
    """Start ``function`` on a helper thread; the answer waits for it (and raises what it raised)."""
    return _helpers().submit(function, *args).result
