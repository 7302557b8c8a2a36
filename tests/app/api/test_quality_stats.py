"""``GET …/stats``: score distributions and rejections per rule, per dataset and per job."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from app.models import Instruction, Job
from tests.app.api.test_reviews import judged_dataset
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


async def test_stats_give_score_histograms_and_rejections_per_job(client):
    ids = await judged_dataset(client)
    junk = ["Provide the next 12 new tasks.", "The answer to this question is 12."]
    await client.post("/v1/datasets/reviewed/candidates", json={"instructions": junk})
    with Session(client.app_state.engine) as session:
        dataset_id = session.get(Instruction, ids[0]).dataset_id
        job = Job(dataset_id=dataset_id, target=1, max_requests=1, status="cancelled")
        session.add(job)
        session.flush()
        session.exec(update(Instruction).where(col(Instruction.id).in_(ids[:2])).values(job_id=job.id))
        session.exec(update(Instruction).where(col(Instruction.id) == ids[0]).values(relevance=0.42))
        session.commit()
        job_id = job.id
    stats = (await client.get("/v1/datasets/reviewed/stats")).json()
    sampled = stats["scores"]["instructions"]["judge_score"]
    assert (sampled["count"], sampled["missing"]) == (5, 3)  # six judged tasks but one, two junk
    assert sampled["edges"][:3] == [1.0, 1.5, 2.0] and len(sampled["counts"]) == 8
    # 2.0, 2.5, 1.0, 4.0, 5.0: bins [1, 1.5) … [4.5, 5]
    assert sampled["counts"] == [1, 0, 1, 1, 0, 0, 1, 1]
    assert stats["scores"]["instructions"]["judge_expected"]["mean"] == pytest.approx((1.5 + 3.5 + 4.5) / 3)
    relevance = stats["scores"]["instructions"]["relevance"]
    assert relevance["count"] == 1 and relevance["counts"][14] == 1  # [0.4, 0.5)
    assert stats["scores"]["instances"]["judge_score"]["count"] == 5
    assert stats["rejections"] == {"prompt_echo": 1, "statement": 1}
    assert stats["rejections_per_job"] == {"none": {"prompt_echo": 1, "statement": 1}}

    per_job = (await client.get("/v1/datasets/reviewed/stats", params={"job": job_id})).json()["job"]
    assert per_job["id"] == job_id and per_job["rejections"] == {}
    assert per_job["scores"]["instructions"]["judge_score"]["count"] == 2
    assert per_job["scores"]["instructions"]["relevance"]["count"] == 1
    assert_error(
        await client.get("/v1/datasets/reviewed/stats", params={"job": 987654}), 404, "not_found", "987654"
    )
