"""Requests to a backend in flight at once, from any thread, on one event loop.

:class:`RequestDispatcher` owns an event loop in a thread. ``submit`` schedules
``backend.agenerate`` there and returns a :class:`concurrent.futures.Future`; at most ``max_in_flight``
requests run at a time across all callers (the rest wait on a semaphore, in order), so a GPU server is
kept busy without opening unbounded connections. Cancelling the future cancels the task, which for an
async backend closes the HTTP request (vLLM aborts a request whose client went away) or aborts the
engine request. Every request passes the :class:`CircuitBreaker` first: while its half-open trial is
out, the others wait for the verdict (then go, or fail fast if the circuit opened again). Only outages
count against the breaker; a :class:`RequestRejected` (a 4xx the server answered) is passed on as it is.
``output_rule`` (the service's text rule, app/core/limits.py) is applied to every result before it is
handed back, so no caller sees model text the database cannot store. ``tallies``
(generators/backends/timings.py) keeps each answered request's latency and the failures by kind, for
the service's metrics.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable

from generators.backends.base import GenerationResult, LLMBackend, RequestRejected, SamplingParams
from generators.backends.limits import CircuitBreaker, TrialRunning
from generators.backends.timings import RequestTallies
from generators.prompts import Prompt

logger = logging.getLogger(__name__)


class RequestDispatcher:
    def __init__(
        self,
        backend: LLMBackend,
        max_in_flight: int,
        breaker: CircuitBreaker | None = None,
        output_rule: Callable[[GenerationResult], GenerationResult] | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.backend = backend
        self.max_in_flight = max_in_flight
        self.breaker = breaker or CircuitBreaker()
        self.output_rule = output_rule
        self.in_flight = 0
        self.waiting = 0
        self.tallies = RequestTallies()
        self._loop = asyncio.new_event_loop()
        self._semaphore: asyncio.Semaphore | None = None
        self._trial_over: asyncio.Condition | None = None
        self._thread = threading.Thread(target=self._run_loop, name="backend-dispatcher", daemon=True)
        self._started = threading.Event()
        self._starting = threading.Lock()
        self._closed = False

    def start(self) -> RequestDispatcher:
        with self._starting:  # two threads submitting their first request at once start it once
            if not self._thread.is_alive():
                self._thread.start()
                self._started.wait()
        return self

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._semaphore = asyncio.Semaphore(self.max_in_flight)
        self._trial_over = asyncio.Condition()
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
            trial = await self._admit()
            started = time.perf_counter()
            try:
                result = await self.backend.agenerate(prompt, params)
            except asyncio.CancelledError:
                self.breaker.release_trial()
                raise
            except RequestRejected as exc:
                self.tallies.failed(exc)
                self.breaker.release_trial()  # the server answered: no verdict on an outage
                raise
            except Exception as exc:
                self.tallies.failed(exc)
                self.breaker.record_failure(exc)
                raise
            else:
                self.tallies.latency.observe(time.perf_counter() - started)
                self.breaker.record_success()
                if self.output_rule is not None:
                    result = self.output_rule(result)
            finally:
                if trial:  # after the verdict is recorded, so the waiters see it
                    await self._trial_finished()
            return result
        finally:
            self.in_flight -= 1
            self._semaphore.release()

    async def _admit(self) -> bool:
        """Pass the breaker, waiting while its half-open trial is out; whether this request is the trial."""
        assert self._trial_over is not None
        while True:
            async with self._trial_over:
                try:
                    return self.breaker.before_request()
                except TrialRunning:
                    await self._trial_over.wait()

    async def _trial_finished(self) -> None:
        assert self._trial_over is not None
        async with self._trial_over:
            self._trial_over.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what is still running, let the backend close its async clients, stop the loop."""
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            self._loop.close()
            return
        logger.info(
            "stopping: cancelling %d backend request(s) in flight and %d waiting (a model call running "
            "in a thread is abandoned, not waited for)",
            self.in_flight,
            self.waiting,
        )

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
