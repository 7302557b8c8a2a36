"""Exports and snapshots filtered by review state and by the judge's score, with reviewers' edits."""

from __future__ import annotations

import json

import pytest

from tests.app.api.test_reviews import TEXTS, instance_ids, judged_dataset, review
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


async def exported(client, **params) -> list[dict]:
    response = await client.get("/v1/datasets/reviewed/export", params={"format": "jsonl", **params})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


async def test_exports_keep_what_the_reviews_and_the_judge_let_through(client):
    ids = await judged_dataset(client)
    instances = instance_ids(client, ids)
    assert [r["task_id"] for r in await exported(client)] == ids
    # the judge's confidence (expected score, else sampled) at least 3: 3.5, 4.0, 4.5
    assert [r["task_id"] for r in await exported(client, min_judge_score=3)] == ids[2:5]
    assert [r["task_id"] for r in await exported(client, min_judge_score=4.5)] == [ids[4]]

    await review(client, instruction_id=ids[0], state="rejected")
    await review(client, instance_id=instances[1], state="rejected")
    await review(client, instruction_id=ids[2], state="approved")
    await review(client, instance_id=instances[3], state="approved")
    await review(client, instruction_id=ids[4], state="edited", edited_text="Write a fable about a mouse.")
    await review(
        client, instance_id=instances[5], state="edited", edited_text="A new answer.", edited_input="ctx"
    )
    rows = await exported(client)  # reviewer-rejected rows are left out by default
    assert [r["task_id"] for r in rows] == ids[2:]
    by_task = {r["task_id"]: r for r in rows}
    assert by_task[ids[4]]["instruction"] == "Write a fable about a mouse."
    assert (by_task[ids[5]]["input"], by_task[ids[5]]["output"]) == ("ctx", "A new answer.")
    assert by_task[ids[3]]["instruction"] == TEXTS[3]
    assert by_task[ids[4]]["task"]["judge_expected"] == 4.5

    approved = await exported(client, review=["approved"])
    assert [r["task_id"] for r in approved] == [ids[2], ids[3]]
    assert [r["task_id"] for r in await exported(client, review=["rejected"])] == ids[:2]
    both = await exported(client, review=["approved", "edited"], min_judge_score=4)
    assert [r["task_id"] for r in both] == [ids[3], ids[4]]
    alpaca = await client.get("/v1/datasets/reviewed/export", params={"format": "alpaca", "review": "edited"})
    assert [r["instruction"] for r in alpaca.json()] == ["Write a fable about a mouse.", TEXTS[5]]


async def test_a_snapshot_records_the_filtered_rows_and_the_edits_in_effect(client):
    ids = await judged_dataset(client)
    await review(client, instruction_id=ids[4], state="edited", edited_text="Write a fable about a mouse.")
    created = await client.post("/v1/datasets/reviewed/snapshots", json={"min_judge_score": 4})
    assert created.status_code == 201, created.text
    snapshot = created.json()
    assert snapshot["instances"] == 2
    before = await exported(client, snapshot=snapshot["id"])
    assert [r["instruction"] for r in before] == [TEXTS[3], "Write a fable about a mouse."]
    # later reviews change the live export, never the snapshot's
    await review(client, instruction_id=ids[4], state="edited", edited_text="Something else entirely.")
    await review(client, instruction_id=ids[3], state="rejected")
    assert await exported(client, snapshot=snapshot["id"]) == before
    assert [r["instruction"] for r in await exported(client, min_judge_score=4)] == [
        "Something else entirely."
    ]
    unreviewed = await client.post("/v1/datasets/reviewed/snapshots", json={"review": ["unreviewed"]})
    assert unreviewed.json()["instances"] == 4


async def test_bad_filters_are_refused_naming_them(client):
    await judged_dataset(client)
    for params, mentions in (({"review": "maybe"}, "review"), ({"min_judge_score": 0}, "min_judge_score")):
        assert_error(
            await client.get("/v1/datasets/reviewed/export", params=params), 422, "validation_error", mentions
        )
    for body, mentions in (({"min_judge_score": 9}, "min_judge_score"), ({"review": ["nope"]}, "review")):
        assert_error(
            await client.post("/v1/datasets/reviewed/snapshots", json=body), 422, "validation_error", mentions
        )
    assert (await client.get("/v1/datasets/reviewed/snapshots")).json() == []
