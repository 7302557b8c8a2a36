"""A job with ``instances_per_task``: classification, instances, filters, ledger — through the HTTP app."""

from __future__ import annotations

from collections import Counter

from filters.instances import INSTANCE_RULE_IDS
from generators.backends.fake import FakeBackend
from tests.app.helpers import all_instances, all_instructions, start_job, wait_for_job


async def test_job_stores_triplets_and_every_rejection_has_a_rule_id(client) -> None:
    job = await wait_for_job(client, await start_job(client, target=12, seed=3, instances_per_task=4))
    assert job["status"] == "succeeded" and job["instances_per_task"] == 4
    tasks = await all_instructions(client, origin="generated")
    assert len(tasks) == 12
    assert all(t["is_classification"] is not None and t["instances"] is not None for t in tasks)
    assert {t["is_classification"] for t in tasks} == {True, False}  # the fake labels Classify/Identify/…

    rows = await all_instances(client, decision="all")
    accepted = [r for r in rows if r["accepted"]]
    rejected = [r for r in rows if not r["accepted"]]
    assert accepted and rejected
    assert all(r["rule"] in INSTANCE_RULE_IDS and r["detail"] for r in rejected)
    assert all(r["rule"] is None for r in accepted)
    by_task = Counter(r["instruction_id"] for r in accepted)
    for task in tasks:  # the task row carries exactly its accepted instances
        assert len(task["instances"]) == by_task.get(task["id"], 0)
        assert len(task["instances"]) <= 4

    counts = job["counts"]
    assert counts["instance_decisions"]["accepted"] == len(accepted)
    assert sum(counts["instance_decisions"].values()) == len(rows)
    assert counts["instance_decisions"] == dict(Counter(r["rule"] or "accepted" for r in rows))
    assert sum(counts["classification"].values()) == 12
    assert counts["decisions"]["accepted"] == job["accepted"]

    ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
    stages = Counter(g["params"].get("stage", "tasks") for g in ledger)
    assert stages["classification"] == 12 and stages["instances"] == 12
    instance_generations = {g["id"] for g in ledger if g["params"].get("stage") == "instances"}
    assert {r["generation_id"] for r in rows} <= instance_generations
    clf = next(g for g in ledger if g["params"].get("stage") == "instances" and "Class label:" in g["prompt"])
    assert clf["prompt"].rstrip().endswith("Class label:")  # output-first for classification tasks

    stats = (await client.get("/v1/datasets/default/stats")).json()["instances"]
    assert stats == dict(Counter(r["rule"] or "accepted" for r in rows))
    only = await all_instances(client, decision="rejected", rule=rejected[0]["rule"])
    assert only and all(r["rule"] == rejected[0]["rule"] for r in only)


async def test_a_task_whose_inputs_conflict_loses_all_its_instances(client_for, settings) -> None:
    script = [
        " No",
        "Input: 2 + 2\nOutput: 4\nExample 2\nInput: 2 + 2\nOutput: 5\nExample 3\nInput: 3 + 3\nOutput: 6",
    ]
    tasks = "Explain how to add two numbers step by step for a beginner.\n10. Describe a sunset over the sea."
    backend = FakeBackend(script=[tasks, *script * 2])
    one_at_a_time = settings.model_copy(update={"max_in_flight": 1})  # the script is read in call order
    async with client_for(backend=backend, settings_=one_at_a_time) as client:
        job = await wait_for_job(client, await start_job(client, target=1, instances_per_task=3))
        assert job["status"] == "succeeded", job
        rows = await all_instances(client, decision="all")
        assert [r["rule"] for r in rows] == ["conflicting_outputs"] * 3
        [task] = await all_instructions(client, origin="generated")
        assert task["instances"] == [] and task["is_classification"] is False


async def test_instances_per_task_is_validated(client) -> None:
    response = await client.post("/v1/datasets/default/jobs", json={"target": 1, "instances_per_task": 99})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "instances_per_task"


async def test_instance_job_covers_tasks_accepted_by_other_routes(client) -> None:
    texts = [
        "Classify the animal as a mammal, bird or fish.",
        "Explain how a rainbow forms after a summer storm.",
    ]
    assert (await client.post("/v1/datasets", json={"name": "inst"})).status_code == 201
    submitted = await client.post("/v1/datasets/inst/candidates", json={"instructions": texts})
    assert submitted.json()["accepted"] == 2
    waiting = await all_instructions(client, "inst", origin="submitted")
    assert [t["instance_stage"] for t in waiting] == ["pending", "pending"]
    response = await client.post("/v1/datasets/inst/instances", json={"instances_per_task": 2})
    assert response.status_code == 202, response.text
    job = await wait_for_job(client, response.headers["location"])
    assert job["status"] == "succeeded" and job["target"] == 0 and job["instances_per_task"] == 2
    assert job["counts"]["classification"] == {"yes": 1, "no": 1}
    tasks = await all_instructions(client, "inst", origin="submitted")
    assert [t["is_classification"] for t in tasks] == [True, False]
    assert all(t["instances"] is not None and t["instance_stage"] == "done" for t in tasks)
    rows = await all_instances(client, "inst", decision="all")
    assert {r["instruction_id"] for r in rows} == {t["id"] for t in tasks}

    again = await client.post("/v1/datasets/inst/instances")  # nothing left: SI_INSTANCES_PER_TASK, no work
    finished = await wait_for_job(client, again.headers["location"])
    assert (
        finished["status"] == "succeeded"
        and not any(finished["counts"].values())
        and finished["instances_per_task"] == 5
    )
    assert len(await all_instances(client, "inst", decision="all")) == len(rows)
    bad = await client.post("/v1/datasets/inst/instances", json={"instances_per_task": 0})
    assert bad.status_code == 422
