"""Supervised background loops: a loop survives the errors of one pass, and says when it cannot go on.

Every background loop of the process (job workers, the lease heartbeat, the schedule loop, the
similarity batcher) reports each pass to its :class:`LoopHealth`. A failed pass is logged, counted and
followed by an exponential back-off (``SI_LOOP_BACKOFF_S`` doubling up to ``SI_LOOP_BACKOFF_MAX_S``); a
good pass resets the back-off. ``/readyz`` answers 503 with the reason when a loop has died (its thread
ended while the service runs) or has failed ``SI_LOOP_UNREADY_AFTER`` passes in a row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.settings import Settings

logger = logging.getLogger(__name__)


def is_transient_database_error(exc: BaseException) -> bool:
    """A lost connection, a busy database or an exhausted pool: worth retrying after a pause."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass
class LoopHealth:
    """One loop's record: passes failed in total and in a row, the last error, why it died."""

    name: str
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    unready_after: int = 5
    failures: int = 0
    consecutive: int = 0
    last_error: str | None = None
    dead: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def succeeded(self) -> None:
        with self._lock:
            self.consecutive = 0

    def failed(self, exc: BaseException) -> float:
        """Count a failed pass; returns the seconds to wait before the next one."""
        with self._lock:
            self.failures += 1
            self.consecutive += 1
            self.last_error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
            return min(self.backoff_max_s, self.backoff_s * 2 ** (self.consecutive - 1))

    def died(self, reason: str) -> None:
        with self._lock:
            self.dead = reason

    def problem(self) -> str | None:
        """Why this loop makes the service unready, or ``None``."""
        if self.dead is not None:
            return f"{self.name} stopped: {self.dead}"
        if self.consecutive >= self.unready_after:
            return f"{self.name} failed {self.consecutive} times in a row, last: {self.last_error}"
        return None


class Supervisor:
    """The process's loops, by name, as ``/readyz`` and ``/metrics`` read them."""

    def __init__(self, backoff_s: float = 0.5, backoff_max_s: float = 30.0, unready_after: int = 5) -> None:
        self._defaults = (backoff_s, backoff_max_s, unready_after)
        self._loops: dict[str, LoopHealth] = {}
        self._lock = threading.Lock()

    def loop(self, name: str) -> LoopHealth:
        with self._lock:
            if name not in self._loops:
                backoff_s, backoff_max_s, unready_after = self._defaults
                self._loops[name] = LoopHealth(name, backoff_s, backoff_max_s, unready_after)
            return self._loops[name]

    def loops(self) -> list[LoopHealth]:
        with self._lock:
            return list(self._loops.values())

    def problems(self) -> list[str]:
        return [p for p in (loop.problem() for loop in self.loops()) if p is not None]


def supervisor_from(settings: Settings) -> Supervisor:
    return Supervisor(settings.loop_backoff_s, settings.loop_backoff_max_s, settings.loop_unready_after)


def run_supervised(health: LoopHealth, stop: threading.Event, step: Callable[[], None]) -> None:
    """Call ``step`` until ``stop`` is set; a failing step is logged, counted and backed off.

    Meant as a thread's target: if anything but ``stop`` ends the loop (an error that is not an
    ``Exception``), the loop is marked dead so ``/readyz`` reports it.
    """
    try:
        while not stop.is_set():
            try:
                step()
            except Exception as exc:
                delay = health.failed(exc)
                logger.warning(
                    "%s: pass failed (%d in a row, %d in all), retrying in %.1fs: %s",
                    health.name,
                    health.consecutive,
                    health.failures,
                    delay,
                    health.last_error,
                    exc_info=not is_transient_database_error(exc),
                )
                stop.wait(delay)
            else:
                health.succeeded()
    except BaseException as exc:
        health.died(f"{type(exc).__name__}: {exc}")
        logger.critical("%s died: %s", health.name, exc)
        raise
