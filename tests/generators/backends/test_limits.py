from __future__ import annotations

import pytest

from generators.backends.limits import CircuitBreaker, CircuitOpenError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_says_why():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.before_request()
        breaker.record_failure(ConnectionError("refused"))
    assert breaker.state == "closed"
    breaker.before_request()
    breaker.record_failure(ConnectionError("refused"))
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError, match=r"3 consecutive failures .*ConnectionError: refused.*10s"):
        breaker.before_request()


def test_a_success_resets_the_count():
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10, clock=Clock())
    breaker.record_failure(RuntimeError("x"))
    breaker.record_success()
    breaker.record_failure(RuntimeError("x"))
    assert breaker.state == "closed"


def test_half_open_lets_one_trial_through():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5, clock=clock)
    breaker.record_failure(RuntimeError("down"))
    clock.now = 5.0
    assert breaker.state == "half_open"
    breaker.before_request()  # the trial
    with pytest.raises(CircuitOpenError):
        breaker.before_request()  # a second caller waits for the trial's verdict
    breaker.record_failure(RuntimeError("still down"))
    assert breaker.state == "open"
    clock.now = 10.0
    breaker.before_request()
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.before_request()


def test_a_cancelled_trial_frees_the_slot():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=1, clock=clock)
    breaker.record_failure(RuntimeError("down"))
    clock.now = 1.0
    breaker.before_request()
    breaker.release_trial()
    breaker.before_request()
