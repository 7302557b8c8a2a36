"""Plain, thread-safe latency and error tallies that a metrics collector reads (no Prometheus here).

:class:`Latency` keeps a cumulative histogram over fixed upper bounds (seconds), its sum and its count;
:class:`RequestTallies` adds errors counted by kind. The service's collector (app/core/metrics.py) turns
them into Prometheus families at scrape time.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter

from generators.backends.base import RequestRejected

# 5 ms (an embedding of one text) … 10 min (a long CPU generation)
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
ERROR_KINDS = ("timeout", "rejected", "server")


class Latency:
    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS) -> None:
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)  # the last one: above every bound
        self.sum = 0.0
        self.count = 0
        self._lock = threading.Lock()

    def observe(self, seconds: float, times: int = 1) -> None:
        """Record ``times`` observations of ``seconds`` each."""
        slot = bisect.bisect_left(self.bounds, seconds)
        with self._lock:
            self._counts[slot] += times
            self.sum += seconds * times
            self.count += times

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations at or below it)`` pairs, the last bound ``inf``."""
        with self._lock:
            counts = list(self._counts)
        total, pairs = 0, []
        for bound, n in zip((*self.bounds, float("inf")), counts, strict=True):
            total += n
            pairs.append((bound, total))
        return pairs


def error_kind(exc: BaseException) -> str:
    """``timeout`` (the request took too long), ``rejected`` (the server answered 4xx) or ``server``
    (5xx, a dropped connection, a crashed model: an outage)."""
    if isinstance(exc, RequestRejected):
        return "rejected"
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    return "server"


class RequestTallies:
    """A dispatcher's finished requests: latency of those answered, errors by kind of those that failed."""

    def __init__(self) -> None:
        self.latency = Latency()
        self._errors: Counter[str] = Counter()
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors[error_kind(exc)] += 1

    def errors(self) -> dict[str, int]:
        with self._lock:
            return {kind: self._errors[kind] for kind in ERROR_KINDS}
