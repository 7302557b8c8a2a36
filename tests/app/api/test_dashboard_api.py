"""The API the dashboard reads besides the existing routes: ``GET /v1/auth``, a job's timeline and its
requests in flight, one instruction by id."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest
from sqlmodel import Session

from app.core import auth
from app.models import Dataset, Instruction, Job
from generators.backends.fake import FakeBackend
from tests.app.helpers import start_job, wait_for_job
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


class GatedBackend(FakeBackend):
    """The fake backend whose calls wait until the test opens the gate: requests stay in flight."""

    def __init__(self) -> None:
        super().__init__(seed=3)
        self.gate = threading.Event()

    def generate(self, prompt, params):  # type: ignore[no-untyped-def]
        self.gate.wait(30)
        return super().generate(prompt, params)


async def poll_job(client, location: str, until, timeout: float = 30.0) -> dict:
    """The job as soon as ``until(job)`` holds (read through the API)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await client.get(location)).json()
        if until(job):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


async def test_auth_says_whether_keys_are_required_and_the_scope(client):
    assert (await client.get("/v1/auth")).json() == {"keys_required": False, "scope": "admin"}
    with Session(client.app_state.engine) as session:
        _, read_key = auth.create_key(session, "dashboard", "read")
        _, write_key = auth.create_key(session, "pipeline", "write")
    client.app_state.keys.forget()
    assert_error(await client.get("/v1/auth"), 401, "unauthorized")
    assert_error(
        await client.get("/v1/auth", headers={"authorization": "Bearer si_nope"}), 401, "unauthorized"
    )
    for key, scope in ((read_key, "read"), (write_key, "write")):
        answer = await client.get("/v1/auth", headers={"authorization": f"Bearer {key}"})
        assert answer.json() == {"keys_required": True, "scope": scope}
    read_only = {"authorization": f"Bearer {read_key}"}
    review = {"instruction_id": 1, "state": "approved", "reviewer": "ann"}
    assert_error(
        await client.post("/v1/datasets/default/reviews", json=review, headers=read_only), 403, "forbidden"
    )


async def test_a_running_job_reports_its_requests_in_flight_then_zero(client_for):
    backend = GatedBackend()
    async with client_for(backend=backend) as client:
        try:
            location = await start_job(client, target=3, max_requests=50)
            running = await poll_job(client, location, lambda j: j["in_flight"] > 0)
            assert running["status"] == "running" and running["requests"] == 0
            with Session(client.app_state.engine) as session:  # stored on the row: any process reports it
                assert session.get(Job, running["id"]).in_flight == running["in_flight"]
        finally:
            backend.gate.set()
        done = await wait_for_job(client, location)
        assert done["status"] == "succeeded" and done["in_flight"] == 0
        with Session(client.app_state.engine) as session:
            assert session.get(Job, done["id"]).in_flight == 0


async def test_a_cancelled_job_has_nothing_in_flight(client_for):
    backend = GatedBackend()
    async with client_for(backend=backend) as client:
        try:
            location = await start_job(client, target=3, max_requests=50)
            await poll_job(client, location, lambda j: j["in_flight"] > 0)
            await client.post(f"{location}/cancel")
            cancelled = await poll_job(client, location, lambda j: j["status"] == "cancelled")
        finally:
            backend.gate.set()
        assert cancelled["in_flight"] == 0
        with Session(client.app_state.engine) as session:
            assert session.get(Job, cancelled["id"]).in_flight == 0


def timeline_by_hand(decisions: list[tuple[bool, str | None]], window: int) -> list[dict]:
    windows = []
    for index, start in enumerate(range(0, len(decisions), window)):
        chunk = decisions[start : start + window]
        rejections: dict[str, int] = {}
        for accepted, rule in chunk:
            if not accepted:
                rejections[rule or "unknown"] = rejections.get(rule or "unknown", 0) + 1
        ordered = dict(sorted(rejections.items(), key=lambda item: (-item[1], item[0])))
        windows.append(
            {
                "index": index,
                "decided": len(chunk),
                "accepted": sum(a for a, _ in chunk),
                "rejections": ordered,
            }
        )
    return windows


async def test_the_timeline_is_counted_per_window_as_by_hand(client_for):
    async with client_for(workers=False) as client:
        rng = random.Random(5)
        rules = ["rouge_l", "statement", "embedding", None]
        with Session(client.app_state.engine) as session:
            dataset = Dataset(name="timeline")
            session.add(dataset)
            session.flush()
            job, other = (Job(dataset_id=dataset.id, target=9, max_requests=9) for _ in range(2))
            session.add_all([job, other])
            session.flush()
            decisions = []
            for i in range(137):
                accepted = rng.random() < 0.4
                rule = None if accepted else rng.choice(rules)
                decisions.append((accepted, rule))
                session.add(
                    Instruction(
                        dataset_id=dataset.id,
                        origin="generated",
                        instruction=f"task {i}",
                        accepted=accepted,
                        rule=rule,
                        job_id=job.id,
                    )
                )
                session.add(
                    Instruction(
                        dataset_id=dataset.id,
                        origin="generated",
                        instruction=f"other {i}",
                        accepted=False,
                        rule="exact_duplicate",
                        job_id=other.id,
                    )
                )
            session.commit()
            job_id, dataset_id = job.id, dataset.id
        for window in (1, 20, 50, 137, 1000):
            answer = (await client.get(f"/v1/jobs/{job_id}/timeline", params={"window": window})).json()
            assert answer == {"job": job_id, "window": window, "windows": timeline_by_hand(decisions, window)}
        default = (await client.get(f"/v1/jobs/{job_id}/timeline")).json()
        assert default["window"] == 20 and len(default["windows"]) == 7
        # kept until the job has a new candidate (app/datasets/stats_cache.py), then counted again
        hits = client.app_state.stats_cache.hits
        assert (await client.get(f"/v1/jobs/{job_id}/timeline")).json() == default
        assert client.app_state.stats_cache.hits == hits + 1
        with Session(client.app_state.engine) as session:
            session.add(
                Instruction(
                    dataset_id=dataset_id,
                    origin="generated",
                    instruction="late",
                    accepted=True,
                    job_id=job_id,
                )
            )
            session.commit()
        decisions.append((True, None))
        later = (await client.get(f"/v1/jobs/{job_id}/timeline")).json()
        assert later["windows"] == timeline_by_hand(decisions, 20)
        assert_error(await client.get("/v1/jobs/987654/timeline"), 404, "not_found", "987654")
        for bad in (0, 100001, "x"):
            assert_error(
                await client.get(f"/v1/jobs/{job_id}/timeline", params={"window": bad}),
                422,
                "validation_error",
            )


async def test_one_instruction_by_id_and_404_outside_its_dataset(client):
    listed = (await client.get("/v1/datasets/default/instructions", params={"limit": 2})).json()["items"]
    first = listed[0]
    one = await client.get(f"/v1/datasets/default/instructions/{first['id']}")
    assert one.status_code == 200 and one.json() == first
    await client.post("/v1/datasets", json={"name": "elsewhere"})
    assert_error(
        await client.get(f"/v1/datasets/elsewhere/instructions/{first['id']}"), 404, "not_found", "elsewhere"
    )
    assert_error(await client.get("/v1/datasets/default/instructions/987654"), 404, "not_found", "987654")
    assert_error(await client.get("/v1/datasets/default/instructions/0"), 422, "validation_error")
