"""``GET …/stats`` for the dashboard: every histogram (counted by the database) equals numpy's over the
same rows, split by decision for the neighbour similarities; the counts, rejections and the strategy
breakdown equal counting by hand; a real job's candidates carry their prompt recipe."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
from sqlmodel import Session

from app.datasets.score_stats import BINS
from app.datasets.service import get_dataset
from app.datasets.stats import dataset_stats
from app.jobs.saturation import DEFAULT_CURVE_WINDOW
from app.models import Dataset, Instruction, Job, TaskInstance
from generators.strategies.recipe import prompt_recipe
from tests.app.helpers import start_job, wait_for_job
from tests.support.stats import rounded

pytestmark = pytest.mark.both_databases

EDGE_VALUES = [-1.5, -1.0, -0.9, 0.0, 0.05, 0.1, 0.35, 0.95, 1.0, 1.2, 5.0, 4.5, 1.5]


def by_numpy(values: list[float | None], low: float, high: float, bins: int) -> dict:
    present = np.array([v for v in values if v is not None], dtype=float)
    counts, edges = np.histogram(np.clip(present, low, high), bins=bins, range=(low, high))
    return {
        "count": int(present.size),
        "missing": len(values) - int(present.size),
        "mean": float(present.mean()) if present.size else None,
        "edges": [round(float(e), 6) for e in edges],
        "counts": [int(c) for c in counts],
    }


def assert_histogram(answer: dict, expected: dict) -> None:
    assert {k: v for k, v in answer.items() if k != "mean"} == {
        k: v for k, v in expected.items() if k != "mean"
    }
    assert answer["mean"] == pytest.approx(expected["mean"])


def lineage_for(rng: random.Random, strategy: str | None) -> dict | None:
    if strategy == "self_instruct":
        return {
            "strategy": strategy,
            "example_choice": rng.choice(["uniform", "diverse"]),
            "example_ids": [1],
        }
    if strategy == "evol":
        operation = rng.choice(["deepen", "mutate"])
        direction = "depth" if operation == "deepen" else "breadth"
        return {"strategy": strategy, "operation": operation, "direction": direction, "parent_id": 1}
    if strategy == "template":
        return {"strategy": strategy, "template": rng.choice(["recipe", "email"]), "slots": {}}
    return {"strategy": strategy} if strategy else None


def score(rng: random.Random, low: float, high: float) -> float | None:
    roll = rng.random()
    if roll < 0.2:
        return None
    if roll < 0.35:
        return rng.choice(EDGE_VALUES)  # on an edge, outside the range
    return round(rng.uniform(low, high), 4)


async def test_histograms_counts_and_strategies_equal_counting_by_hand(client_for):
    async with client_for(workers=False) as client:
        rng = random.Random(11)
        rows: list[Instruction] = []
        with Session(client.app_state.engine) as session:
            dataset = Dataset(name="dash")
            session.add(dataset)
            session.flush()
            jobs = [Job(dataset_id=dataset.id, target=1, max_requests=1) for _ in range(2)]
            session.add_all(jobs)
            session.flush()
            for i in range(5):
                session.add(
                    Instruction(
                        dataset_id=dataset.id,
                        origin="seed",
                        instruction=f"s{i}",
                        accepted=True,
                        relevance=0.5,
                        max_cosine=0.9,
                    )
                )  # seeds are left out
            for i in range(400):
                accepted = rng.random() < 0.35
                strategy = rng.choice(["self_instruct", "evol", "template", "magpie", None])
                lineage = lineage_for(rng, strategy)
                row = Instruction(
                    dataset_id=dataset.id,
                    origin="generated" if strategy else "submitted",
                    instruction=f"task {i}",
                    accepted=accepted,
                    rule=None if accepted else rng.choice(["rouge_l", "embedding", "statement"]),
                    job_id=rng.choice(jobs).id if strategy else None,
                    strategy=strategy,
                    lineage=lineage,
                    recipe=prompt_recipe(strategy, lineage),
                    **{name: score(rng, *BINS[name][:2]) for name in BINS},
                )
                rows.append(row)
                session.add(row)
            session.flush()
            for row in rows[:30]:
                session.add(
                    TaskInstance(
                        dataset_id=dataset.id,
                        instruction_id=row.id,
                        origin="generated",
                        input="",
                        output="o",
                        accepted=True,
                        job_id=jobs[0].id,
                        judge_score=score(rng, 1.0, 5.0),
                    )
                )
            session.commit()
            job_id = jobs[0].id
            rows = [session.get(Instruction, r.id) for r in rows]
        stats = (await client.get("/v1/datasets/dash/stats")).json()
        scores = stats["scores"]
        for name, (low, high, bins) in BINS.items():
            assert_histogram(
                scores["instructions"][name], by_numpy([getattr(r, name) for r in rows], low, high, bins)
            )
        for decision, accepted in (("accepted", True), ("rejected", False)):
            for name in ("max_cosine", "max_rouge_l"):
                chosen = [getattr(r, name) for r in rows if r.accepted is accepted]
                assert_histogram(scores["neighbours"][decision][name], by_numpy(chosen, *BINS[name]))
        assert (
            scores["instances"]["judge_score"]["count"] + scores["instances"]["judge_score"]["missing"] == 30
        )

        assert (stats["seed_count"], stats["accepted_count"], stats["rejected_count"]) == (
            5,
            sum(r.accepted for r in rows),
            sum(not r.accepted for r in rows),
        )
        assert stats["rejections"] == dict(Counter(r.rule for r in rows if not r.accepted))
        per_job = {
            str(j) if j is not None else "none": dict(
                Counter(r.rule for r in rows if not r.accepted and r.job_id == j)
            )
            for j in {r.job_id for r in rows if not r.accepted}
        }
        assert stats["rejections_per_job"] == per_job

        expected: dict = {}
        for r in rows:
            entry = expected.setdefault(r.strategy or "none", {"accepted": 0, "rejected": 0, "by": {}})
            decision = "accepted" if r.accepted else "rejected"
            entry[decision] += 1
            keys = {
                "self_instruct": ["example_choice"],
                "evol": ["operation", "direction"],
                "template": ["template"],
            }
            for key in keys.get(r.strategy or "", []):
                cell = (
                    entry["by"].setdefault(key, {}).setdefault(r.lineage[key], {"accepted": 0, "rejected": 0})
                )
                cell[decision] += 1
        assert stats["strategies"] == expected
        assert stats["strategies"]["magpie"]["by"] == {}

        job_scores = (await client.get("/v1/datasets/dash/stats", params={"job": job_id})).json()["job"][
            "scores"
        ]
        mine = [r for r in rows if r.job_id == job_id]
        for name, (low, high, bins) in BINS.items():
            assert_histogram(
                job_scores["instructions"][name], by_numpy([getattr(r, name) for r in mine], low, high, bins)
            )
        rejected = [r.max_cosine for r in mine if not r.accepted]
        assert_histogram(
            job_scores["neighbours"]["rejected"]["max_cosine"], by_numpy(rejected, *BINS["max_cosine"])
        )


async def test_a_jobs_candidates_carry_their_recipe_into_the_strategy_breakdown(client):
    job = await wait_for_job(client, await start_job(client, target=4))
    stats = (await client.get("/v1/datasets/default/stats")).json()
    mine = stats["strategies"]["self_instruct"]
    assert (mine["accepted"], mine["rejected"]) == (job["accepted"], job["rejected"])
    assert mine["by"] == {
        "example_choice": {"uniform": {"accepted": job["accepted"], "rejected": job["rejected"]}}
    }
    diversity = stats["diversity"]
    assert diversity["accepted"] == job["accepted"] and diversity["nn_queries"] == job["accepted"]  # exact
    for name in ("max_cosine", "max_rouge_l"):
        split = stats["scores"]["neighbours"]
        both = split["accepted"][name]["count"] + split["rejected"][name]["count"]
        assert both == stats["scores"]["instructions"][name]["count"] > 0


async def test_stats_are_kept_and_brought_forward_by_new_rows(client):
    """The counted parts are kept per process and brought forward by the rows added since
    (app/datasets/kept_stats.py): a repeated view is served as kept, a new candidate is added to what was
    kept, and either way the answer is the one counted afresh."""
    kept = client.app_state.kept_stats
    assert kept.primed.wait(30)  # the start-up count has run: the counters below are the views'
    first = (await client.get("/v1/datasets/default/stats")).json()
    hits, advances, misses = kept.hits, kept.advances, kept.misses
    assert (await client.get("/v1/datasets/default/stats")).json() == first
    assert (kept.hits, kept.misses) == (hits + 1, misses)
    body = {"instructions": ["Suggest a name for a bakery that sells sourdough bread."]}
    assert (await client.post("/v1/datasets/default/candidates", json=body)).status_code == 200
    after = (await client.get("/v1/datasets/default/stats")).json()
    assert (kept.advances, kept.misses) == (advances + 1, misses)
    assert after["accepted_count"] == first["accepted_count"] + 1
    assert after["diversity"]["accepted"] == first["diversity"]["accepted"] + 1
    assert sum(after["scores"]["instructions"]["max_cosine"]["counts"]) == (
        sum(first["scores"]["instructions"]["max_cosine"]["counts"]) + 1
    )
    with Session(client.app_state.engine) as session:
        afresh = dataset_stats(session, get_dataset(session, "default"), DEFAULT_CURVE_WINDOW, False)
    assert rounded(after) == rounded(json.loads(json.dumps(afresh, default=str)))
    seven = (await client.get("/v1/datasets/default/stats", params={"window": 7})).json()
    assert seven["novelty_window"] == 7 and kept.misses == misses  # another window: one more curve
