"""Supervised job workers: a database error in ``claim`` or under a running job is survived, the job
finishes from its stored progress, and a loop that keeps failing makes ``/readyz`` say so."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

import app.jobs.worker as worker_module
from app.models import Generation, Instruction
from tests.app.helpers import start_job, wait_for_job
from tests.conftest import assert_error
from tests.postgres import POSTGRES_PARAM, SERVER_URL


def database_lost() -> OperationalError:
    return OperationalError("SELECT job", {}, Exception("server closed the connection unexpectedly"))


def assert_counts_match_rows(client, job: dict) -> None:
    with Session(client.app_state.engine) as session:
        generations = session.exec(select(func.count()).where(Generation.job_id == job["id"])).one()
        candidates = session.exec(select(Instruction).where(Instruction.job_id == job["id"])).all()
    assert generations == job["requests"] * 2
    assert len(candidates) == job["generated"]
    assert sum(1 for c in candidates if c.accepted) == job["accepted"] == job["target"]


@pytest.mark.both_databases
async def test_claim_failing_once_does_not_end_the_worker(client_for, settings, monkeypatch):
    calls = {"n": 0}
    real_claim = worker_module.claim

    def flaky_claim(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise database_lost()
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(worker_module, "claim", flaky_claim)
    fast = settings.model_copy(update={"loop_backoff_s": 0.05})
    async with client_for(settings_=fast) as client:
        first = await wait_for_job(client, await start_job(client, target=3), timeout=20)
        later = await wait_for_job(client, await start_job(client, target=3), timeout=20)
        assert first["status"] == later["status"] == "succeeded"
        health = client.app_state.supervisor.loop("job-worker-0")
        assert health.failures == 1 and health.consecutive == 0
        assert (await client.get("/readyz")).status_code == 200


async def test_a_loop_failing_pass_after_pass_makes_readyz_fail_with_the_reason(
    client_for, settings, monkeypatch
):
    real_claim = worker_module.claim

    def broken_claim(*_args, **_kwargs):
        raise database_lost()

    monkeypatch.setattr(worker_module, "claim", broken_claim)
    fast = settings.model_copy(update={"loop_backoff_s": 0.01, "loop_backoff_max_s": 0.02})
    fast = fast.model_copy(update={"loop_unready_after": 3})
    async with client_for(settings_=fast) as client:
        health = client.app_state.supervisor.loop("job-worker-0")
        for _ in range(200):
            if health.consecutive >= 3:
                break
            await asyncio.sleep(0.01)
        assert_error(await client.get("/readyz"), 503, "not_ready", "job-worker-0 failed")
        monkeypatch.setattr(worker_module, "claim", real_claim)  # the database is back
        job = await wait_for_job(client, await start_job(client, target=2), timeout=20)
        assert job["status"] == "succeeded"
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize("database_url", [POSTGRES_PARAM], indirect=True)
async def test_terminated_database_connections_under_a_running_job(client_for, settings, database_url):
    """Every connection of the service is killed by ``pg_terminate_backend`` while a request's rows
    are being written: the transaction is lost, the worker resumes and the job finishes exactly."""
    application = f"si_kill_{uuid.uuid4().hex[:8]}"
    url = f"{database_url}&application_name={application}"
    ours = settings.model_copy(update={"database_url": url, "loop_backoff_s": 0.05})
    async with client_for(settings_=ours) as client:
        engine = client.app_state.engine
        killed = {"n": 0}

        def kill_on_ledger_insert(_conn, _cursor, statement, *_rest) -> None:
            if killed["n"] == 0 and statement.lstrip().upper().startswith("INSERT INTO GENERATION"):
                killed["n"] += 1
                with psycopg.connect(SERVER_URL, autocommit=True) as admin:
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (application,),
                    )

        event.listen(engine, "before_cursor_execute", kill_on_ledger_insert)
        job = await wait_for_job(client, await start_job(client, target=6), timeout=60)
        assert killed["n"] == 1
        assert job["status"] == "succeeded", job
        assert_counts_match_rows(client, job)
        assert client.app_state.supervisor.loop("job-worker-0").failures >= 1
        later = await wait_for_job(client, await start_job(client, target=3), timeout=60)
        assert later["status"] == "succeeded"
