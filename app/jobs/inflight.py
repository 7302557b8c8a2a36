"""One job's requests in flight: a window of up to ``size`` outstanding requests, refilled as results
come back, so the model server always has work queued while memory stays bounded by ``size``."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from generators.backends.base import GenerationResult, RequestRejected, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitOpenError
from generators.prompts import Prompt

if TYPE_CHECKING:
    from app.jobs.preparing import ReadyRequest, RequestPreparer

Request = tuple[Prompt, SamplingParams]
Pending = concurrent.futures.Future[GenerationResult]
Taken = tuple[Pending, Prompt, SamplingParams]  # a finished request as the window hands it out
Answered = tuple[GenerationResult, SamplingParams, Prompt]


def has_result(future: Pending) -> bool:
    """Whether a finished request has a result (not failed, not cancelled): those :func:`answered` keeps."""
    return not future.cancelled() and future.exception() is None


def answered(taken: list[Taken]) -> tuple[list[Answered], Exception | None]:
    """The results of the finished requests ``taken``, in order, and the first failure among them: a
    request that failed loses none of the others' results (each is stored and counted)."""
    results: list[Answered] = []
    failure: Exception | None = None
    for future, prompt, params in taken:
        try:
            results.append((future.result(), params, prompt))
        except Exception as exc:
            failure = failure or exc
    return results, failure


class RequestWindow:
    def __init__(self, dispatcher: RequestDispatcher, size: int) -> None:
        self.dispatcher = dispatcher
        self.size = size
        # prepares each request submitted from now on as it finishes (app/jobs/preparing.py)
        self.preparer: RequestPreparer | None = None
        self._pending: dict[Pending, SamplingParams] = {}
        self._prompts: dict[Pending, Prompt] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def fill(self, next_request: Callable[[], Request], budget: int, wanted: int | None = None) -> None:
        """Submit requests until ``wanted`` (at most ``size``) are outstanding or ``budget`` more would
        overspend."""
        limit = self.size if wanted is None else min(wanted, self.size)
        while len(self._pending) < limit and budget > 0:
            prompt, params = next_request()
            future = self.dispatcher.submit(prompt, params)
            self._pending[future] = params
            self._prompts[future] = prompt
            if self.preparer is not None:
                self.preparer.expect(future, prompt)
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

    def take_done(self) -> list[tuple[Pending, Prompt, SamplingParams]]:
        """Every other request that has finished by now, with its prompt, in submission order (no waiting)."""
        done = [future for future in self._pending if future.done()]
        return [(future, self._prompts.pop(future), self._pending.pop(future)) for future in done]

    def prepared(self, taken: list[Taken]) -> list[ReadyRequest | None]:
        """The preparations of the requests ``taken`` that have a result (those :func:`answered` keeps), in
        order; None for one not prepared."""
        with_result = [t for t in taken if has_result(t[0])]
        if self.preparer is None:
            return [None] * len(with_result)
        return [self.preparer.take(future) for future, _, _ in with_result]

    def close(self) -> None:
        """:meth:`cancel`, and stop the preparer."""
        self.cancel()
        if self.preparer is not None:
            self.preparer.close()

    def cancel(self) -> int:
        """Drop every outstanding request, cancelling those not finished (the backend aborts those already
        sent); how many were dropped, finished or not (their results are never stored)."""
        dropped = len(self._pending)
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._prompts.clear()
        if self.preparer is not None:
            self.preparer.drop_all()
        return dropped


class InFlightReport:
    """When to write a job's requests in flight on its row: at once when the count leaves or reaches 0,
    else when it changed and ``interval_s`` has passed since the last write (event streams read the row
    that often), so a busy window costs a write per interval, not one per request."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.written = 0
        self._at = float("-inf")

    def due(self, count: int) -> bool:
        if count == self.written:
            return False
        return count == 0 or self.written == 0 or time.monotonic() - self._at >= self.interval_s

    def wrote(self, count: int) -> None:
        self.written, self._at = count, time.monotonic()


def backend_failure_reason(exc: BaseException) -> str:
    """The reason a job states when the backend failed it."""
    if isinstance(exc, CircuitOpenError):
        return f"backend unavailable: {exc}"
    if isinstance(exc, RequestRejected):  # the server's own words: a setting to fix, not an outage
        return f"model server rejected the request (HTTP {exc.status}): {exc.message}"
    return f"backend error: {type(exc).__name__}: {exc}"
