"""Jobs with each strategy, end to end through the HTTP app on the fake backend: lineage, bad settings."""

from __future__ import annotations

import json

import pytest

from generators.backends.fake import FakeBackend
from tests.app.helpers import all_instructions, start_job, wait_for_job
from tests.conftest import assert_error

ZH_TEMPLATE = {
    "name": "email",
    "text": "{语气}写一首关于{主题}的诗。",
    "slots": {
        "主题": [
            "春天的早晨在山间小路上散步",
            "春天的早晨在山间小路上散步时",
            "海边渔村里一位老人的一生",
            "海边渔村里一位老人的一生",
        ],
        "语气": ["请"],
    },
}


async def post_template(client, body, dataset="default"):
    return await client.post(f"/v1/datasets/{dataset}/templates", json=body)


async def test_a_chinese_template_expands_every_row_and_the_unicode_gate_drops_near_copies(client):
    assert (
        await client.post("/v1/datasets", json={"name": "zh", "heuristics_preset": "multilingual"})
    ).status_code == 201
    created = await post_template(client, ZH_TEMPLATE, "zh")
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    location = await start_job(client, "zh", target=10, strategy="template")
    job = await wait_for_job(client, location)
    assert job["status"] == "succeeded" and job["stop_reason"].startswith("strategy exhausted")
    assert job["strategy"] == "template" and job["generated"] == 4
    rows = await all_instructions(client, "zh", decision="all", origin="generated")
    accepted = [r["instruction"] for r in rows if r["accepted"]]
    assert accepted == [
        "请写一首关于春天的早晨在山间小路上散步的诗。",
        "请写一首关于海边渔村里一位老人的一生的诗。",
    ]
    rejected = {r["instruction"]: r["rule"] for r in rows if not r["accepted"]}
    assert rejected == {
        "请写一首关于春天的早晨在山间小路上散步时的诗。": "rouge_l",  # near copy: Unicode-aware ROUGE-L
        "请写一首关于海边渔村里一位老人的一生的诗。": "exact_duplicate",
    }
    for row in rows:
        assert row["strategy"] == "template"
        assert row["lineage"]["template_id"] == template_id and set(row["lineage"]["slots"]) == {
            "主题",
            "语气",
        }


async def test_template_rows_phrased_by_the_model_keep_their_slot_values(client):
    body = {
        "name": "plan",
        "text": "Plan a {trip} for {who}.",
        "slots": {"trip": ["hike", "city tour"], "who": ["a family", "a student"]},
    }
    assert (await post_template(client, body)).status_code == 201
    settings = {"phrase": True, "mode": "sample"}
    job = await wait_for_job(
        client, await start_job(client, target=1, strategy="template", strategy_settings=settings)
    )
    assert job["status"] == "succeeded"
    rows = await all_instructions(client, decision="accepted", origin="generated")
    assert rows and all(r["instruction"].startswith("Could you please plan a") for r in rows)
    assert all(r["lineage"]["slots"]["trip"] in ("hike", "city tour") for r in rows)


async def test_self_instruct_candidates_name_the_examples_in_their_prompt(client):
    job = await wait_for_job(client, await start_job(client, target=3))
    seeds = {r["id"] for r in await all_instructions(client, origin="seed")}
    for row in await all_instructions(client, decision="all", origin="generated"):
        assert row["strategy"] == "self_instruct" and row["job_id"] == job["id"]
        assert row["lineage"]["example_choice"] == "uniform"
        assert len(row["lineage"]["example_ids"]) == 8 and set(row["lineage"]["example_ids"]) <= seeds | {
            r["id"] for r in await all_instructions(client, decision="accepted")
        }


async def test_diverse_example_choice_runs_and_is_recorded(client):
    settings = {"example_choice": "diverse"}
    job = await wait_for_job(client, await start_job(client, target=3, strategy_settings=settings))
    assert job["status"] == "succeeded" and job["strategy_settings"] == settings
    rows = await all_instructions(client, decision="all", origin="generated")
    assert {r["lineage"]["example_choice"] for r in rows} == {"diverse"}


async def test_retrieval_shows_the_nearest_stored_instructions(client):
    query = "Write a poem about the sea"
    settings = {"query": query, "k": 10, "n_examples": 6}
    job = await wait_for_job(
        client, await start_job(client, target=3, strategy="retrieval", strategy_settings=settings)
    )
    assert job["status"] == "succeeded"
    nearest = (await client.get("/v1/datasets/default/similar", params={"q": query, "k": 20})).json()["items"]
    rows = await all_instructions(client, decision="all", origin="generated")
    first = min(rows, key=lambda r: r["id"])  # the first prompt saw the pool before anything was accepted
    assert set(first["lineage"]["retrieved_ids"]) <= {i["id"] for i in nearest} | {r["id"] for r in rows}
    assert len(first["lineage"]["example_ids"]) == 6
    assert set(first["lineage"]["example_ids"]) <= set(first["lineage"]["retrieved_ids"])


async def test_retrieval_falls_back_to_the_domain_description_else_refuses(client):
    assert (await client.post("/v1/datasets", json={"name": "blank"})).status_code == 201
    response = await client.post("/v1/datasets/blank/jobs", json={"target": 1, "strategy": "retrieval"})
    assert_error(response, 422, "invalid_input", "strategy_settings.query")
    assert (
        await client.post("/v1/datasets", json={"name": "cook", "description": "cooking recipes"})
    ).status_code == 201
    settings = {"source_dataset": "default"}
    response = await client.post(
        "/v1/datasets/cook/jobs", json={"target": 1, "strategy": "retrieval", "strategy_settings": settings}
    )
    assert response.status_code == 202, response.text


async def test_evol_rewrites_stored_instructions_and_drops_failed_evolutions(client_for):
    script = [" Describe the water cycle.", " I want you to act as an instruction rewriter."]
    async with client_for(backend=FakeBackend(script=script)) as client:
        settings = {"operations": ["add_constraints"], "parents": "pool"}
        job = await wait_for_job(
            client,
            await start_job(client, target=1, strategy="evol", strategy_settings=settings, max_requests=3),
        )
        assert job["counts"]["parse_dropped"].get("evol_copied_prompt", 0) >= 1
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        reasons = {d["reason"] for g in ledger for d in g["parse_dropped"]}
        assert "evol_copied_prompt" in reasons


async def test_evol_on_the_fake_model_records_its_parent_and_operation(client):
    settings = {"operations": ["add_constraints", "mutate"]}
    job = await wait_for_job(
        client, await start_job(client, target=3, strategy="evol", strategy_settings=settings)
    )
    assert job["status"] == "succeeded"
    texts = {r["id"]: r["instruction"] for r in await all_instructions(client, decision="all")}
    for row in await all_instructions(client, decision="accepted", origin="generated"):
        lineage = row["lineage"]
        assert lineage["operation"] in ("add_constraints", "mutate")
        assert texts[lineage["parent_id"]].rstrip(".") in row["instruction"]


async def test_magpie_sends_the_chat_template_up_to_the_user_turn(client_for):
    backend = FakeBackend()
    backend.model_id = "SmolLM2-135M-Instruct"
    async with client_for(backend=backend) as client:
        job = await wait_for_job(client, await start_job(client, target=3, strategy="magpie"))
        assert job["status"] == "succeeded"
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
        assert (
            ledger[0]["prompt"].endswith("<|im_start|>user\n") and ledger[0]["params"]["strategy"] == "magpie"
        )
        rows = await all_instructions(client, decision="accepted", origin="generated")
        assert len(rows) == 3 and all(r["strategy"] == "magpie" for r in rows)


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"strategy": "nope"}, "unknown strategy 'nope'"),
        ({"strategy": "magpie"}, "magpie needs a chat model whose chat template is known"),
        ({"strategy": "evol", "strategy_settings": {"operations": ["shrink"]}}, "unknown operation 'shrink'"),
        ({"strategy": "evol", "strategy_settings": {"operations": []}}, "strategy_settings.operations"),
        ({"strategy": "template"}, "the dataset has no templates"),
        ({"strategy": "template", "strategy_settings": {"templates": ["x"]}}, "no templates"),
        ({"strategy_settings": {"colour": "red"}}, "strategy_settings.colour"),
        (
            {"strategy": "retrieval", "strategy_settings": {"query": "q", "source_dataset": "gone"}},
            "'gone' does not exist",
        ),
        ({"auto_stop": {"window": 1, "min_yield": 0.1}}, "window"),
    ],
)
async def test_bad_strategy_settings_are_422_naming_the_problem_and_store_nothing(client, body, mentions):
    response = await client.post("/v1/datasets/default/jobs", json={"target": 1, **body})
    assert_error(
        response,
        422,
        "invalid_input" if "auto_stop" not in body else response.json()["error"]["code"],
        mentions,
    )
    assert (await client.get("/v1/jobs")).json() == []


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"text": "Say {a} to {b}.", "slots": {"a": ["hi"]}}, "unknown template slot 'b'"),
        ({"text": "Say {a}.", "slots": {"a": ["hi"], "c": ["x"]}}, "unknown template slot 'c'"),
        ({"text": "Say {a}.", "slots": {"a": []}}, "slots.a: empty value list"),
        ({"text": "Say hello.", "slots": {"a": ["x"]}}, "no {slot}"),
        ({"text": "Say {a!r}.", "slots": {"a": ["x"]}}, "format spec"),
    ],
)
async def test_bad_templates_are_422_naming_the_problem_and_store_nothing(client, body, mentions):
    assert_error(await post_template(client, {"name": "t", **body}), 422, "invalid_input", mentions)
    assert (await client.get("/v1/datasets/default/templates")).json() == []


async def test_unknown_template_name_is_named_when_templates_exist(client):
    body = {"name": "a", "text": "Say {x}.", "slots": {"x": ["hi"]}}
    assert (await post_template(client, body)).status_code == 201
    assert_error(await post_template(client, body), 409, "conflict", "already exists")
    response = await client.post(
        "/v1/datasets/default/jobs",
        json={"target": 1, "strategy": "template", "strategy_settings": {"templates": ["b"]}},
    )
    assert_error(response, 422, "invalid_input", "unknown template 'b'")
    assert (await client.delete("/v1/datasets/default/templates/a")).status_code == 204
    assert (await client.get("/v1/datasets/default/templates")).json() == []


async def test_template_slot_values_drawn_from_stored_instructions(client):
    body = {
        "name": "rev",
        "text": "Explain to a child: {task}",
        "slots": {"task": {"from": "instructions", "limit": 3}},
    }
    assert (await post_template(client, body)).status_code == 201, (await post_template(client, body)).text
    job = await wait_for_job(client, await start_job(client, target=5, strategy="template"))
    assert job["generated"] == 3 and job["stop_reason"].startswith("strategy exhausted")
    seeds = [r["instruction"] for r in await all_instructions(client, origin="seed")][:3]
    rows = await all_instructions(client, decision="all", origin="generated")
    assert [r["lineage"]["slots"]["task"] for r in rows] == seeds


async def test_auto_stop_ends_a_saturating_job_with_its_reason_and_the_curve_shows_it(client_for):
    async with client_for(backend=FakeBackend(vocabulary=2)) as client:
        body = {"target": 200, "max_requests": 200, "auto_stop": {"window": 20, "min_yield": 0.1}}
        job = await wait_for_job(client, await start_job(client, **body))
        assert job["status"] == "succeeded" and job["accepted"] < 200
        assert (
            job["stop_reason"].startswith("auto-stop: yield") and "last 20 candidates" in job["stop_reason"]
        )
        assert job["requests"] < 200
        curve = job["novelty_curve"]
        assert curve and curve[0] > curve[-1]
        assert len(curve) >= 2 and curve[-1] < 0.1
        stats = (await client.get("/v1/datasets/default/stats", params={"window": 20})).json()
        assert stats["novelty_curve"] == curve


async def test_the_jsonl_export_carries_each_task_strategy_and_lineage(client):
    body = {
        "name": "t",
        "text": "Describe {thing}.",
        "slots": {
            "thing": ["the inner workings of a violin bow", "how steam engines powered early factories"]
        },
    }
    assert (await post_template(client, body)).status_code == 201
    job = await wait_for_job(
        client, await start_job(client, target=2, strategy="template", instances_per_task=2)
    )
    assert job["accepted"] == 2
    response = await client.get("/v1/datasets/default/export", params={"format": "jsonl", "split": "all"})
    rows = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert rows and {r["task"]["strategy"] for r in rows} == {"template"}
    assert {r["task"]["lineage"]["slots"]["thing"] for r in rows} <= {
        "the inner workings of a violin bow",
        "how steam engines powered early factories",
    }


async def test_dataset_stats_give_diversity_and_the_verb_object_breakdown(client):
    await wait_for_job(client, await start_job(client, target=5))
    stats = (await client.get("/v1/datasets/default/stats", params={"breakdown": "true"})).json()
    assert stats["diversity"]["accepted"] == 5 and 0 < stats["diversity"]["distinct_2"] <= 1
    assert 0 < stats["diversity"]["mean_nn_similarity"] < 1
    breakdown = stats["verb_object"]
    assert breakdown["parser"].startswith("spacy") and breakdown["parsed"] == 5
    assert breakdown["verbs"] and all(v["count"] >= 1 for v in breakdown["verbs"])
