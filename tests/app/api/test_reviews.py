"""Human review through the HTTP API: verdicts and their history, the review queue, and how often the
judge agrees with the reviewers; bad verdicts are refused naming the problem, with nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import Instruction, Review, TaskInstance
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

TEXTS = [
    "Suggest three names for a bakery that sells only sourdough bread.",
    "Explain why the sky looks blue during the day.",
    "Translate the sentence 'good morning' into French and Spanish.",
    "List four safety rules for using a kitchen knife.",
    "Write a two-sentence fairy tale about a brave mouse.",
    "Give advice to someone starting to learn the piano.",
]
# judge_expected where given, else judge_score, ranks them: 1.5, 2.5, 3.5, 4.0, 4.5, unjudged
SCORES = [
    {"judge_score": 2.0, "judge_expected": 1.5},
    {"judge_score": 2.5},
    {"judge_score": 1.0, "judge_expected": 3.5},
    {"judge_score": 4.0},
    {"judge_score": 5.0, "judge_expected": 4.5},
    {},
]


async def judged_dataset(client, name: str = "reviewed") -> list[int]:
    """A dataset whose six candidates are accepted and judged (SCORES), with one instance each."""
    assert (await client.post("/v1/datasets", json={"name": name})).status_code == 201
    response = await client.post(f"/v1/datasets/{name}/candidates", json={"instructions": TEXTS})
    decisions = response.json()["decisions"]
    assert all(d["accepted"] for d in decisions), decisions
    ids = [d["id"] for d in decisions]
    with Session(client.app_state.engine) as session:
        for row_id, values in zip(ids, SCORES, strict=True):
            if values:
                session.exec(update(Instruction).where(col(Instruction.id) == row_id).values(**values))
            dataset_id = session.get(Instruction, row_id).dataset_id
            session.add(
                TaskInstance(
                    dataset_id=dataset_id,
                    instruction_id=row_id,
                    origin="generated",
                    input="",
                    output=f"an answer to task {row_id}",
                    accepted=True,
                    **values,
                )
            )
        session.commit()
    return ids


def instance_ids(client, task_ids: list[int]) -> list[int]:
    with Session(client.app_state.engine) as session:
        rows = session.exec(select(TaskInstance).where(col(TaskInstance.instruction_id).in_(task_ids))).all()
        by_task = {r.instruction_id: r.id for r in rows}
    return [by_task[t] for t in task_ids]


async def review(client, name: str = "reviewed", **body):
    return await client.post(f"/v1/datasets/{name}/reviews", json={"reviewer": "ana", **body})


async def test_the_queue_shows_the_least_confident_judgements_first_then_the_unjudged(client):
    ids = await judged_dataset(client)
    queue = (await client.get("/v1/datasets/reviewed/review-queue")).json()
    assert queue["order"] == "confidence"
    assert [i["id"] for i in queue["items"]] == ids
    assert [i["confidence"] for i in queue["items"]] == [1.5, 2.5, 3.5, 4.0, 4.5, None]
    assert {i["review_state"] for i in queue["items"]} == {"unreviewed"}

    created = await review(client, instruction_id=ids[0], state="approved", note="fine")
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "instruction" and created.json()["target_id"] == ids[0]
    queue = (await client.get("/v1/datasets/reviewed/review-queue", params={"limit": 2})).json()
    assert [i["id"] for i in queue["items"]] == ids[1:3]  # reviewed items leave the unreviewed queue
    approved = await client.get("/v1/datasets/reviewed/review-queue", params={"state": "approved"})
    assert [i["id"] for i in approved.json()["items"]] == [ids[0]]

    instances = (await client.get("/v1/datasets/reviewed/review-queue", params={"kind": "instance"})).json()
    assert [i["id"] for i in instances["items"]] == instance_ids(client, ids)
    assert instances["items"][0]["output"].startswith("an answer")


async def test_an_audit_sample_is_random_sized_and_repeatable(client):
    ids = await judged_dataset(client)
    params = {"sample": 3, "seed": 7, "state": "any"}
    first = (await client.get("/v1/datasets/reviewed/review-queue", params=params)).json()
    again = (await client.get("/v1/datasets/reviewed/review-queue", params=params)).json()
    assert first["order"] == "sample" and len(first["items"]) == 3
    assert first == again
    assert {i["id"] for i in first["items"]} <= set(ids)
    samples = {
        tuple(
            i["id"]
            for i in (
                await client.get("/v1/datasets/reviewed/review-queue", params={**params, "seed": s})
            ).json()["items"]
        )
        for s in range(8)
    }
    assert len(samples) > 1  # the seed chooses the sample
    everything = {**params, "sample": 100}
    assert (
        len((await client.get("/v1/datasets/reviewed/review-queue", params=everything)).json()["items"]) == 6
    )


async def test_a_new_verdict_becomes_the_current_state_and_the_old_stays_in_history(client):
    ids = await judged_dataset(client)
    await review(client, instruction_id=ids[1], state="rejected", note="vague")
    edited = await review(
        client, instruction_id=ids[1], state="edited", edited_text="Explain why the sky is blue."
    )
    assert edited.status_code == 201
    history = (await client.get("/v1/datasets/reviewed/reviews", params={"instruction_id": ids[1]})).json()
    assert [(h["state"], h["note"]) for h in history] == [("rejected", "vague"), ("edited", "")]
    assert history[-1]["edited_text"] == "Explain why the sky is blue."
    # the original text is kept
    with Session(client.app_state.engine) as session:
        assert session.get(Instruction, ids[1]).instruction == TEXTS[1]
    queue = await client.get("/v1/datasets/reviewed/review-queue", params={"state": "edited"})
    assert [i["id"] for i in queue.json()["items"]] == [ids[1]]


async def test_bad_verdicts_are_refused_naming_the_problem_and_nothing_is_stored(client):
    ids = await judged_dataset(client)
    [instance] = instance_ids(client, ids[:1])
    cases = [
        ({"instruction_id": ids[0], "state": "maybe"}, 422, "state"),
        ({"instruction_id": ids[0], "state": "edited", "edited_text": "   "}, 422, "edited_text"),
        ({"instruction_id": ids[0], "state": "edited"}, 422, "edited_text"),
        ({"instruction_id": ids[0], "state": "approved", "edited_text": "x"}, 422, "edited"),
        ({"instruction_id": ids[0], "instance_id": instance, "state": "approved"}, 422, "exactly one"),
        ({"state": "approved"}, 422, "exactly one"),
        ({"instruction_id": ids[0], "state": "approved", "reviewer": ""}, 422, "reviewer"),
    ]
    for body, status, mentions in cases:
        assert_error(await review(client, **body), status, "validation_error", mentions)
    assert_error(await review(client, instruction_id=999999, state="approved"), 404, "not_found", "999999")
    assert_error(await review(client, instance_id=888888, state="approved"), 404, "not_found", "888888")
    assert_error(
        await review(client, name="nope", instruction_id=ids[0], state="approved"), 404, "not_found", "nope"
    )
    # an instruction of another dataset is unknown here
    assert (await client.post("/v1/datasets", json={"name": "other"})).status_code == 201
    assert_error(
        await review(client, name="other", instruction_id=ids[0], state="approved"), 404, "not_found"
    )
    with Session(client.app_state.engine) as session:
        assert session.exec(select(Review)).all() == []
    assert_error(
        await client.get("/v1/datasets/reviewed/review-queue", params={"state": "maybe"}),
        422,
        "validation_error",
        "state",
    )
    assert_error(await client.get("/v1/datasets/reviewed/reviews"), 422, "invalid_input", "exactly one")


async def test_agreement_between_the_judge_and_the_reviewers(client):
    ids = await judged_dataset(client)
    # the dataset has no judge threshold: the server's (3.0 by default) is the one compared at
    assert (await client.get("/v1/datasets/reviewed/agreement")).json()["threshold"] == 3.0
    assert_error(
        await client.get("/v1/datasets/reviewed/agreement", params={"threshold": 6}),
        422,
        "validation_error",
        "threshold",
    )
    verdicts = ["rejected", "approved", "approved", "rejected", "edited", "approved"]
    for row_id, state in zip(ids, verdicts, strict=True):
        extra = {"edited_text": "A better task."} if state == "edited" else {}
        assert (await review(client, instruction_id=row_id, state=state, **extra)).status_code == 201
    assert (await client.get("/v1/datasets/reviewed/agreement")).json()["items"] == 5
    body = (await client.get("/v1/datasets/reviewed/agreement", params={"threshold": 3})).json()
    # the unjudged sixth is left out; judge accepts 3.5, 4.0, 4.5
    assert body["items"] == 5
    assert body["confusion"] == {"accept": {"accept": 2, "reject": 1}, "reject": {"accept": 1, "reject": 1}}
    assert body["accuracy"] == pytest.approx(0.6)
    assert body["cohen_kappa"] == pytest.approx((0.6 - 0.52) / 0.48)
    # a reset to unreviewed takes the item out
    await review(client, instruction_id=ids[3], state="unreviewed")
    body = (await client.get("/v1/datasets/reviewed/agreement", params={"threshold": 3})).json()
    assert body["items"] == 4 and body["accuracy"] == pytest.approx(0.75)
    instances = await client.get(
        "/v1/datasets/reviewed/agreement", params={"threshold": 3, "kind": "instance"}
    )
    assert instances.json()["items"] == 0 and instances.json()["cohen_kappa"] is None
