"""A job's request window: a failed request in a batch loses none of the other finished results."""

from __future__ import annotations

import concurrent.futures
import threading

from app.jobs.inflight import RequestWindow, answered
from generators.backends.base import GenerationResult, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.fake import FakeBackend
from generators.prompts import build_prompt

PROMPT = build_prompt(["Name a colour."])


class GatedBackend(FakeBackend):
    """Every call waits for ``gate``; the first one then fails."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def generate(self, prompt, params) -> GenerationResult:
        with self._lock:
            self.calls += 1
            call = self.calls
        self.gate.wait(10)
        if call == 1:
            raise RuntimeError("HTTP 500 from the model server")
        return super().generate(prompt, params)


def test_answered_keeps_every_result_around_a_failure():
    futures = [concurrent.futures.Future() for _ in range(4)]
    futures[1].set_exception(RuntimeError("first failure"))
    futures[3].set_exception(RuntimeError("second failure"))
    futures[0].set_result("r0")
    futures[2].set_result("r2")
    params = [SamplingParams(seed=i) for i in range(4)]
    results, failure = answered([(f, PROMPT, p) for f, p in zip(futures, params, strict=True)])
    assert results == [("r0", params[0], PROMPT), ("r2", params[2], PROMPT)]
    assert str(failure) == "first failure"


def test_a_failed_first_request_loses_none_of_the_batch():
    backend = GatedBackend()
    dispatcher = RequestDispatcher(backend, 4)
    window = RequestWindow(dispatcher, 4)
    seeds = iter(range(4))
    try:
        window.fill(lambda: (PROMPT, SamplingParams(n=1, seed=next(seeds))), budget=4)
        pending = list(window._pending)
        backend.gate.set()
        concurrent.futures.wait(pending, timeout=10)  # all four finished before the runner looks
        done = window.next_done_request(timeout=1)
        assert done is not None
        results, failure = answered([done, *window.take_done()])
    finally:
        window.cancel()
        dispatcher.close()
    assert isinstance(failure, RuntimeError) and "HTTP 500" in str(failure)
    assert [params.seed for _, params, _ in results] == [1, 2, 3]  # the three after the failed one
    assert len(window) == 0
