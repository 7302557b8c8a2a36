"""Requests to a backend in flight at once, from any thread, on one event loop.

:class:`RequestDispatcher` owns an event loop in a thread. ``submit`` schedules
``backend.agenerate`` there and returns a :class:`concurrent.futures.Future`; at most ``max_in_flight``
requests run at a time across all callers (the rest wait on a semaphore, in order), so a GPU server is
kept busy without opening unbounded connections. Cancelling the future cancels the task, which for an
async backend closes the HTTP request (vLLM aborts a request whose client went away) or aborts the
engine request. Every request passes the :class:`CircuitBreaker` first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading

from generators.backends.base import GenerationResult, LLMBackend, SamplingParams
from generators.backends.limits import CircuitBreaker
from generators.prompts import Prompt

logger = logging.getLogger(__name__)


class RequestDispatcher:
    def __init__(
        self,
        backend: LLMBackend,
        max_in_flight: int,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.backend = backend
        self.max_in_flight = max_in_flight
        self.breaker = breaker or CircuitBreaker()
        self.in_flight = 0
        self.waiting = 0
        self._loop = asyncio.new_event_loop()
        self._semaphore: asyncio.Semaphore | None = None
        self._thread = threading.Thread(target=self._run_loop, name="backend-dispatcher", daemon=True)
        self._started = threading.Event()
        self._closed = False

    def start(self) -> RequestDispatcher:
        if not self._thread.is_alive():
            self._thread.start()
            self._started.wait()
        return self

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._semaphore = asyncio.Semaphore(self.max_in_flight)
        self._loop.call_soon(self._started.set)
        self._loop.run_forever()

    def submit(self, prompt: Prompt, params: SamplingParams) -> concurrent.futures.Future[GenerationResult]:
        """Schedule one request; the future holds its result or the backend's exception."""
        if self._closed:
            raise RuntimeError("dispatcher closed")
        self.start()
        return asyncio.run_coroutine_threadsafe(self._request(prompt, params), self._loop)

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        """One request, waited for: the blocking form of :meth:`submit` (limits and breaker apply)."""
        return self.submit(prompt, params).result()

    async def _request(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        assert self._semaphore is not None
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            self.breaker.before_request()
            try:
                result = await self.backend.agenerate(prompt, params)
            except asyncio.CancelledError:
                self.breaker.release_trial()
                raise
            except Exception as exc:
                self.breaker.record_failure(exc)
                raise
            self.breaker.record_success()
            return result
        finally:
            self.in_flight -= 1
            self._semaphore.release()

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what is still running, let the backend close its async clients, stop the loop."""
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            self._loop.close()
            return

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.backend.aclose()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout)
        except Exception:
            logger.exception("backend dispatcher did not shut down cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()
