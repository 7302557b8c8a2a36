from __future__ import annotations

import json

import pytest

from generators.backends.fake import FakeBackend
from tests.app.helpers import start_job
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


def parse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":")
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_events_stream_progress_until_the_job_ends(client_for, settings):
    # one request in flight: each result is its own locked section, so progress shows between them
    fast_polls = settings.model_copy(update={"events_poll_s": 0.05, "max_in_flight": 1})
    async with client_for(backend=FakeBackend(delay_s=0.5), settings_=fast_polls) as client:
        location = await start_job(client, target=12)
        response = await client.get(f"{location}/events", timeout=120)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_events(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "end" and set(names[:-1]) == {"progress"}
    end = events[-1][1]
    assert end["status"] == "succeeded" and end["accepted"] == 12
    accepted = [data["accepted"] for _, data in events]
    assert accepted == sorted(accepted)
    assert any(0 < n < 12 for n in accepted)  # it saw progress on the way
    assert events[-2][1] == end  # the last progress event is the final state


async def test_events_of_a_finished_job_and_of_a_missing_one(client_for):
    async with client_for(workers=False) as client:
        location = await start_job(client, target=2)
        await client.post(f"{location}/cancel")
        events = parse_events((await client.get(f"{location}/events")).text)
        assert [(name, data["status"]) for name, data in events] == [
            ("progress", "cancelled"),
            ("end", "cancelled"),
        ]
        assert_error(await client.get("/v1/jobs/999/events"), 404, "not_found", "999")
