"""The quality-rule stages through the HTTP API: on by default, switched off per dataset."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

REAL_JUNK = [
    "Provide the next 12 new tasks.",
    "The answer to this question is 12.",
    "Add 12 more tasks to the list.",
]


async def test_real_junk_is_rejected_with_its_rule_and_detail(client):
    texts = [*REAL_JUNK, "Give a list of 3 tips for managing stress at work."]
    result = (await client.post("/v1/datasets/default/candidates", json={"instructions": texts})).json()
    decisions = result["decisions"]
    assert [d["rule"] for d in decisions] == ["prompt_echo", "statement", "prompt_echo", None]
    assert all(d["detail"] for d in decisions[:3])


async def test_a_dataset_switches_a_quality_rule_off(client):
    created = await client.post("/v1/datasets", json={"name": "jokes", "disabled_rules": ["statement"]})
    assert created.status_code == 201 and created.json()["disabled_rules"] == ["statement"]
    texts = ["This is a joke about a cat and a cucumber.", "Provide the next 12 new tasks."]
    decisions = (await client.post("/v1/datasets/jokes/candidates", json={"instructions": texts})).json()[
        "decisions"
    ]
    assert [d["rule"] for d in decisions] == [None, "prompt_echo"]


async def test_an_unknown_rule_names_the_known_ones(client):
    assert_error(
        await client.post("/v1/datasets", json={"name": "x", "disabled_rules": ["statements"]}),
        422,
        "validation_error",
        "prompt_echo",
    )
