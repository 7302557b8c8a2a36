"""A circuit breaker for a generation backend.

After ``failure_threshold`` consecutive failed requests (each already retried by the client) the
circuit *opens*: new requests fail at once with :class:`CircuitOpenError` instead of piling onto a
server that is down or whose engine has died. After ``cooldown_s`` it is *half-open*: one trial request
goes through while the other requests wait for its verdict (:class:`TrialRunning`, which the dispatcher
meets by waiting, not failing); its success closes the circuit, its failure opens it for another
cool-down. Only outages count (the caller decides: the dispatcher never counts a
:class:`~generators.backends.base.RequestRejected`, a 4xx the server answered).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpenError(RuntimeError):
    """The backend failed too often in a row; requests are refused until the cool-down ends."""


class TrialRunning(CircuitOpenError):
    """Half-open and the one trial request is out: wait for its verdict, then ask again."""


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self.last_error: str | None = None

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def before_request(self) -> bool:
        """Whether the request that may go out now is the half-open trial; raise :class:`TrialRunning`
        while a trial is out and :class:`CircuitOpenError` while the circuit is open."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return False
            if state == "half_open" and not self._trial_running:
                self._trial_running = True
                return True
            if state == "half_open":
                raise TrialRunning("backend circuit half-open: a trial request is out")
            wait = max(0.0, self.cooldown_s - (self._clock() - (self._opened_at or 0.0)))
            raise CircuitOpenError(
                f"backend circuit open after {self._failures} consecutive failures "
                f"(last: {self.last_error}); next trial in {wait:.0f}s"
            )

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self.last_error = f"{type(error).__name__}: {error}"[:300]
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_running = False

    def release_trial(self) -> None:
        """A trial request was cancelled before it said anything about the backend."""
        with self._lock:
            self._trial_running = False
