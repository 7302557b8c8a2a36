"""Snapshots taken as high-water marks: their export is byte-identical after new rows, new reviews and an
applied replay, their row lists no id, and a snapshot that lists ids (taken before marks) exports as it
did."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.exports.review_filter import ReviewSelection
from app.exports.snapshot_marks import Mark
from app.exports.snapshots import selected_instances
from app.models import Dataset, Instruction, Review, Snapshot, TaskInstance
from tests.app.api.test_reviews import instance_ids, judged_dataset, review

pytestmark = pytest.mark.both_databases

FORMATS = ("jsonl", "alpaca", "parquet")  # jsonl carries each task's decision and scores
LATER = ["Name two rivers that flow through Germany.", "Describe how to brew green tea properly."]


async def export(client, **params) -> bytes:
    response = await client.get("/v1/datasets/reviewed/export", params=params)
    assert response.status_code == 200, response.text
    return response.content


def add_instances(client, task_ids: list[int]) -> None:
    with Session(client.app_state.engine) as session:
        for task_id in task_ids:
            task = session.get(Instruction, task_id)
            session.add(
                TaskInstance(
                    dataset_id=task.dataset_id,
                    instruction_id=task_id,
                    origin="generated",
                    input="",
                    output=f"a later answer to {task_id}",
                    accepted=True,
                )
            )
        session.commit()


def old_style_snapshot(client) -> int:
    """A snapshot as taken before marks existed: every instance id and the edited reviews listed."""
    with Session(client.app_state.engine) as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == "reviewed")).one()
        ids, reviews = selected_instances(session, dataset, ReviewSelection())
        snapshot = Snapshot(dataset_id=dataset.id, note="old", instance_ids=ids, review_ids=reviews)
        session.add(snapshot)
        session.commit()
        return int(snapshot.id)


async def test_a_snapshot_export_is_byte_identical_after_rows_reviews_and_a_replay(client):
    ids = await judged_dataset(client)
    seeds = [{"instruction": "Name a colour of the rainbow.", "instances": [{"input": "", "output": "red"}]}]
    assert (await client.post("/v1/datasets/reviewed/seeds", json={"tasks": seeds})).status_code == 200
    instances = instance_ids(client, ids)
    await review(client, instruction_id=ids[4], state="edited", edited_text="Write a fable about a mouse.")
    await review(client, instance_id=instances[1], state="rejected")
    created = await client.post("/v1/datasets/reviewed/snapshots", json={"include_seeds": True})
    assert created.status_code == 201, created.text
    snapshot = created.json()
    assert (snapshot["instances"], snapshot["seed_tasks"]) == (5, 1)
    old_id = old_style_snapshot(client)
    before = {fmt: await export(client, format=fmt, snapshot=snapshot["id"]) for fmt in FORMATS}
    old_before = await export(client, format="alpaca", snapshot=old_id)
    live_before = await export(client, format="jsonl")

    # new accepted rows (with instances), new reviews, and an applied replay that rewrites decisions
    response = await client.post("/v1/datasets/reviewed/candidates", json={"instructions": LATER})
    later = [d["id"] for d in response.json()["decisions"]]
    add_instances(client, later + [ids[0]])
    await review(client, instruction_id=ids[4], state="edited", edited_text="Something else entirely.")
    await review(client, instance_id=instances[1], state="approved")
    await review(client, instruction_id=ids[3], state="rejected")
    await review(client, instance_id=instances[5], state="edited", edited_text="A new answer.")
    applied = await client.post("/v1/datasets/reviewed/replays", json={"judge_threshold": 3.0})
    assert applied.status_code == 201, applied.text
    assert applied.json()["flipped"] >= 2  # the tasks judged 1.5 and 2.5 are rejected now
    assert (await client.get("/v1/datasets/reviewed/decision-changes")).json()
    assert await export(client, format="jsonl") != live_before  # the live export did change

    for fmt in FORMATS:
        assert await export(client, format=fmt, snapshot=snapshot["id"]) == before[fmt], fmt
    assert await export(client, format="alpaca", snapshot=old_id) == old_before
    listed = {s["id"]: s for s in (await client.get("/v1/datasets/reviewed/snapshots")).json()}
    assert (listed[snapshot["id"]]["instances"], listed[old_id]["instances"]) == (5, 5)
    with Session(client.app_state.engine) as session:
        stored = session.get(Snapshot, snapshot["id"])
        assert stored.instance_ids == [] and stored.seed_instruction_ids == [] and stored.marks
        assert set(stored.marks["tables"]) == {"instruction", "task_instance", "review", "decision_change"}


async def test_rows_not_visible_when_the_snapshot_was_taken_stay_out(client):
    """Ids at or below the marks that were not there (a transaction that commits later) never join."""
    ids = await judged_dataset(client)
    await review(client, instruction_id=ids[5], state="approved")  # so the gap is not before the first id
    with Session(client.app_state.engine) as session:
        top = session.exec(text("SELECT max(id) FROM review")).scalar() or 0  # type: ignore[call-overload]
        dataset_id = session.get(Instruction, ids[0]).dataset_id
        # a review with an id drawn before the snapshot but committed after it: its id left a gap
        session.add(
            Review(id=top + 3, dataset_id=dataset_id, instruction_id=ids[1], reviewer="b", state="approved")
        )
        session.commit()
    snapshot = (await client.post("/v1/datasets/reviewed/snapshots", json={"review": ["unreviewed"]})).json()
    before = await export(client, format="jsonl", snapshot=snapshot["id"])
    assert snapshot["instances"] == 4  # ids[1] and ids[5] are approved
    with Session(client.app_state.engine) as session:
        stored = session.get(Snapshot, snapshot["id"])
        mark = stored.marks["tables"]["review"]
        assert mark[0] == top + 3 and [top + 1, top + 2] in mark[1]
        session.add(
            Review(id=top + 1, dataset_id=dataset_id, instruction_id=ids[2], reviewer="b", state="rejected")
        )
        session.commit()
    assert await export(client, format="jsonl", snapshot=snapshot["id"]) == before


def test_a_mark_sees_its_ids_but_the_unseen_ranges():
    mark = Mark(20, ((1, 2), (7, 9), (15, 15)))
    assert [i for i in range(0, 23) if mark.visible(i)] == [
        0,
        3,
        4,
        5,
        6,
        10,
        11,
        12,
        13,
        14,
        16,
        17,
        18,
        19,
        20,
    ]
    assert Mark(0).visible(0) and not Mark(0).visible(1)
