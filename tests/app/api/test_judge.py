"""The LLM judge end to end on the fake backend: scripted scores, malformed answers, timeouts."""

from __future__ import annotations

import json

from app.pipeline.judge import Judge
from generators.backends.dispatch import RequestDispatcher
from generators.backends.fake import FakeBackend
from tests.app.helpers import all_pages, start_job, wait_for_job


def rating(overall: int) -> str:
    return json.dumps(
        {"clarity": overall, "completeness": 4, "feasibility": 5, "relevance": 4, "overall": overall}
    )


async def judged_job(client, **body) -> tuple[dict, list[dict], list[dict]]:
    job = await wait_for_job(client, await start_job(client, **body))
    rows = await all_pages(client, "/v1/datasets/default/instructions", decision="all", origin="generated")
    ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
    return job, rows, ledger


async def test_scripted_scores_decide_and_every_judge_request_is_in_the_ledger(client_for, settings):
    backend = FakeBackend(judge_script=[rating(5), rating(1)])
    async with client_for(backend=backend, settings_=settings.model_copy(update={"judge": True})) as client:
        job, rows, ledger = await judged_job(client, target=6, seed=3)
    assert job["status"] == "succeeded"
    judged = [r for r in rows if r["judge"] is not None]
    assert judged and all(r["judge_score"] in (1.0, 5.0) for r in judged)
    # the fake's log-probabilities: 0.6 on the sampled score, 0.4 on its neighbour
    assert {r["judge_expected"] for r in judged} == {1.4, 4.6}
    low = [r for r in judged if r["judge_score"] == 1.0]
    assert low and all(not r["accepted"] for r in low)
    assert {r["rule"] for r in low} <= {"judge", "exact", "rouge", "embedding"}
    assert any(r["rule"] == "judge" and "1.40 < 3.0" in r["detail"] for r in low)
    assert all(r["judge_score"] == 5.0 for r in rows if r["accepted"])
    judge_rows = {g["id"]: g for g in ledger if g["params"].get("judge") == "instruction"}
    assert len(judge_rows) == backend.judge_calls
    assert {r["judge"]["generation_id"] for r in judged} <= set(judge_rows)
    assert all(g["params"]["temperature"] == 0.0 and g["params"]["json_schema"] for g in judge_rows.values())


async def test_malformed_answers_leave_candidates_unjudged_and_accepted(client_for, settings):
    answers = ["", "I think this task is fine.", '{"overall": 9}', '{"clarity": 4', "Overall: 2/5"]
    backend = FakeBackend(judge_script=answers)
    async with client_for(backend=backend, settings_=settings.model_copy(update={"judge": True})) as client:
        job, rows, _ = await judged_job(client, target=5, seed=4)
    assert job["status"] == "succeeded"
    verdicts = [r["judge"] for r in rows if r["judge"] is not None]
    errors = {v.get("error") for v in verdicts}
    assert {"empty answer", "no overall score", "overall score out of range"} <= errors
    unread = [r for r in rows if r["judge"] is not None and "error" in r["judge"]]
    assert unread and all(r["judge_score"] is None and r["rule"] != "judge" for r in unread)
    two = [r for r in rows if r["judge"] is not None and r["judge"]["raw"] == "Overall: 2/5"]
    assert two and all(r["judge_score"] == 2.0 and r["rule"] in ("judge", "exact", "rouge") for r in two)


async def test_a_judge_that_times_out_leaves_the_job_running(client_for, settings):
    slow = settings.model_copy(update={"judge": True, "judge_timeout_s": 0.05})
    async with client_for(settings_=slow) as client:
        client.app_state.jobs.judge = Judge(RequestDispatcher(FakeBackend(delay_s=0.5), 4), slow)
        job, rows, ledger = await judged_job(client, target=3, seed=5)
        client.app_state.jobs.judge.close()
    assert job["status"] == "succeeded" and job["accepted"] == 3
    verdicts = [r["judge"] for r in rows if r["judge"] is not None]
    assert verdicts and all(v["error"].startswith("timed out") for v in verdicts)
    assert all(r["judge_score"] is None for r in rows)
    assert not [g for g in ledger if g["params"].get("judge")]  # no answer came back: no ledger row


async def test_a_dataset_that_switches_the_judge_off_never_calls_it(client_for, settings):
    backend = FakeBackend(judge_script=[rating(1)])
    async with client_for(backend=backend, settings_=settings.model_copy(update={"judge": True})) as client:
        created = await client.post("/v1/datasets", json={"name": "nojudge", "disabled_rules": ["judge"]})
        assert created.status_code == 201
        seeds = [
            {"instruction": text, "instances": [{"input": "", "output": "..."}]}
            for text in ("Write a short poem about the sea.", "Name three fruits that grow on trees.")
        ]
        assert (await client.post("/v1/datasets/nojudge/seeds", json={"tasks": seeds})).status_code in (
            200,
            201,
        )
        job = await wait_for_job(client, await start_job(client, "nojudge", target=3, seed=1))
    assert job["status"] == "succeeded" and backend.judge_calls == 0


async def test_judged_instances_carry_their_scores(client_for, settings):
    backend = FakeBackend(judge_script=[rating(4)])
    async with client_for(backend=backend, settings_=settings.model_copy(update={"judge": True})) as client:
        job = await wait_for_job(client, await start_job(client, target=1, seed=2, instances_per_task=2))
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        instances = (await client.get("/v1/datasets/default/instances", params={"decision": "all"})).json()
    assert job["status"] == "succeeded"
    scored = [i for i in instances["items"] if i["judge"] is not None]
    assert scored and all(i["judge_score"] == 4.0 and i["accepted"] for i in scored)
    instance_rows = {g["id"] for g in ledger if g["params"].get("judge") == "instance"}
    assert {i["judge"]["generation_id"] for i in scored} <= instance_rows and instance_rows
