from __future__ import annotations

import pytest

from tests.app.helpers import start_job, wait_for_job

pytestmark = pytest.mark.both_databases


async def test_restart_rebuilds_the_pool_without_re_embedding(client_for, embedder):
    text = "Plan a three-day itinerary for a first visit to Lisbon on a small budget."
    async with client_for() as client:
        await wait_for_job(client, await start_job(client, target=5))
        first = await client.post("/v1/datasets/default/candidates", json={"instructions": [text]})
        assert first.json()["accepted"] == 1
    embedded_before = embedder.texts_embedded
    async with client_for() as client:
        # the pool is built from stored vectors and texts: nothing is embedded again
        similar = (await client.get("/v1/datasets/default/similar", params={"q": text, "k": 1})).json()
        assert similar["items"][0]["instruction"] == text
        assert embedder.texts_embedded == embedded_before + 1  # the query only
        again = (await client.post("/v1/datasets/default/candidates", json={"instructions": [text]})).json()
        assert again["decisions"][0]["rule"] == "exact_duplicate"
        datasets = (await client.get("/v1/datasets")).json()
        assert datasets[0]["accepted_count"] == 6


async def test_a_job_interrupted_by_shutdown_resumes_after_restart(client_for):
    from generators.backends.fake import FakeBackend

    async with client_for(backend=FakeBackend(delay_s=0.05)) as client:
        location = await start_job(client, target=40, max_requests=400)
    async with client_for(backend=FakeBackend(delay_s=0.0, seed=1)) as client:
        job = await wait_for_job(client, location)
        assert job["status"] == "succeeded" and job["accepted"] == 40
        listed = (
            await client.get("/v1/datasets/default/instructions", params={"origin": "generated"})
        ).json()
        assert len(listed["items"]) == 40
