from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.jobs.schedules import fire_due
from app.models import Job, Schedule
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

HOURLY = {"dataset": "default", "cron": "0 * * * *", "target": 3}


async def test_create_read_list_pause_resume_delete(client_for):
    async with client_for(workers=False) as client:
        created = await client.post("/v1/schedules", json={**HOURLY, "timezone": "Europe/Paris"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert created.headers["location"] == f"/v1/schedules/{body['id']}"
        assert body["dataset"] == "default" and body["timezone"] == "Europe/Paris" and not body["paused"]
        next_fire = datetime.fromisoformat(body["next_fire_at"])
        now = datetime.now(UTC)
        assert now < next_fire <= now + timedelta(hours=1)
        assert next_fire.minute == 0 and next_fire.second == 0
        assert (await client.get(f"/v1/schedules/{body['id']}")).json() == body
        listed = (await client.get("/v1/schedules", params={"dataset": "default"})).json()
        assert [s["id"] for s in listed] == [body["id"]]
        assert (await client.get("/v1/schedules", params={"dataset": "other"})).json() == []

        paused = (await client.post(f"/v1/schedules/{body['id']}/pause")).json()
        assert paused["paused"] is True
        resumed = (await client.post(f"/v1/schedules/{body['id']}/resume")).json()
        assert resumed["paused"] is False and resumed["next_fire_at"] == body["next_fire_at"]

        assert (await client.delete(f"/v1/schedules/{body['id']}")).status_code == 204
        assert_error(await client.get(f"/v1/schedules/{body['id']}"), 404, "not_found", str(body["id"]))


async def test_bad_schedules_are_refused_and_nothing_is_stored(client_for):
    async with client_for(workers=False) as client:
        cases = [
            ({**HOURLY, "cron": "61 * * * *"}, "cron", "invalid cron expression"),
            ({**HOURLY, "cron": "* * * *"}, "cron", "has 4 fields"),
            ({**HOURLY, "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
            ({**HOURLY, "target": 0}, "target", None),
        ]
        for body, field, mentions in cases:
            error = assert_error(
                await client.post("/v1/schedules", json=body), 422, "validation_error", mentions
            )
            assert error["details"][0]["field"] == field
        assert_error(
            await client.post("/v1/schedules", json={**HOURLY, "dataset": "nope"}),
            422,
            "invalid_input",
            "nope",
        )
        assert_error(await client.post("/v1/schedules/99/pause"), 404, "not_found", "99")
        assert_error(await client.delete("/v1/schedules/99"), 404, "not_found", "99")
        assert (await client.get("/v1/schedules")).json() == []


async def test_each_tick_enqueues_one_job_and_missed_ticks_collapse_into_the_latest(client_for):
    async with client_for(workers=False) as client:
        schedule = (await client.post("/v1/schedules", json=HOURLY)).json()
        engine, settings = client.app_state.engine, client.app_state.settings
        first = datetime.fromisoformat(schedule["next_fire_at"])

        assert fire_due(engine, settings, first - timedelta(seconds=1)) == []
        [job_id] = fire_due(engine, settings, first + timedelta(seconds=5))
        assert fire_due(engine, settings, first + timedelta(seconds=6)) == []  # the same tick again
        # everything was down for three more ticks: one catch-up job, for the latest of them
        [late_id] = fire_due(engine, settings, first + timedelta(hours=3, minutes=10))

        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        assert job["schedule_id"] == schedule["id"] and job["target"] == 3 and job["status"] == "queued"
        assert datetime.fromisoformat(job["fire_time"]) == first
        late = (await client.get(f"/v1/jobs/{late_id}")).json()
        assert datetime.fromisoformat(late["fire_time"]) == first + timedelta(hours=3)
        after = (await client.get(f"/v1/schedules/{schedule['id']}")).json()
        assert datetime.fromisoformat(after["next_fire_at"]) == first + timedelta(hours=4)
        assert datetime.fromisoformat(after["last_fire_at"]) == first + timedelta(hours=3)

        await client.post(f"/v1/schedules/{schedule['id']}/pause")
        assert fire_due(engine, settings, first + timedelta(hours=5)) == []


async def test_deleting_a_schedule_keeps_its_jobs(client_for):
    async with client_for(workers=False) as client:
        schedule = (await client.post("/v1/schedules", json=HOURLY)).json()
        first = datetime.fromisoformat(schedule["next_fire_at"])
        [job_id] = fire_due(client.app_state.engine, client.app_state.settings, first)
        assert (await client.delete(f"/v1/schedules/{schedule['id']}")).status_code == 204
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        assert job["schedule_id"] is None and job["status"] == "queued"
        with Session(client.app_state.engine) as session:
            assert session.exec(select(Schedule)).all() == []
            assert len(session.exec(select(Job)).all()) == 1
