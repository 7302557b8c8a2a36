"""The whole path with the real CPU model (SmolLM2-135M-Instruct), real embeddings, FAISS and SQLite."""

from __future__ import annotations

import pytest

from generators.backends.transformers_backend import TransformersBackend
from tests.app.helpers import all_instructions, start_job, wait_for_job

pytestmark = pytest.mark.slow


async def test_real_model_job_accepts_instructions(client_for):
    async with client_for(backend=TransformersBackend(), ready_timeout=300) as client:
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "ready" and "SmolLM2" in ready["model"]
        job = await wait_for_job(
            client, await start_job(client, target=3, max_requests=30, seed=7), timeout=900
        )
        assert job["status"] == "succeeded", job
        assert job["accepted"] == 3 and job["completion_tokens"] > 0
        accepted = await all_instructions(client, origin="generated")
        assert len(accepted) == 3
        for item in accepted:
            assert item["max_rouge_l"] <= 0.7 and item["max_cosine"] <= 0.85
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert ledger[0]["prompt"].startswith("<|im_start|>")  # the chat template was applied
        assert ledger[0]["model_id"].startswith("SmolLM2")
        found = await client.get(
            "/v1/datasets/default/similar", params={"q": accepted[0]["instruction"], "k": 1}
        )
        assert found.json()["items"][0]["id"] == accepted[0]["id"]
