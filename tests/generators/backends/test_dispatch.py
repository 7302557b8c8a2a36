from __future__ import annotations

import asyncio
import threading

import pytest

from generators.backends.base import GenerationResult, LLMBackend, RequestRejected, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitBreaker, CircuitOpenError
from generators.prompts import build_prompt

PROMPT = build_prompt(["Name a colour."])


class GatedBackend(LLMBackend):
    """An async backend whose requests wait for a gate; it records peak concurrency and cancellations."""

    model_id = "gated"

    def __init__(self, fail: bool = False) -> None:
        self.gate = threading.Event()
        self.active = 0
        self.peak = 0
        self.cancelled = 0
        self.started = 0
        self.closed = False
        self.fail = fail

    def generate(self, prompt, params):  # pragma: no cover - the dispatcher uses agenerate
        raise AssertionError("blocking path not expected")

    async def agenerate(self, prompt, params) -> GenerationResult:
        self.active += 1
        self.started += 1
        self.peak = max(self.peak, self.active)
        try:
            while not self.gate.is_set():
                await asyncio.sleep(0.005)
            if self.fail:
                raise ConnectionError("server gone")
            return GenerationResult(prompt.text, [], 1, self.model_id, 0.0)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1

    async def aclose(self) -> None:
        self.closed = True


def wait_until(condition, timeout: float = 30.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("condition not reached")


def test_no_more_than_max_in_flight_requests_run_at_once():
    backend = GatedBackend()
    dispatcher = RequestDispatcher(backend, max_in_flight=3).start()
    try:
        futures = [dispatcher.submit(PROMPT, SamplingParams(n=1)) for _ in range(10)]
        wait_until(lambda: backend.active == 3 and dispatcher.waiting == 7)
        backend.gate.set()
        results = [f.result(30) for f in futures]
        assert len(results) == 10 and backend.peak == 3
    finally:
        dispatcher.close()
    assert backend.closed


def test_cancelling_a_future_cancels_the_request_in_flight():
    backend = GatedBackend()
    dispatcher = RequestDispatcher(backend, max_in_flight=2).start()
    try:
        future = dispatcher.submit(PROMPT, SamplingParams(n=1))
        wait_until(lambda: backend.active == 1)
        assert future.cancel()
        wait_until(lambda: backend.cancelled == 1 and dispatcher.in_flight == 0)
    finally:
        dispatcher.close()


def test_failures_open_the_circuit_and_later_requests_fail_fast():
    backend = GatedBackend(fail=True)
    backend.gate.set()
    dispatcher = RequestDispatcher(backend, 4, CircuitBreaker(failure_threshold=2, cooldown_s=60)).start()
    try:
        for _ in range(2):
            with pytest.raises(ConnectionError):
                dispatcher.submit(PROMPT, SamplingParams(n=1)).result(30)
        with pytest.raises(CircuitOpenError, match="2 consecutive failures"):
            dispatcher.submit(PROMPT, SamplingParams(n=1)).result(30)
        assert backend.started == 2
    finally:
        dispatcher.close()


def test_close_cancels_what_is_still_running():
    backend = GatedBackend()
    dispatcher = RequestDispatcher(backend, 2).start()
    future = dispatcher.submit(PROMPT, SamplingParams(n=1))
    wait_until(lambda: backend.active == 1)
    dispatcher.close()
    assert future.cancelled() and backend.cancelled == 1
    with pytest.raises(RuntimeError, match="closed"):
        dispatcher.submit(PROMPT, SamplingParams(n=1))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_half_open_lets_the_trial_finish_while_the_others_wait_then_all_go():
    backend = GatedBackend(fail=True)
    backend.gate.set()
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5, clock=clock)
    dispatcher = RequestDispatcher(backend, 8, breaker).start()
    try:
        with pytest.raises(ConnectionError):
            dispatcher.submit(PROMPT, SamplingParams(n=1)).result(30)
        assert breaker.state == "open"
        clock.now = 10.0  # the server is back and the cool-down is over
        backend.fail = False
        backend.gate.clear()
        futures = [dispatcher.submit(PROMPT, SamplingParams(n=1)) for _ in range(6)]
        wait_until(lambda: backend.active == 1)
        assert backend.started == 2 and not any(f.done() for f in futures)  # one trial, five waiting
        backend.gate.set()
        results = [f.result(30) for f in futures]
        assert len(results) == 6 and breaker.state == "closed" and backend.started == 7
    finally:
        dispatcher.close()


class RejectingBackend(GatedBackend):
    async def agenerate(self, prompt, params) -> GenerationResult:
        self.started += 1
        raise RequestRejected(400, "Server is pinned to 'a'; requested 'b'")


def test_a_rejected_request_is_no_outage_and_never_opens_the_circuit():
    backend = RejectingBackend()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=60)
    dispatcher = RequestDispatcher(backend, 2, breaker).start()
    try:
        for _ in range(3):
            with pytest.raises(RequestRejected, match="pinned"):
                dispatcher.submit(PROMPT, SamplingParams(n=1)).result(30)
        assert breaker.state == "closed" and backend.started == 3
    finally:
        dispatcher.close()
