"""/metrics parses with the Prometheus text parser and moves with a job."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from generators.backends.fake import FakeBackend
from tests.app.helpers import start_job, wait_for_job


async def scrape(client) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_parse_and_move_with_a_job(client):
    before = await scrape(client)
    assert before[("si_jobs", (("state", "succeeded"),))] == 0
    job = await wait_for_job(client, await start_job(client, target=4))
    after = await scrape(client)
    assert after[("si_jobs", (("state", "succeeded"),))] == 1
    assert after[("si_instructions_accepted_total", ())] == job["accepted"] == 4
    decided = sum(v for (name, _), v in after.items() if name == "si_candidates_decided_total")
    assert decided == job["generated"]
    route = (("method", "POST"), ("route", "/v1/datasets/{name}/jobs"), ("status", "202"))
    assert after[("si_http_request_duration_seconds_count", route)] == 1
    assert ("si_backend_breaker_state", (("state", "closed"),)) in after
    assert after[("si_admission_running", (("kind", "candidates"),))] == 0


def histogram_count(samples: dict, name: str) -> float:
    return samples.get((f"{name}_count", ()), 0.0)


async def test_backend_embedder_and_accepted_tallies_move_with_a_job(client):
    before = await scrape(client)
    assert before[("si_candidates_accepted_total", ())] == 0
    assert histogram_count(before, "si_backend_request_duration_seconds") == 0
    job = await wait_for_job(client, await start_job(client, target=6))
    after = await scrape(client)
    assert after[("si_candidates_accepted_total", ())] == job["accepted"] == 6
    answered = histogram_count(after, "si_backend_request_duration_seconds")
    assert answered >= job["requests"] > 0  # results left over once the target is reached count too
    assert after[("si_backend_request_duration_seconds_bucket", (("le", "+Inf"),))] == answered
    assert after[("si_backend_request_duration_seconds_sum", ())] > 0
    for kind in ("timeout", "rejected", "server"):
        assert after[("si_backend_request_errors_total", (("kind", kind),))] == 0
    batches = histogram_count(after, "si_embedder_batch_duration_seconds")
    texts = histogram_count(after, "si_embedder_text_duration_seconds")
    assert batches > histogram_count(before, "si_embedder_batch_duration_seconds")
    assert texts - histogram_count(before, "si_embedder_text_duration_seconds") >= job["generated"]


async def test_backend_errors_are_counted_by_kind(client_for):
    async with client_for(backend=FakeBackend(fail_every=1)) as client:
        job = await wait_for_job(client, await start_job(client, target=3))
        assert job["status"] == "failed"
        after = await scrape(client)
    assert after[("si_backend_request_errors_total", (("kind", "server"),))] >= 1
    assert after[("si_backend_request_errors_total", (("kind", "rejected"),))] == 0
    assert histogram_count(after, "si_backend_request_duration_seconds") == 0
