from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.core.db import make_engine
from app.models import Generation
from generators.backends.fake import FakeBackend
from tests.app.helpers import all_instructions, start_job, wait_for_job
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


async def test_job_reaches_its_target_with_full_decision_data(client):
    location = await start_job(client, target=10)
    job = await wait_for_job(client, location)
    assert job["status"] == "succeeded"
    assert job["accepted"] == 10
    assert job["counts"]["decisions"]["accepted"] == 10
    assert job["generated"] == job["accepted"] + job["rejected"]
    assert sum(job["counts"]["decisions"].values()) == job["generated"]
    assert job["counts"]["classification"] == job["counts"]["instance_decisions"] == {}
    accepted = await all_instructions(client, decision="accepted", origin="generated")
    assert len(accepted) == 10
    for item in accepted:
        assert item["job_id"] == job["id"] and item["generation_id"] is not None
        assert item["rule"] is None
        assert 0.0 <= item["max_rouge_l"] <= 0.7 and item["rouge_neighbor_id"] is not None
        assert item["max_cosine"] <= 0.85 and item["cosine_neighbor_id"] is not None


async def test_every_rejection_has_a_rule_and_the_job_counts_match(client):
    job = await wait_for_job(client, await start_job(client, target=20))
    rejected = await all_instructions(client, decision="rejected")
    assert len(rejected) == job["rejected"]
    by_rule: dict[str, int] = {}
    for item in rejected:
        assert item["rule"] and item["detail"]
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    assert by_rule == {k: v for k, v in job["counts"]["decisions"].items() if k != "accepted"}


async def test_generation_ledger_records_each_completion(client):
    job = await wait_for_job(client, await start_job(client, target=3))
    ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
    assert len(ledger) == job["requests"] * 2  # samples_per_prompt defaults to 2
    first = ledger[0]
    assert first["model_id"] == "fake"
    assert first["prompt"].startswith("Come up with a series of tasks:")
    assert first["params"]["n"] == 2 and first["params"]["max_tokens"] == 256
    assert first["completion"] and first["finish_reason"] in ("stop", "length")
    assert first["completion_tokens"] > 0 and first["prompt_tokens"] > 0


async def test_a_requests_prompt_is_stored_once_and_shown_with_each_sample(client, settings):
    job = await wait_for_job(client, await start_job(client, target=20))
    assert job["requests"] >= 2
    page = await client.get(f"/v1/jobs/{job['id']}/generations", params={"limit": 3})  # splits a request
    cursor = page.headers["x-next-cursor"]
    ledger = (
        page.json()
        + (await client.get(f"/v1/jobs/{job['id']}/generations", params={"cursor": cursor})).json()
    )
    assert len(ledger) == 2 * job["requests"]
    assert all(g["prompt"].startswith("Come up with a series of tasks:") for g in ledger)
    assert [g["prompt"] for g in ledger[0::2]] == [g["prompt"] for g in ledger[1::2]]  # 2 samples a request
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        rows = session.exec(
            select(Generation).where(Generation.job_id == job["id"]).order_by(Generation.id)
        ).all()
    engine.dispose()
    assert [r.prompt is not None for r in rows] == [True, False] * job["requests"]
    assert [r.prompt_in for r in rows[1::2]] == [r.id for r in rows[0::2]]


async def test_truncated_completion_loses_only_its_last_item(client_for):
    script = [
        (
            " Describe the water cycle to a curious child.\n10. Suggest a name for a bakery that sells",
            "length",
        ),
    ]
    async with client_for(backend=FakeBackend(script=script)) as client:
        job = await wait_for_job(client, await start_job(client, target=1))
        assert job["status"] == "succeeded"
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert ledger[0]["parse_dropped"][0]["reason"] == "truncated"
        accepted = await all_instructions(client, origin="generated")
        assert [i["instruction"] for i in accepted] == ["Describe the water cycle to a curious child."]


async def test_backend_failure_fails_the_job_with_its_reason(client_for):
    async with client_for(backend=FakeBackend(fail_every=1)) as client:
        job = await wait_for_job(client, await start_job(client, target=2))
        assert job["status"] == "failed"
        assert "backend error" in job["error"] and "fake backend failure" in job["error"]
        assert await all_instructions(client, origin="generated", decision="all") == []


async def test_garbage_output_spends_the_budget_and_says_so(client_for):
    async with client_for(backend=FakeBackend(script=["!!!", "", "ok"])) as client:
        job = await wait_for_job(client, await start_job(client, target=2, max_requests=3))
        assert job["status"] == "failed"
        assert "request budget spent: 0 of 2 accepted after 3 requests" in job["error"]
        assert job["requests"] == 3 and job["accepted"] == 0


async def test_cancel_queued_job_and_conflict_on_finished(client_for):
    async with client_for(workers=False) as client:
        location = await start_job(client, target=2)
        cancelled = (await client.post(f"{location}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        assert_error(await client.post(f"{location}/cancel"), 409, "conflict", "cancelled")


async def test_cancel_running_job_keeps_what_it_stored(client_for):
    async with client_for(backend=FakeBackend(delay_s=0.2)) as client:
        location = await start_job(client, target=10000, max_requests=10000)
        worker = client.app_state.jobs.worker
        await client.post(f"{location}/cancel")
        job = await wait_for_job(client, location)
        assert worker is not None and job["status"] == "cancelled"
        stored = await all_instructions(client, origin="generated", decision="all")
        assert len(stored) == job["generated"]


async def test_job_input_errors(client):
    assert_error(await client.post("/v1/datasets/nope/jobs", json={"target": 1}), 404, "not_found", "nope")
    error = assert_error(
        await client.post("/v1/datasets/default/jobs", json={"target": 0}), 422, "validation_error"
    )
    assert error["details"][0]["field"] == "target"
    assert_error(await client.get("/v1/jobs/999"), 404, "not_found", "999")
    assert_error(await client.get("/v1/jobs", params={"state": "weird"}), 422, "invalid_input", "weird")


async def test_list_jobs_by_dataset_and_state(client_for):
    async with client_for(workers=False) as client:
        await start_job(client, target=1)
        await start_job(client, target=2)
        jobs = (await client.get("/v1/jobs", params={"dataset": "default", "state": "queued"})).json()
        assert [j["target"] for j in jobs] == [2, 1]
