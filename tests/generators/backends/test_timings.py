"""The dispatcher's plain tallies: a cumulative latency histogram and errors by kind."""

from __future__ import annotations

import pytest

from generators.backends.base import RequestRejected, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.fake import FakeBackend
from generators.backends.timings import Latency, error_kind
from generators.prompts import build_prompt

PROMPT = build_prompt(["Name a colour."])


def test_latency_is_cumulative_with_sum_and_count():
    latency = Latency((0.1, 1.0))
    latency.observe(0.05)
    latency.observe(0.1)  # on a bound: counted in it (le)
    latency.observe(0.5, times=2)
    latency.observe(5.0)
    assert latency.cumulative() == [(0.1, 2), (1.0, 4), (float("inf"), 5)]
    assert latency.count == 5 and latency.sum == pytest.approx(6.15)


class APITimeoutError(Exception):
    """Named like the openai client's timeout."""


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (RequestRejected(400, "unknown model"), "rejected"),
        (TimeoutError(), "timeout"),
        (TimeoutError(), "timeout"),
        (APITimeoutError(), "timeout"),
        (ConnectionError("refused"), "server"),
        (RuntimeError("HTTP 503"), "server"),
    ],
)
def test_error_kinds(exc, kind):
    assert error_kind(exc) == kind


class Rejecting(FakeBackend):
    def generate(self, prompt, params):
        raise RequestRejected(400, "prompt too long")


def test_the_dispatcher_tallies_answers_and_failures():
    dispatcher = RequestDispatcher(FakeBackend(), 2)
    rejecting = RequestDispatcher(Rejecting(), 2)
    try:
        for _ in range(3):
            dispatcher.generate(PROMPT, SamplingParams(n=1))
        with pytest.raises(RequestRejected):
            rejecting.generate(PROMPT, SamplingParams(n=1))
    finally:
        dispatcher.close()
        rejecting.close()
    assert dispatcher.tallies.latency.count == 3
    assert dispatcher.tallies.errors() == {"timeout": 0, "rejected": 0, "server": 0}
    assert rejecting.tallies.errors() == {"timeout": 0, "rejected": 1, "server": 0}
    assert rejecting.tallies.latency.count == 0
