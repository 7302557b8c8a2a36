"""/metrics parses with the Prometheus text parser and moves with a job."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

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
