"""Finished requests prepared in a thread of their own: the runner gets each one's preparation, waits for
one under way, and prepares itself what has none."""

from __future__ import annotations

import concurrent.futures
import threading
import time

from app.jobs.preparing import ReadyRequest, RequestPreparer
from generators.backends.base import Completion, GenerationResult
from generators.prompts import build_prompt
from tests.app.helpers import start_job, wait_for_job

PROMPT = build_prompt(["Name a colour."])
POOL = object()


def result(text: str) -> GenerationResult:
    return GenerationResult(text, [Completion(text, "stop", 3)], 5, "fake", 0.0)


class Recorder:
    """Stands in for the preparation: one ReadyRequest per result, the batches and threads recorded."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[str]] = []
        self.threads: list[str] = []
        self.gate = gate

    def __call__(self, pool, finished):
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append([r.prompt_text for r, _ in finished])
        self.threads.append(threading.current_thread().name)
        return [ReadyRequest([], r.prompt_text, pool) for r, _ in finished]  # type: ignore[arg-type]


def test_each_finished_request_is_prepared_once_in_the_preparer_thread():
    recorder = Recorder()
    preparer = RequestPreparer(recorder, lambda: POOL)
    futures = [concurrent.futures.Future() for _ in range(4)]
    for future in futures:
        preparer.expect(future, PROMPT)
    futures[0].set_result(result("a"))
    futures[1].set_exception(RuntimeError("HTTP 500"))
    futures[2].cancel()
    futures[3].set_result(result("d"))
    try:
        ready = [preparer.take(future) for future in futures]
    finally:
        preparer.close()
    assert [r.prepared if r else None for r in ready] == ["a", None, None, "d"]
    assert ready[0].pool is POOL
    assert sorted(text for batch in recorder.batches for text in batch) == ["a", "d"]
    assert set(recorder.threads) == {"request-preparer"}


def test_take_waits_for_a_preparation_under_way():
    gate = threading.Event()
    preparer = RequestPreparer(Recorder(gate), lambda: POOL)
    future: concurrent.futures.Future = concurrent.futures.Future()
    preparer.expect(future, PROMPT)
    future.set_result(result("slow"))
    threading.Timer(0.2, gate.set).start()
    started = time.monotonic()
    try:
        ready = preparer.take(future)
    finally:
        preparer.close()
    assert ready is not None and ready.prepared == "slow"
    assert time.monotonic() - started >= 0.15


def test_without_a_built_pool_or_after_a_failure_nothing_is_prepared():
    def failing(pool, finished):
        raise RuntimeError("embedder failed")

    for preparer in (RequestPreparer(Recorder(), lambda: None), RequestPreparer(failing, lambda: POOL)):
        future: concurrent.futures.Future = concurrent.futures.Future()
        preparer.expect(future, PROMPT)
        future.set_result(result("x"))
        try:
            assert preparer.take(future) is None  # the runner prepares it itself
        finally:
            preparer.close()


def test_a_unknown_or_dropped_request_has_no_preparation():
    preparer = RequestPreparer(Recorder(), lambda: POOL)
    future: concurrent.futures.Future = concurrent.futures.Future()
    future.set_result(result("never expected"))
    assert preparer.take(future) is None
    preparer.expect(pending := concurrent.futures.Future(), PROMPT)
    preparer.drop_all()
    assert preparer.take(pending) is None  # not waited for: the window dropped it
    preparer.close()


async def test_a_job_embeds_its_candidates_outside_the_runner_thread(client, embedder):
    threads: list[str] = []
    inner = embedder.embed

    def embed(texts):
        threads.append(threading.current_thread().name)
        return inner(texts)

    embedder.embed = embed
    job = await wait_for_job(client, await start_job(client, target=10))
    assert job["status"] == "succeeded" and job["accepted"] == 10
    assert threads and threads.count("request-preparer") >= len(threads) // 2


def test_a_preparer_that_stops_never_leaves_the_runner_waiting():
    def no_pool():
        raise SystemExit("the pool registry went away")  # not an Exception: ends the thread

    preparer = RequestPreparer(Recorder(), no_pool)
    future: concurrent.futures.Future = concurrent.futures.Future()
    preparer.expect(future, PROMPT)
    future.set_result(result("x"))
    assert preparer.take(future) is None
    later: concurrent.futures.Future = concurrent.futures.Future()
    preparer.expect(later, PROMPT)  # closed: not expected, so not waited for
    later.set_result(result("y"))
    assert preparer.take(later) is None
    preparer.close()


def test_a_small_batch_waits_for_more_unless_the_runner_asks():
    recorder = Recorder()
    preparer = RequestPreparer(recorder, lambda: POOL, min_batch=3)
    futures = [concurrent.futures.Future() for _ in range(4)]
    for future in futures:
        preparer.expect(future, PROMPT)
    try:
        futures[0].set_result(result("a"))
        futures[1].set_result(result("b"))
        time.sleep(0.2)
        assert recorder.batches == []  # two of three: waits for a third
        for future, text in zip(futures[2:], "cd", strict=True):
            future.set_result(result(text))
        assert preparer.take(futures[0]).prepared == "a"
        time.sleep(0.1)
        assert recorder.batches[0][:3] == ["a", "b", "c"]  # the first three in one call, at least
        late = concurrent.futures.Future()
        preparer.expect(late, PROMPT)
        late.set_result(result("e"))
        assert preparer.take(late).prepared == "e"  # alone, prepared because the runner asks for it
    finally:
        preparer.close()
