"""One job's requests in flight: a window of up to ``size`` outstanding requests, refilled as results
come back, so the model server always has work queued while memory stays bounded by ``size``."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from generators.backends.base import GenerationResult, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitOpenError
from generators.prompts import Prompt

Request = tuple[Prompt, SamplingParams]
Pending = concurrent.futures.Future[GenerationResult]


class RequestWindow:
    def __init__(self, dispatcher: RequestDispatcher, size: int) -> None:
        self.dispatcher = dispatcher
        self.size = size
        self._pending: dict[Pending, SamplingParams] = {}
        self._prompts: dict[Pending, Prompt] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def fill(self, next_request: Callable[[], Request], budget: int) -> None:
        """Submit requests until ``size`` are outstanding or ``budget`` more would overspend."""
        while len(self._pending) < self.size and budget > 0:
            prompt, params = next_request()
            future = self.dispatcher.submit(prompt, params)
            self._pending[future] = params
            self._prompts[future] = prompt
            budget -= 1

    def next_done_request(self, timeout: float) -> tuple[Pending, Prompt, SamplingParams] | None:
        """:meth:`next_done` with the request's prompt."""
        done = self.next_done(timeout)
        return None if done is None else (done[0], self._prompts.pop(done[0]), done[1])

    def next_done(self, timeout: float) -> tuple[Pending, SamplingParams] | None:
        """The earliest-submitted finished request, or None when none finished within ``timeout``."""
        if not self._pending:
            return None
        done, _ = concurrent.futures.wait(
            self._pending, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        if not done:
            return None
        future = next(f for f in self._pending if f in done)
        return future, self._pending.pop(future)

    def cancel(self) -> int:
        """Cancel every outstanding request (the backend aborts those already sent)."""
        cancelled = sum(1 for future in self._pending if future.cancel())
        self._pending.clear()
        self._prompts.clear()
        return cancelled


def backend_failure_reason(exc: BaseException) -> str:
    """The reason a job states when the backend failed it."""
    if isinstance(exc, CircuitOpenError):
        return f"backend unavailable: {exc}"
    return f"backend error: {type(exc).__name__}: {exc}"
