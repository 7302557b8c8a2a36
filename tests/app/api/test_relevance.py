"""Domain relevance through the HTTP API: a dataset's domain and thresholds, off-domain rejections."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

COOKING = "Cooking, recipes and food preparation."
SEEDS = [
    "Give a recipe for a simple tomato soup.",
    "Explain how to cook rice without a rice cooker.",
    "Suggest three ways to use leftover bread.",
]
IN_DOMAIN = "Describe how to make pancakes from scratch."
OFF_DOMAIN = "Explain how a TCP handshake establishes a network connection."


async def cooking_dataset(client, **fields) -> dict:
    created = await client.post("/v1/datasets", json={"name": "kitchen", "domain": COOKING, **fields})
    assert created.status_code == 201, created.text
    tasks = [{"instruction": t, "instances": [{"input": "", "output": "..."}]} for t in SEEDS]
    assert (await client.post("/v1/datasets/kitchen/seeds", json={"tasks": tasks})).status_code == 200
    return created.json()


async def submit(client, dataset: str, texts: list[str]) -> list[dict]:
    response = await client.post(f"/v1/datasets/{dataset}/candidates", json={"instructions": texts})
    assert response.status_code == 200, response.text
    return response.json()["decisions"]


async def test_an_off_domain_candidate_is_rejected_with_its_relevance(client):
    dataset = await cooking_dataset(client)
    assert dataset["domain"] == COOKING and dataset["relevance_threshold"] is None  # the server's applies
    inside, outside = await submit(client, "kitchen", [IN_DOMAIN, OFF_DOMAIN])
    assert inside["accepted"] and inside["relevance"] > 0.25
    assert not outside["accepted"] and outside["rule"] == "relevance"
    assert outside["relevance"] < 0.25 and "relevance" in outside["detail"]
    stored = (
        await client.get(
            "/v1/datasets/kitchen/instructions", params={"decision": "rejected", "rule": "relevance"}
        )
    ).json()
    assert [i["instruction"] for i in stored["items"]] == [OFF_DOMAIN]


async def test_the_dataset_threshold_and_disabled_rules_decide(client):
    await cooking_dataset(client, relevance_threshold=0.99)
    (strict,) = await submit(client, "kitchen", [IN_DOMAIN])
    assert strict["rule"] == "relevance"
    created = await client.post(
        "/v1/datasets", json={"name": "open", "domain": COOKING, "disabled_rules": ["relevance"]}
    )
    assert created.status_code == 201
    (free,) = await submit(client, "open", [OFF_DOMAIN])
    assert free["accepted"] and free["relevance"] is None


async def test_a_dataset_without_a_domain_has_no_relevance(client):
    (decision,) = await submit(client, "default", [OFF_DOMAIN])
    assert decision["accepted"] and decision["relevance"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("relevance_threshold", 1.5),
        ("relevance_threshold", -2),
        ("judge_threshold", 0.5),
        ("judge_threshold", 6),
    ],
)
async def test_out_of_range_thresholds_get_a_422_naming_the_field(client, field, value):
    body = assert_error(
        await client.post("/v1/datasets", json={"name": "bad", field: value}), 422, "validation_error", field
    )
    assert body
    assert (await client.get("/v1/datasets/bad")).status_code == 404  # nothing stored


async def test_a_domain_too_long_gets_a_422(client):
    response = await client.post("/v1/datasets", json={"name": "bad", "domain": "x" * 2001})
    assert_error(response, 422, "validation_error", "domain")
