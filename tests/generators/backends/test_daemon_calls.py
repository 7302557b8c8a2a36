"""Blocking model calls in daemon threads: a cancelled caller abandons the call, and the call is told."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from generators.backends.base import call_abandoned, in_daemon_thread, running_model_calls


def wait_until_told(started: threading.Event, seen: list[bool]) -> str:
    abandoned = call_abandoned()
    assert abandoned is not None
    started.set()
    seen.append(abandoned.wait(10))  # a model stopping early checks the event as it generates
    return "late result"


async def test_a_cancelled_caller_tells_the_call_it_is_abandoned():
    started, seen = threading.Event(), []
    task = asyncio.create_task(in_daemon_thread(wait_until_told, started, seen))
    await asyncio.to_thread(started.wait, 5)
    assert running_model_calls() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 5
    while running_model_calls() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert seen == [True] and running_model_calls() == 0


async def test_a_call_that_is_awaited_is_not_abandoned_and_gives_its_result():
    def answer() -> tuple[str, bool]:
        abandoned = call_abandoned()
        return "result", abandoned is not None and abandoned.is_set()

    assert await in_daemon_thread(answer) == ("result", False)
    assert call_abandoned() is None  # outside a model call there is nothing to watch
