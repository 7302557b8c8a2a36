"""Faults a model server shows, injected by a real HTTP server and met through the real ``openai``
client: each job finishes or fails with a stated reason, and nothing is half-stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.core.settings import Settings
from app.models import Generation, Instruction, Job
from generators.backends.openai_backend import OpenAIBackend
from tests.app.helpers import start_job, wait_for_job
from tests.conftest import assert_error
from tests.support.fake_openai_server import FakeOpenAIServer


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(slow_s=60) as fake:
        yield fake


def fault_settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "database_url": f"sqlite:///{tmp_path}/faults.db",
        "backend": "fake",
        "worker_poll_s": 0.05,
        "max_in_flight": 4,
        "_env_file": None,
    }
    return Settings(**{**values, **overrides})


def openai_backend(server: FakeOpenAIServer, timeout_s: float = 20.0, max_retries: int = 0) -> OpenAIBackend:
    return OpenAIBackend(server.base_url, "fake-model", timeout_s=timeout_s, max_retries=max_retries)


def assert_nothing_half_stored(client, job: dict) -> None:
    """The job's counters agree with its stored rows: every request's samples, every decided candidate."""
    with Session(client.app_state.engine) as session:
        generations = session.exec(select(func.count()).where(Generation.job_id == job["id"])).one()
        candidates = session.exec(select(Instruction).where(Instruction.job_id == job["id"])).all()
        stored = session.get(Job, job["id"])
    assert generations == job["requests"] * 2  # two samples per request
    assert len(candidates) == job["generated"] == stored.generated
    assert sum(1 for c in candidates if c.accepted) == job["accepted"]
    assert all(c.generation_id is not None for c in candidates)


async def test_a_healthy_server_fills_the_job_and_the_ledger(client_for, server, tmp_path):
    async with client_for(backend=openai_backend(server), settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=8))
        assert job["status"] == "succeeded" and job["accepted"] == 8, job
        assert job["prompt_tokens"] > 0 and job["completion_tokens"] > 0
        assert job["tokens_per_accepted"] == round((job["prompt_tokens"] + job["completion_tokens"]) / 8, 2)
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert {g["model_id"] for g in ledger} == {"fake-model"}
        assert all(g["params"]["max_tokens"] == 256 for g in ledger)
        assert server.bodies[0]["max_tokens"] == 256 and server.bodies[0]["n"] == 2
        assert_nothing_half_stored(client, job)


async def test_engine_dead_500_fails_the_job_with_the_reason(client_for, server, tmp_path):
    server.default = "500"
    async with client_for(
        backend=openai_backend(server, max_retries=1), settings_=fault_settings(tmp_path)
    ) as client:
        job = await wait_for_job(client, await start_job(client, target=3))
        assert job["status"] == "failed"
        assert (
            job["error"].startswith("backend error: InternalServerError")
            and "EngineDeadError" in job["error"]
        )
        assert job["requests"] == 0
        assert_nothing_half_stored(client, job)


async def test_429_and_a_dropped_connection_are_retried_by_the_client(client_for, server, tmp_path):
    server.set_script(["429", "drop", "429"])
    settings = fault_settings(tmp_path, max_in_flight=1)
    async with client_for(backend=openai_backend(server, max_retries=3), settings_=settings) as client:
        job = await wait_for_job(client, await start_job(client, target=2))
        assert job["status"] == "succeeded", job
        assert server.stats.requests >= job["requests"] + 3
        assert_nothing_half_stored(client, job)


async def test_a_dropped_connection_without_retries_fails_the_job(client_for, server, tmp_path):
    server.default = "drop"
    async with client_for(backend=openai_backend(server), settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=2))
        assert job["status"] == "failed" and "backend error: APIConnectionError" in job["error"]
        assert_nothing_half_stored(client, job)


async def test_a_server_slower_than_the_timeout_fails_the_job(client_for, server, tmp_path):
    server.default = "slow"
    backend = openai_backend(server, timeout_s=0.5)
    async with client_for(backend=backend, settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=2))
        assert job["status"] == "failed" and "backend error: APITimeoutError" in job["error"]
        assert_nothing_half_stored(client, job)


async def test_truncated_completions_lose_only_their_unfinished_item(client_for, server, tmp_path):
    server.default = "length"
    async with client_for(backend=openai_backend(server), settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=3))
        assert job["status"] == "succeeded", job
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert {g["finish_reason"] for g in ledger} == {"length"}
        assert all(any(d["reason"] == "truncated" for d in g["parse_dropped"]) for g in ledger)
        assert_nothing_half_stored(client, job)


@pytest.mark.parametrize("behaviour", ["malformed", "empty"])
async def test_unusable_text_spends_the_budget_and_says_so(client_for, server, tmp_path, behaviour):
    server.default = behaviour
    async with client_for(backend=openai_backend(server), settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=2, max_requests=5))
        assert job["status"] == "failed"
        assert job["error"] == "request budget spent: 0 of 2 accepted after 5 requests"
        assert job["requests"] == 5 and job["accepted"] == 0
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert len(ledger) == 10
        if behaviour == "empty":
            assert all(g["parse_dropped"][0]["reason"] == "empty_completion" for g in ledger)
        else:  # parsed into a candidate that a heuristic rejects, with its rule
            assert job["generated"] == job["rejected"] == 10
            decisions = job["counts"]["decisions"]
            assert "accepted" not in decisions and sum(decisions.values()) == 10
        assert_nothing_half_stored(client, job)


async def test_the_circuit_opens_and_jobs_fail_fast_while_it_is_open(client_for, server, tmp_path):
    server.default = "500"
    settings = fault_settings(tmp_path, max_in_flight=1, breaker_failures=2, breaker_cooldown_s=600)
    async with client_for(backend=openai_backend(server), settings_=settings) as client:
        for _ in range(2):
            job = await wait_for_job(client, await start_job(client, target=1))
            assert job["error"].startswith("backend error: InternalServerError")
        seen = server.stats.requests
        job = await wait_for_job(client, await start_job(client, target=1))
        assert job["status"] == "failed"
        assert job["error"].startswith(
            "backend unavailable: backend circuit open after 2 consecutive failures"
        )
        assert server.stats.requests == seen  # nothing reached the server
        ready = (await client.get("/readyz")).json()
        assert ready["backend_circuit"] == "open" and ready["requests_in_flight"] == 0
        assert_nothing_half_stored(client, job)


async def test_cancelling_a_job_aborts_its_requests_in_flight(client_for, server, tmp_path):
    server.default = "slow"
    settings = fault_settings(tmp_path, max_in_flight=3)
    async with client_for(backend=openai_backend(server, timeout_s=120), settings_=settings) as client:
        location = await start_job(client, target=5)
        for _ in range(3000):
            if server.stats.requests >= 3:
                break
            await asyncio.sleep(0.01)
        assert server.stats.requests == 3
        assert (await client.post(f"{location}/cancel")).status_code == 202
        job = await wait_for_job(client, location)
        assert job["status"] == "cancelled" and job["requests"] == 0
        for _ in range(3000):  # the server notices the closed connections
            if server.cancelled >= 3:
                break
            await asyncio.sleep(0.01)
        assert server.cancelled == 3
        assert_nothing_half_stored(client, job)


async def test_a_full_queue_answers_429(client_for, tmp_path):
    settings = fault_settings(tmp_path, max_queued_jobs=2)
    async with client_for(settings_=settings, workers=False) as client:
        for _ in range(2):
            await start_job(client, target=1)
        response = await client.post("/v1/datasets/default/jobs", json={"target": 1})
        error = assert_error(response, 429, "queue_full", "queue is full")
        assert error["details"] == {"queued": 2, "limit": 2}
        assert response.headers["retry-after"] == "5"
        assert len((await client.get("/v1/jobs")).json()) == 2


async def test_cost_is_recorded_per_completion_when_prices_are_set(client_for, server, tmp_path):
    settings = fault_settings(tmp_path, prompt_price_per_mtok=1.0, completion_price_per_mtok=4.0)
    async with client_for(backend=openai_backend(server), settings_=settings) as client:
        job = await wait_for_job(client, await start_job(client, target=3))
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        for row in ledger:
            prompt = row["prompt_tokens"] if row["sample_index"] == 0 else 0
            assert row["cost"] == pytest.approx((prompt * 1.0 + row["completion_tokens"] * 4.0) / 1e6)
        assert job["cost"] == pytest.approx(sum(row["cost"] for row in ledger))
        assert job["cost_per_accepted"] == pytest.approx(job["cost"] / job["accepted"])


async def test_without_prices_no_cost_is_claimed(client_for, tmp_path):
    async with client_for(settings_=fault_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=2))
        assert job["cost"] is None and job["cost_per_accepted"] is None
        assert job["tokens_per_accepted"] > 0
