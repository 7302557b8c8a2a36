"""Jobs against OpenAI-compatible servers that are not vLLM: a real HTTP server (the fake one, with the
traits of ``transformers serve``) met through the real ``openai`` client and the real app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.backend import BackendService
from app.core.settings import Settings
from generators.backends.openai_backend import OpenAIBackend
from generators.backends.server_pool import ServerPoolBackend
from tests.app.helpers import start_job, wait_for_job
from tests.support.fake_openai_server import FakeOpenAIServer

MODEL = "served-model"


@pytest.fixture
def strict_server() -> Iterator[FakeOpenAIServer]:
    """Rejects unknown fields, ignores n and the sampling settings, does not abort on disconnect."""
    with FakeOpenAIServer(
        strict_fields=True,
        ignore_n=True,
        ignore_sampling=True,
        abort_on_disconnect=False,
        pinned_model=MODEL,
    ) as fake:
        yield fake


def server_settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "database_url": f"sqlite:///{tmp_path}/servers.db",
        "backend": "fake",
        "worker_poll_s": 0.05,
        "max_in_flight": 4,
        "_env_file": None,
    }
    return Settings(**{**values, **overrides})


def backend_for(server: FakeOpenAIServer, model: str = MODEL, **options) -> OpenAIBackend:
    return OpenAIBackend(server.base_url, model, **{"timeout_s": 20.0, "max_retries": 0, **options})


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
async def test_jobs_succeed_on_a_strict_server_that_ignores_n(client_for, strict_server, tmp_path, endpoint):
    backend = backend_for(strict_server, endpoint=endpoint)
    async with client_for(backend=backend, settings_=server_settings(tmp_path)) as client:
        job = await wait_for_job(client, await start_job(client, target=5))
        assert job["status"] == "succeeded" and job["accepted"] == 5, job
        assert all("extra_body" not in b and "continue_final_message" not in b for b in strict_server.bodies)
        if endpoint == "chat":
            assert all(m["role"] == "user" for b in strict_server.bodies for m in b["messages"])
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert len(ledger) == 2 * job["requests"]  # n = 2 made up although the server returns one
        assert {g["params"]["n_returned"] for g in ledger} == {1}
        assert {g["params"]["server_requests"] for g in ledger} == {2}
        assert job["counts"]["requests"]["n_ignored"] == job["requests"]
        assert any("fewer samples than n" in w for w in job["warnings"])
        assert any("ignore seed/temperature" in w for w in job["warnings"])
        assert (await client.get("/readyz")).status_code == 200


async def test_a_vllm_server_gets_the_list_continued(client_for, tmp_path):
    with FakeOpenAIServer(vllm=True, pinned_model=MODEL) as server:
        async with client_for(backend=backend_for(server), settings_=server_settings(tmp_path)) as client:
            job = await wait_for_job(client, await start_job(client, target=3))
            assert job["status"] == "succeeded" and job["warnings"] == [], job
        body = server.bodies[0]
        assert body["continue_final_message"] is True and body["messages"][-1]["role"] == "assistant"


async def test_a_wrong_model_fails_the_job_at_once_in_the_servers_words(client_for, strict_server, tmp_path):
    backend = backend_for(strict_server, model="wrong-model")
    settings = server_settings(tmp_path, breaker_failures=1)
    async with client_for(backend=backend, settings_=settings) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "does not serve model 'wrong-model'" in ready.json()["error"]["message"]
        assert MODEL in ready.json()["error"]["message"]
        job = await wait_for_job(client, await start_job(client, target=3))
        assert job["status"] == "failed" and job["requests"] == 0
        assert job["error"] == (
            "model server rejected the request (HTTP 400): "
            "Server is pinned to 'served-model'; requested 'wrong-model'"
        )
        assert client.app_state.backend.dispatcher.breaker.state == "closed"
        assert strict_server.stats.requests == 0  # refused before any generation started


async def wait_for(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_killed_server_fails_the_job_and_a_restarted_one_serves_the_next(client_for, tmp_path):
    settings = server_settings(tmp_path, max_in_flight=32, breaker_failures=3, breaker_cooldown_s=0.2)
    with FakeOpenAIServer(latency_s=0.3, pinned_model=MODEL) as server:
        async with client_for(backend=backend_for(server), settings_=settings) as client:
            location = await start_job(client, target=2000, max_requests=5000)
            await wait_for(lambda: server.stats.served >= 3)
            server.kill()
            job = await wait_for_job(client, location)
            # the requests in flight die with the connection, or get the dying server's 500
            assert job["status"] == "failed" and job["error"].startswith(
                ("backend error: APIConnectionError", "backend error: InternalServerError")
            )
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and "unreachable" in ready.json()["error"]["message"]
            breaker = client.app_state.backend.dispatcher.breaker
            for _ in range(5):  # a response that landed just before the kill may be recorded after the
                if breaker.state != "closed":  # failures and close the circuit: fail jobs until it opens
                    break
                failed = await wait_for_job(client, await start_job(client, target=40))
                assert failed["status"] == "failed" and failed["error"].startswith("backend error:")
            assert breaker.state in ("open", "half_open")

            server.start()  # the same port, as a restarted server
            await wait_for(lambda: breaker.state == "half_open")
            served = server.stats.served
            job = await wait_for_job(client, await start_job(client, target=40))
            assert job["status"] == "succeeded" and job["accepted"] == 40, job
            assert breaker.state == "closed" and server.stats.served > served
            assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize("sizing", ["fixed", "yield"])
async def test_a_small_job_keeps_in_flight_what_it_can_use(client_for, tmp_path, sizing):
    settings = server_settings(tmp_path, max_in_flight=32, request_sizing=sizing)
    with FakeOpenAIServer(latency_s=0.3, pinned_model=MODEL, abort_on_disconnect=False) as server:
        async with client_for(backend=backend_for(server), settings_=settings) as client:
            job = await wait_for_job(client, await start_job(client, target=5))
            assert job["status"] == "succeeded", job
            cancelled = job["counts"]["requests"].get("cancelled", 0)
            assert server.stats.requests <= job["requests"] + cancelled
            if sizing == "fixed":  # the whole window went out, nearly all of it unused
                assert cancelled >= 32 - job["requests"] and server.stats.requests > 20
            else:
                assert server.stats.requests <= 4 and cancelled <= 4 - job["requests"]


def pool_of(*servers: FakeOpenAIServer, limit: int = 4) -> ServerPoolBackend:
    return ServerPoolBackend([backend_for(s) for s in servers], limit, failure_threshold=2, cooldown_s=60)


async def test_a_job_spreads_over_two_servers_and_carries_on_when_one_is_killed(client_for, tmp_path):
    settings = server_settings(tmp_path, max_in_flight=4)
    with (
        FakeOpenAIServer(latency_s=0.2, pinned_model=MODEL) as first,
        FakeOpenAIServer(latency_s=0.2, pinned_model=MODEL) as second,
    ):
        async with client_for(backend=pool_of(first, second), settings_=settings) as client:
            assert client.app_state.backend.dispatcher.max_in_flight == 8
            job = await wait_for_job(client, await start_job(client, target=30))
            assert job["status"] == "succeeded", job
            assert first.stats.served > 0 and second.stats.served > 0
            ready = (await client.get("/readyz")).json()
            assert [s["circuit"] for s in ready["model_servers"]] == ["closed", "closed"]

            before = (first.stats.served, second.stats.served)
            location = await start_job(client, target=120, max_requests=2000)
            await wait_for(
                lambda: (first.stats.served, second.stats.served) >= (before[0] + 2, before[1] + 2)
            )
            first.kill()
            served = second.stats.served
            job = await wait_for_job(client, location)
            assert job["status"] == "succeeded" and job["accepted"] == 120, job
            assert second.stats.served > served
            ready = (await client.get("/readyz")).json()  # ready: one server still serves the model
            assert [s["circuit"] for s in ready["model_servers"]] == ["open", "closed"]


def test_several_base_urls_build_a_pool_with_a_limit_and_breaker_each(tmp_path):
    settings = server_settings(
        tmp_path,
        backend="openai",
        openai_base_urls="http://a:8000/v1, http://b:8000/v1",
        openai_model=MODEL,
        max_in_flight=3,
    )
    service = BackendService.from_settings(settings)
    pool = service.backend
    assert isinstance(pool, ServerPoolBackend)
    assert [s.name for s in pool.servers] == ["http://a:8000/v1", "http://b:8000/v1"]
    assert [s.limit for s in pool.servers] == [3, 3] and service.dispatcher.max_in_flight == 6
    assert pool.servers[0].breaker is not pool.servers[1].breaker
