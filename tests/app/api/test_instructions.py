from __future__ import annotations

import pytest

from tests.app.helpers import all_instructions
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

TEXTS = [
    "Explain how a bill becomes a law in a parliamentary democracy.",
    "Explain how a bill becomes a law in a parliamentary democracy, step by step.",
    "draw a map",
    "Suggest five names for a hiking club that meets on weekends.",
    "Suggest five names for a hiking club that meets on weekends.",
]


async def test_candidates_get_one_decision_each_in_arrival_order(client):
    result = (await client.post("/v1/datasets/default/candidates", json={"instructions": TEXTS})).json()
    decisions = result["decisions"]
    assert [d["instruction"] for d in decisions] == TEXTS
    assert [d["reason"] for d in decisions] == [None, "rouge_l", "too_short", None, "exact_duplicate"]
    assert result["accepted"] == 2 and result["rejected"] == 3
    first, second = decisions[0], decisions[1]
    assert second["rouge_neighbor_id"] == first["id"] and second["max_rouge_l"] > 0.7
    assert second["max_cosine"] is not None and second["cosine_neighbor_id"] == first["id"]
    assert first["max_rouge_l"] <= 0.7 and first["max_cosine"] <= 0.85
    assert "same text as item" in decisions[4]["detail"]


async def test_paraphrase_is_caught_by_the_embedding_gate(client):
    texts = [
        "What are some good ways to fall asleep faster at night?",
        "List good methods for falling asleep faster at night.",
    ]
    decisions = (await client.post("/v1/datasets/default/candidates", json={"instructions": texts})).json()[
        "decisions"
    ]
    assert decisions[0]["accepted"] is True
    assert decisions[1]["reason"] == "embedding", decisions[1]
    assert decisions[1]["max_rouge_l"] <= 0.7 and decisions[1]["max_cosine"] > 0.85


async def test_bad_candidates_store_nothing(client):
    before = await all_instructions(client, decision="all")
    assert_error(
        await client.post(
            "/v1/datasets/default/candidates", json={"instructions": ["A fine instruction here.", " "]}
        ),
        422,
        "invalid_input",
        "instructions[1]",
    )
    assert_error(
        await client.post("/v1/datasets/default/candidates", json={"instructions": []}),
        422,
        "validation_error",
    )
    assert_error(
        await client.post("/v1/datasets/default/candidates", json={"texts": ["x"]}), 422, "validation_error"
    )
    assert await all_instructions(client, decision="all") == before


async def test_cursor_pagination_walks_every_row_once(client):
    seeds = await all_instructions(client, origin="seed")
    page1 = (await client.get("/v1/datasets/default/instructions", params={"limit": 40})).json()
    assert len(page1["items"]) == 40 and page1["next_cursor"]
    ids = [item["id"] for item in seeds]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len(seeds) == (await client.get("/v1/datasets/default")).json()["seed_count"]
    assert seeds[0]["instances"] and seeds[0]["origin"] == "seed"


async def test_filter_by_decision_and_reason(client):
    await client.post("/v1/datasets/default/candidates", json={"instructions": TEXTS})
    rejected = await all_instructions(client, decision="rejected")
    assert sorted(i["rule"] for i in rejected) == ["exact_duplicate", "rouge_l", "too_short"]
    short = await all_instructions(client, decision="rejected", reason="too_short")
    assert [i["instruction"] for i in short] == ["draw a map"]


async def test_bad_listing_parameters(client):
    assert_error(
        await client.get("/v1/datasets/default/instructions", params={"cursor": "garbage!"}),
        422,
        "invalid_input",
        "cursor",
    )
    assert_error(
        await client.get("/v1/datasets/default/instructions", params={"decision": "maybe"}),
        422,
        "validation_error",
    )
    assert_error(
        await client.get("/v1/datasets/default/instructions", params={"limit": 0}), 422, "validation_error"
    )


async def test_similar_returns_best_first_and_finds_accepted_items(client):
    text = "Describe the life cycle of a monarch butterfly for a school project."
    accepted = (await client.post("/v1/datasets/default/candidates", json={"instructions": [text]})).json()
    new_id = accepted["decisions"][0]["id"]
    result = (
        await client.get("/v1/datasets/default/similar", params={"q": "monarch butterfly life cycle", "k": 5})
    ).json()
    items = result["items"]
    assert len(items) == 5
    assert items[0]["id"] == new_id and items[0]["origin"] == "submitted"
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


async def test_similar_input_errors(client):
    assert_error(
        await client.get("/v1/datasets/default/similar", params={"k": 3}), 422, "validation_error", "q"
    )
    assert_error(
        await client.get("/v1/datasets/default/similar", params={"q": "x", "k": 0}),
        422,
        "validation_error",
        "k",
    )
    assert_error(
        await client.get("/v1/datasets/default/similar", params={"q": "   "}), 422, "invalid_input", "empty"
    )
    assert_error(await client.get("/v1/datasets/nope/similar", params={"q": "x"}), 404, "not_found")


async def test_stats_count_rejections_by_rule(client):
    await client.post("/v1/datasets/default/candidates", json={"instructions": TEXTS})
    stats = (await client.get("/v1/datasets/default/stats")).json()
    assert stats["accepted_count"] == 2 and stats["rejected_count"] == 3
    assert stats["rejections"] == {"rouge_l": 1, "too_short": 1, "exact_duplicate": 1}


async def test_concurrent_similar_queries_are_batched_and_each_gets_its_own_answer(client):
    import asyncio

    queries = [
        "budget for a monthly income",
        "reduce plastic waste",
        "sentiment of a review",
        "haiku about rain",
    ]
    calls_before = client.app_state.pools.embedder.texts_embedded
    responses = await asyncio.gather(
        *[client.get("/v1/datasets/default/similar", params={"q": q, "k": 3}) for q in queries * 5]
    )
    assert all(r.status_code == 200 for r in responses)
    by_query: dict[str, list] = {}
    for response in responses:
        body = response.json()
        assert len(body["items"]) == 3
        by_query.setdefault(body["query"], []).append(body["items"])
    assert set(by_query) == set(queries)
    single = (await client.get("/v1/datasets/default/similar", params={"q": queries[0], "k": 3})).json()
    by_query[queries[0]].append(single["items"])
    for answers in by_query.values():
        # the same query gets the same best match in any batch (bf16 query vectors may move the last digits)
        assert all(a[0]["id"] == answers[0][0]["id"] for a in answers)
        for answer in answers:
            assert [i["score"] for i in answer] == pytest.approx([i["score"] for i in answers[0]], abs=2e-3)
    assert client.app_state.pools.embedder.texts_embedded - calls_before == len(queries) * 5 + 1


async def test_similarity_batching_follows_the_settings(client_for, settings):
    tuned = settings.model_copy(update={"similar_workers": 1, "similar_max_batch": 3})
    async with client_for(settings_=tuned) as client:
        assert (client.app_state.similarity.workers, client.app_state.similarity.max_batch) == (1, 3)
        found = await client.get("/v1/datasets/default/similar", params={"q": "haiku about rain", "k": 2})
        assert len(found.json()["items"]) == 2
