from __future__ import annotations

from app.core.settings import Settings
from app.jobs.counters import JobCounts
from app.jobs.request_sizing import job_warnings, request_notes, wanted_in_flight
from generators.backends.base import Completion, GenerationResult, SamplingParams


def settings(**values) -> Settings:
    return Settings(**{"backend": "fake", "max_in_flight": 32, "_env_file": None, **values})


def test_a_fresh_job_starts_small_and_doubles_with_each_result():
    s = settings()
    assert [wanted_in_flight(s, 1000, 0, r) for r in range(5)] == [4, 8, 16, 32, 32]


def test_the_window_follows_the_remaining_target_over_the_measured_yield():
    s = settings()
    assert wanted_in_flight(s, 13, 7, 1) == 5  # yield (7+1)/(1+1) = 4: 1.5 * 13 / 4 -> 5
    assert wanted_in_flight(s, 1, 19, 3) == 1
    assert wanted_in_flight(s, 0, 20, 3) == 0
    assert wanted_in_flight(s, 50, 0, 10) == 32  # nothing accepted yet: as many as allowed


def test_fixed_sizing_keeps_the_limit():
    assert wanted_in_flight(settings(request_sizing="fixed"), 1, 19, 3) == 32


def result(texts: list[str], extra: dict | None = None) -> GenerationResult:
    return GenerationResult("p", [Completion(t, "stop", 1) for t in texts], 1, "m", 0.0, extra or {})


def test_notes_and_warnings_name_what_the_server_ignored():
    params = SamplingParams(n=2, temperature=0.7)
    assert request_notes(result(["a", "b"]), params) == []
    notes = request_notes(result(["same", "same"], {"n_returned": 1, "server_requests": 2}), params)
    assert notes == ["n_ignored", "identical_samples"]
    assert request_notes(result(["same", "same"]), SamplingParams(n=2, temperature=0.0)) == []
    counts = JobCounts()
    counts.add_all("requests", notes)
    assert len(job_warnings(counts)) == 2 and job_warnings(JobCounts()) == []
