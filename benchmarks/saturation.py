"""Saturation: 200 concurrent ``POST /candidates`` (5 texts each) and 100 concurrent job posts against
the real app on SQLite and on PostgreSQL; counts every status (no 5xx allowed; 429/503 with Retry-After
are back-pressure), checks the novelty rule over everything accepted by brute force (rouge-score against
every earlier pool item) and that a job posted afterwards still runs.

    python benchmarks/saturation.py [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psycopg
from rouge_score import rouge_scorer

from app.core.settings import Settings
from app.main import create_app
from filters.embedding import SentenceTransformerEmbedder
from generators.backends.fake import FakeBackend

VERBS = ["Explain", "Describe", "List", "Compare", "Suggest", "Outline", "Summarize", "Plan", "Rewrite"]
TOPICS = ["a budget", "a garden", "a trip", "an essay", "a workout", "a recipe", "a meeting", "a poem"]
GOALS = ["for beginners", "in five steps", "for a small team", "on a rainy day", "under ten dollars"]


def texts(rng: random.Random, n: int) -> list[str]:
    return [
        f"{rng.choice(VERBS)} {rng.choice(TOPICS)} {rng.choice(GOALS)} number {rng.randrange(400)}."
        for _ in range(n)
    ]


async def run(database_url: str, label: str, embedder: SentenceTransformerEmbedder, folder: Path) -> bool:
    settings = Settings(
        database_url=database_url,
        backend="fake",
        worker_poll_s=0.05,
        index_dir=folder / "indexes",
        max_queued_jobs=1000,
        _env_file=None,
    )
    app = create_app(settings, embedder=embedder, backend=FakeBackend())
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        assert app.state.pools.ready.wait(60) and app.state.backend.ready.wait(60)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=300) as client:
            started = time.perf_counter()
            candidates = [
                client.post("/v1/datasets/default/candidates", json={"instructions": texts(rng, 5)})
                for _ in range(200)
            ]
            jobs = [client.post("/v1/datasets/default/jobs", json={"target": 2}) for _ in range(100)]
            responses = await asyncio.gather(*candidates, *jobs)
            elapsed = time.perf_counter() - started
            statuses = Counter(r.status_code for r in responses)
            no_retry_after = sum(
                1 for r in responses if r.status_code in (429, 503) and "retry-after" not in r.headers
            )
            worker = app.state.jobs.worker
            job_ids = [r.json()["id"] for r in responses[200:] if r.status_code == 202]
            finished = all([await asyncio.to_thread(worker.wait_for, j, 300) for j in job_ids])
            after = await client.post("/v1/datasets/default/jobs", json={"target": 3})
            later = after.status_code == 202 and await asyncio.to_thread(
                worker.wait_for, after.json()["id"], 120
            )
            later_job = (
                (await client.get(f"/v1/jobs/{after.json()['id']}")).json()
                if after.status_code == 202
                else {}
            )
            pool = []
            cursor = None
            while True:
                page = (
                    await client.get(
                        "/v1/datasets/default/instructions",
                        params={"limit": 1000, **({"cursor": cursor} if cursor else {})},
                    )
                ).json()
                pool += page["items"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    violations = 0
    seen: list[str] = []
    for item in pool:  # id order = acceptance order; seeds first
        if item["origin"] != "seed" and seen:
            best = max(scorer.score(item["instruction"], other)["rougeL"].fmeasure for other in seen)
            violations += best > 0.7
        seen.append(item["instruction"])
    server_errors = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    print(
        f"{label}: {len(responses)} requests in {elapsed:.1f}s, statuses {dict(sorted(statuses.items()))}, "
        f"5xx other than 503: {server_errors}, 429/503 without Retry-After: {no_retry_after}"
    )
    print(
        f"{label}: pool {len(pool)} items ({sum(i['origin'] != 'seed' for i in pool)} accepted), "
        f"novelty violations by brute force: {violations}; queued jobs all finished: {finished}; "
        f"job posted afterwards: {later_job.get('status')} ({later_job.get('accepted')} accepted)"
    )
    return server_errors == 0 and violations == 0 and no_retry_after == 0 and finished and bool(later)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= asyncio.run(run(f"sqlite:///{tmp}/saturation.db", "sqlite", embedder, Path(tmp)))
        schema = f"si_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
            ok &= asyncio.run(run(url, "postgresql", embedder, Path(tmp) / "pg"))
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA {schema} CASCADE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
