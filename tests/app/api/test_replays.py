"""Replay through the HTTP API: the dry run reports flips and stores nothing; applying stores the new
decisions, keeps the old ones in the decision history, and leaves the live pool as a rebuilt one."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import Dataset, DecisionChange, Instruction, Replay, ReplayRequest
from app.review import replays
from app.review.replay import ReplaySettings, redecide
from tests.conftest import assert_error, shared_file

pytestmark = pytest.mark.both_databases

SEEDS = ["Write a short poem about the ocean at night.", "Explain how a bicycle gear system works."]
C1 = "Write a short story about a lighthouse keeper."  # ROUGE-L 0.47 with the first seed
C2 = "Describe three uses of baking soda at home."
C3 = "Write a short story about a lighthouse keeper and his dog."  # 0.84 with C1, 0.40 with the first seed


async def make_dataset(client, name: str = "replayed") -> dict[str, int]:
    """A dataset with two seeds and C1, C2, C3 decided in that order; their ids by text."""
    assert (await client.post("/v1/datasets", json={"name": name})).status_code == 201
    tasks = [{"instruction": s, "instances": [{"input": "", "output": "x"}]} for s in SEEDS]
    assert (await client.post(f"/v1/datasets/{name}/seeds", json={"tasks": tasks})).status_code == 200
    response = await client.post(f"/v1/datasets/{name}/candidates", json={"instructions": [C1, C2, C3]})
    decisions = response.json()["decisions"]
    assert [d["rule"] for d in decisions] == [None, None, "rouge_l"]
    return {d["instruction"]: d["id"] for d in decisions}


def set_scores(client, ids: dict[int, dict]) -> None:
    with Session(client.app_state.engine) as session:
        for row_id, values in ids.items():
            session.exec(update(Instruction).where(col(Instruction.id) == row_id).values(**values))
        session.commit()


def stored_decisions(client, name: str = "replayed") -> dict[str, tuple[bool, str | None]]:
    with Session(client.app_state.engine) as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == name)).one()
        rows = session.exec(
            select(Instruction).where(Instruction.dataset_id == dataset.id, Instruction.origin != "seed")
        ).all()
        return {r.instruction: (r.accepted, r.rule) for r in rows}


def live_pool_texts(client, name: str = "replayed") -> set[str]:
    return set(client.app_state.pools.registry.cached(name).novelty.texts.values())


async def test_a_dry_run_reports_the_flips_per_rule_and_stores_nothing(client):
    await make_dataset(client)
    before = stored_decisions(client)
    embedded_before = client.app_state.pools.registry.embedder.texts_embedded
    response = await client.post("/v1/datasets/replayed/replay", json={"rouge_threshold": 0.35})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["applied"] is False and report["replay_id"] is None
    assert (report["decided"], report["seeds"], report["flipped"]) == (3, 2, 1)
    assert (report["newly_rejected"], report["newly_accepted"], report["rule_changed"]) == (1, 0, 0)
    [transition] = report["transitions"]
    assert (transition["old"], transition["new"], transition["count"]) == ("accepted", "rouge_l", 1)
    assert transition["examples"][0]["instruction"] == C1
    assert "0.471 > 0.35" in transition["examples"][0]["detail"]
    assert report["settings"]["rouge_threshold"] == 0.35
    # stored vectors are used: only C3, rejected (stored without a vector), is embedded for the replay
    assert report["embedded"] == 1
    assert client.app_state.pools.registry.embedder.texts_embedded == embedded_before + 1
    assert stored_decisions(client) == before
    assert (await client.get("/v1/datasets/replayed/replays")).json() == []
    assert (await client.get("/v1/datasets/replayed")).json()["rouge_threshold"] == 0.7


async def test_stored_judge_scores_re_decide_novelty_in_the_original_order(client):
    ids = await make_dataset(client)
    # C1 scored low: rejected by the judge, so C3 (rejected as a near-copy of C1) is novel again
    set_scores(client, {ids[C1]: {"judge_score": 5.0, "judge_expected": 2.2}, ids[C2]: {"judge_score": 4.0}})
    body = {"judge_threshold": 3.0, "reason": "judge calibrated"}
    dry = (await client.post("/v1/datasets/replayed/replay", json=body)).json()
    flips = {(t["old"], t["new"]) for t in dry["transitions"]}
    assert flips == {("accepted", "judge"), ("rouge_l", "accepted")}
    assert stored_decisions(client)[C1] == (True, None)

    stats_before = (await client.get("/v1/datasets/replayed/stats")).json()  # kept by the stats cache
    assert stats_before["rejections"] == {"rouge_l": 1}

    embedder = client.app_state.pools.registry.embedder
    embedded_before = embedder.texts_embedded
    applied = await client.post("/v1/datasets/replayed/replays", json=body)
    assert applied.status_code == 201, applied.text
    report = applied.json()
    # C3 (stored without a vector) is embedded once, before the lock; the locked pass reuses it
    assert report["embedded"] == 1 and embedder.texts_embedded == embedded_before + 1
    assert report["applied"] is True and report["flipped"] == 2
    assert applied.headers["location"] == f"/v1/datasets/replayed/replays/{report['replay_id']}"
    assert stored_decisions(client) == {C1: (False, "judge"), C2: (True, None), C3: (True, None)}
    # the replay changed no row count, only decisions: the stats are counted again, not served as kept
    assert (await client.get("/v1/datasets/replayed/stats")).json()["rejections"] == {"judge": 1}
    replay = (await client.get(applied.headers["location"])).json()
    assert (replay["reason"], replay["decided"], replay["changed"]) == ("judge calibrated", 3, 2)
    assert (await client.get("/v1/datasets/replayed")).json()["judge_threshold"] == 3.0

    changes = (await client.get("/v1/datasets/replayed/decision-changes")).json()
    by_id = {c["instruction_id"]: c for c in changes}
    assert set(by_id) == {ids[C1], ids[C3]}
    assert (by_id[ids[C1]]["old_accepted"], by_id[ids[C1]]["new_rule"]) == (True, "judge")
    assert by_id[ids[C3]]["old"]["rule"] == "rouge_l" and by_id[ids[C3]]["new"]["accepted"] is True
    assert by_id[ids[C1]]["new"]["judge_expected"] == 2.2  # the model's scores are kept as stored
    assert all(c["reason"] == "judge calibrated" for c in changes)

    # the live pool is what a rebuild from the database gives: the seeds, C2 and C3, not C1
    registry = client.app_state.pools.registry
    live = registry.cached("replayed").novelty
    assert set(live.texts.values()) == {*SEEDS, C2, C3}
    dataset = _dataset(client)
    registry.invalidate(dataset.id)
    rebuilt = registry.get(dataset).novelty
    assert live.texts == rebuilt.texts and live.exact == rebuilt.exact
    assert len(live.vectors) == len(rebuilt.vectors) == 4
    # and later candidates are decided against it with the replayed settings
    again = await client.post("/v1/datasets/replayed/candidates", json={"instructions": [C1]})
    assert again.json()["decisions"][0]["rule"] == "rouge_l"  # a near-copy of C3 now


def _dataset(client, name: str = "replayed") -> Dataset:
    with Session(client.app_state.engine) as session:
        return session.exec(select(Dataset).where(Dataset.name == name)).one()


async def test_relevance_applies_only_to_a_dataset_with_a_domain(client):
    ids = await make_dataset(client)
    set_scores(client, {ids[C2]: {"relevance": 0.1}, ids[C1]: {"relevance": 0.6}})
    body = {"relevance_threshold": 0.3}
    assert (await client.post("/v1/datasets/replayed/replay", json=body)).json()["flipped"] == 0
    with Session(client.app_state.engine) as session:
        session.exec(update(Dataset).where(col(Dataset.name) == "replayed").values(domain="home and stories"))
        session.commit()
    report = (await client.post("/v1/datasets/replayed/replay", json=body)).json()
    assert [(t["old"], t["new"], t["count"]) for t in report["transitions"]] == [("accepted", "relevance", 1)]
    assert report["transitions"][0]["examples"][0]["id"] == ids[C2]


async def test_a_failed_apply_stores_nothing_and_rebuilds_the_pool(client, monkeypatch):
    ids = await make_dataset(client)
    set_scores(client, {ids[C1]: {"judge_score": 1.0}})
    before = stored_decisions(client)
    registry = client.app_state.pools.registry

    def broken(session, dataset, outcome, replay):
        original(session, dataset, outcome, replay)
        session.flush()
        raise RuntimeError("disk full")

    original = replays._store
    monkeypatch.setattr(replays, "_store", broken)
    with Session(client.app_state.engine, expire_on_commit=False) as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == "replayed")).one()
        with pytest.raises(RuntimeError, match="disk full"):
            replays.apply(session, registry, dataset, ReplayRequest(judge_threshold=3.0))
    assert stored_decisions(client) == before
    with Session(client.app_state.engine) as session:
        assert session.exec(select(Replay)).all() == []
        assert session.exec(select(DecisionChange)).all() == []
        assert session.get(Dataset, dataset.id).judge_threshold is None
    assert registry.cached("replayed") is None  # dropped: the next use rebuilds it from the database
    registry.get(dataset)
    assert live_pool_texts(client) == {*SEEDS, C1, C2}


async def test_bad_replay_input_is_refused_naming_the_problem(client):
    await make_dataset(client)
    assert_error(
        await client.post("/v1/datasets/replayed/replay", json={"disabled_rules": ["judges"]}),
        422,
        "validation_error",
        "judges",
    )
    assert_error(
        await client.post("/v1/datasets/replayed/replays", json={"judge_threshold": 7}),
        422,
        "validation_error",
        "judge_threshold",
    )
    assert_error(await client.post("/v1/datasets/nope/replay", json={}), 404, "not_found", "nope")
    assert_error(await client.get("/v1/datasets/replayed/replays/99"), 404, "not_found", "99")
    assert_error(
        await client.get("/v1/datasets/replayed/decision-changes", params={"replay": 5}), 404, "not_found"
    )
    assert (await client.get("/v1/datasets/replayed/replays")).json() == []


async def test_a_disabled_rule_re_accepts_what_it_rejected(client):
    await make_dataset(client)
    statement = "This is a joke about a cat and a cucumber."
    result = await client.post("/v1/datasets/replayed/candidates", json={"instructions": [statement]})
    assert result.json()["decisions"][0]["rule"] == "statement"
    response = await client.post("/v1/datasets/replayed/replays", json={"disabled_rules": ["statement"]})
    assert response.status_code == 201
    assert [(t["old"], t["new"]) for t in response.json()["transitions"]] == [("statement", "accepted")]
    assert stored_decisions(client)[statement] == (True, None)
    assert statement in live_pool_texts(client)
    assert (await client.get("/v1/datasets/replayed")).json()["disabled_rules"] == ["statement"]


async def test_a_replay_with_the_same_settings_reproduces_every_live_decision(client):
    """Real texts decided by the live chain (in batches, as they came), then replayed from storage."""
    source = shared_file("self_instruct_seed_tasks.jsonl")
    texts = [json.loads(line)["instruction"] for line in source.read_text().splitlines()]
    texts += [t.replace(".", "!") for t in texts[:80]]  # near-copies for the novelty stages
    assert (await client.post("/v1/datasets", json={"name": "real"})).status_code == 201
    rules: dict[str, int] = {}
    for start in range(0, len(texts), 60):
        batch = {"instructions": texts[start : start + 60]}
        for decision in (await client.post("/v1/datasets/real/candidates", json=batch)).json()["decisions"]:
            rules[decision["rule"] or "accepted"] = rules.get(decision["rule"] or "accepted", 0) + 1
    assert rules["accepted"] > 100 and sum(n for r, n in rules.items() if r != "accepted") > 50, rules
    report = (await client.post("/v1/datasets/real/replay", json={})).json()
    assert report["decided"] == len(texts)
    assert (report["flipped"], report["rule_changed"], report["transitions"]) == (0, 0, [])
    with Session(client.app_state.engine) as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == "real")).one()
        outcome = redecide(
            session, client.app_state.pools.registry, dataset, ReplaySettings.of(dataset, ReplayRequest())
        )
    # the measurements too, not only the verdicts (a rejected candidate is embedded again: the cosine
    # may differ in float32's last digits)
    for candidate, new in zip(outcome.candidates, outcome.new, strict=True):
        old = candidate.old
        assert (old.rule, old.detail, old.max_rouge_l, old.rouge_neighbor_id) == (
            new.rule,
            new.detail,
            new.max_rouge_l,
            new.rouge_neighbor_id,
        )
        assert old.cosine_neighbor_id == new.cosine_neighbor_id
        assert old.max_cosine == pytest.approx(new.max_cosine, abs=1e-5)


async def test_an_applied_replay_counts_the_stats_again_for_the_next_view(client):
    await make_dataset(client)
    statement = "This is a joke about a cat and a cucumber."
    await client.post("/v1/datasets/replayed/candidates", json={"instructions": [statement]})
    kept = client.app_state.kept_stats
    assert kept.primed.wait(30)
    before = (await client.get("/v1/datasets/replayed/stats")).json()
    assert before["rejections"]["statement"] == 1
    misses = kept.misses
    response = await client.post("/v1/datasets/replayed/replays", json={"disabled_rules": ["statement"]})
    assert response.status_code == 201
    for _ in range(300):  # counted in a background thread
        if kept.misses > misses:
            break
        await asyncio.sleep(0.01)
    hits = kept.hits
    after = (await client.get("/v1/datasets/replayed/stats")).json()
    assert (kept.misses, kept.hits) == (misses + 1, hits + 1)  # the view read what the replay counted
    assert "statement" not in after["rejections"]
    assert after["accepted_count"] == before["accepted_count"] + 1
