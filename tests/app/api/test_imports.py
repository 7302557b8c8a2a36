"""Imports through the HTTP app: seeds, candidates through both chains, round trips, bad files."""

from __future__ import annotations

import json

from tests.app.helpers import all_instances, all_instructions, start_job, wait_for_job
from tests.conftest import assert_error

ALPACA = [
    {"instruction": "Convert the weight from kilograms to pounds.", "input": "5 kg", "output": "11.02 lb"},
    {
        "instruction": "Summarize the story of a famous fairy tale in one sentence.",
        "input": "",
        "output": "N/A",
    },
    {"instruction": "Convert the weight from kilograms to pounds.", "input": "2 kg", "output": "4.41 lb"},
    {
        "instruction": "Describe the photo at the link.",
        "input": "http://example.com/a.png",
        "output": "A cat.",
    },
    {
        "instruction": "Suggest a name for a bakery that sells sourdough bread.",
        "input": "",
        "output": "Rise Up",
    },
    {"instruction": "Draw a picture of a cat for me.", "input": "", "output": "A cat drawn in ASCII."},
]


async def _post(client, body: str | bytes, dataset: str = "default", **params):
    return await client.post(f"/v1/datasets/{dataset}/imports", params=params, content=body)


async def test_alpaca_candidates_go_through_both_chains_and_round_trip(client) -> None:
    assert (await client.post("/v1/datasets", json={"name": "imp"})).status_code == 201  # no seeds
    response = await _post(client, json.dumps(ALPACA, indent=2), dataset="imp", format="alpaca")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["tasks"] == 5  # the two rows of the conversion task are one task with two instances
    assert result["accepted"] == 4 and result["rejections"] == {"blocklist": 1}
    assert result["instances_accepted"] == 3
    assert result["instance_rejections"] == {"placeholder_output": 1, "needs_unseen_content": 1}
    rejected = await all_instances(client, dataset="imp", decision="rejected")
    assert sorted((r["output"], r["rule"]) for r in rejected) == [
        ("A cat.", "needs_unseen_content"),
        ("N/A", "placeholder_output"),
    ]
    exported = json.loads((await client.get("/v1/datasets/imp/export", params={"format": "alpaca"})).content)
    assert exported == [ALPACA[0], ALPACA[2], ALPACA[4]]
    tasks = await all_instructions(client, "imp", decision="all")  # imported with instances: done
    assert sorted(t["instance_stage"] or "-" for t in tasks) == ["-", "done", "done", "done", "done"]


async def test_alpaca_and_sharegpt_exports_import_back_unchanged(client) -> None:
    job = await wait_for_job(client, await start_job(client, target=6, seed=4, instances_per_task=3))
    assert job["status"] == "succeeded"
    for fmt in ("alpaca", "sharegpt"):
        exported = (await client.get("/v1/datasets/default/export", params={"format": fmt})).content
        original = json.loads(exported)
        assert len(original) >= 5
        assert (await client.post("/v1/datasets", json={"name": f"copy-{fmt}"})).status_code == 201
        response = await _post(client, exported, dataset=f"copy-{fmt}", format=fmt, mode="seeds")
        assert response.status_code == 200, response.text
        params = {"format": fmt, "include_seeds": True}
        again = json.loads((await client.get(f"/v1/datasets/copy-{fmt}/export", params=params)).content)
        if fmt == "sharegpt":
            original, again = ([r["conversations"] for r in rows] for rows in (original, again))
        assert again == original


async def test_seeds_import_grows_the_seed_pool(client) -> None:
    before = (await client.get("/v1/datasets/default")).json()["seed_count"]
    rows = [
        json.dumps({"instruction": "Name the largest ocean on Earth.", "instances": [{"output": "Pacific"}]}),
        json.dumps(
            {
                "instruction": "Rate the coffee you drank today from one to five.",
                "instances": [{"input": "", "output": "4"}],
                "is_classification": True,
            }
        ),
    ]
    response = await _post(client, "\n".join(rows), format="self-instruct", mode="seeds")
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    assert (await client.get("/v1/datasets/default")).json()["seed_count"] == before + 2
    seeds = await all_instructions(client, origin="seed")
    assert seeds[-1]["is_classification"] is True and seeds[-1]["instances"] == [{"input": "", "output": "4"}]


async def test_a_bad_file_names_its_line_and_stores_nothing(client) -> None:
    before = await all_instructions(client, decision="all")
    body = json.dumps(ALPACA[:2], indent=1)[:-1] + ',\n {"instruction": "x", "input": ""}\n]'
    error = assert_error(await _post(client, body, format="alpaca"), 422, "invalid_input", "upload:")
    line = body[: body.index('"instruction": "x"')].count("\n") + 1
    assert error["message"].startswith(f"upload:{line}: item 2: missing string field 'output'")
    assert await all_instructions(client, decision="all") == before
    assert await all_instances(client, decision="all") == []

    assert_error(await _post(client, b"\xff\xfe", format="alpaca"), 422, "invalid_input", "UTF-8")
    client.app_state.settings.max_import_bytes = 10  # type: ignore[attr-defined]
    assert_error(await _post(client, "[" + " " * 20 + "]", format="alpaca"), 422, "invalid_input", "larger")
    assert_error(await _post(client, "[]", format="csv"), 422, "validation_error", "format")
    assert_error(await _post(client, "[]", dataset="nope", format="alpaca"), 404, "not_found")
