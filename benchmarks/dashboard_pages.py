"""Server time of every API call each dashboard page makes, with 100,000 stored instructions.

Builds a database (benchmarks/dashboard_data.py: 100,000 decided candidates of five jobs, seeds, 300
reviews, 2,000 instances), starts the real app in-process (``create_app``, fake backend, no job worker),
and for each page of the README's dashboard section times each call ``--runs`` times (the
time around the in-process request: routing, the database, serialisation). One line per call (p50, p95),
then the page: p50 and p95 of the per-run sum of its calls (the browser may overlap them; the sum is the
worst case). ``GET /`` is timed only where the dashboard is installed.

For each call made faster, the old path from the same run beside it: the previous code of ``GET …/stats``
(benchmarks/dashboard_old_stats.py) and the dataset counts (``GET /v1/datasets``, ``GET …/{name}``) on a
copy of the database without migration 0011's indexes (SQLite; PostgreSQL: the same database), and the
new code, both called directly (no HTTP) and interleaved run by run, with the ratio. The route keeps
the counted parts of ``…/stats`` and brings them forward by the rows added since
(app/datasets/kept_stats.py): its HTTP line is a repeated view; "right after N new candidates" is the
same call after ``--added`` candidates of a job were committed by another connection (60: what a running
job adds between two views; 2,000: a page opened after a job finished; each run adds them again); the
direct "counted afresh" line is a view after a replay, or a process's first view of the dataset before
its start-up count finished. The dataset page is printed each way.

    python benchmarks/dashboard_pages.py [--rows 100000] [--runs 20] [--added 60,2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MS = 200.0
STATS = "GET …/stats"


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def timed(call: Callable[[], Awaitable[object]], runs: int, warm: bool = True) -> list[float]:
    if warm:
        await call()  # a pool built, statements prepared
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def old_path_database(url: str, folder: Path) -> str | None:
    """A copy of the SQLite database without migration 0011's indexes (the schema the old code ran on)."""
    if not url.startswith("sqlite:///"):
        return None
    import sqlite3

    source = Path(url.removeprefix("sqlite:///"))
    copy = folder / "old.db"
    shutil.copy(source, copy)
    with sqlite3.connect(copy) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ("
                "'ix_instruction_tally', 'ix_instruction_arrival', 'ix_instruction_job_arrival',"
                "'ix_instruction_relevance',"
                "'ix_instruction_judge_score', 'ix_instruction_judge_expected', 'ix_instruction_max_cosine',"
                "'ix_instruction_max_rouge_l')"
            )
        ]
        for name in names:
            connection.execute(f"DROP INDEX {name}")
    return f"sqlite:///{copy}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--added", default="60,2000", help="candidates added before each first view (comma-separated sizes)"
    )
    args = parser.parse_args()

    import httpx
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from app.core.db import create_tables, make_engine
    from app.core.settings import Settings
    from app.datasets import service
    from app.datasets import stats as stats_service
    from app.datasets.service import get_dataset
    from app.main import create_app
    from benchmarks.dashboard_data import add_candidates, build_dataset
    from benchmarks.dashboard_old_stats import old_stats
    from generators.backends.fake import FakeBackend

    folder = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    create_tables(engine)
    start = time.perf_counter()
    dataset_id = build_dataset(engine, args.rows, name="big")
    print(f"built {args.rows} candidates in {time.perf_counter() - start:.1f}s ({engine.dialect.name})")
    old_url = old_path_database(url, folder)
    old_engine = make_engine(old_url) if old_url else engine
    settings = Settings(
        database_url=url,
        backend="fake",
        default_dataset=None,
        warm_pools=False,
        index_dir=folder / "indexes",
        _env_file=None,
    )
    app = create_app(settings, backend=FakeBackend(), workers=False)
    results: list[tuple[str, str, list[float]]] = []
    after_rows: dict[int, list[float]] = {}  # GET …/stats right after so many new rows
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.backend.ready.wait, 60)
        await asyncio.to_thread(app.state.pools.ready.wait, 600)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:

            def get(path: str, **params: object) -> Callable[[], Awaitable[object]]:
                async def call() -> object:
                    response = await client.get(path, params=params)
                    assert response.status_code == 200, (path, response.status_code, response.text[:300])
                    return response

                return call

            job_id = (await client.get("/v1/jobs", params={"dataset": "big", "limit": 1})).json()[0]["id"]
            generated = {"limit": 50, "origin": "generated"}
            first = (await client.get("/v1/datasets/big/instructions", params=generated)).json()["items"]
            neighbour = next(item["rouge_neighbor_id"] for item in first if item["rouge_neighbor_id"])
            queue = (await client.get("/v1/datasets/big/review-queue", params={"limit": 20})).json()
            reviewed = iter([item["id"] for item in queue["items"]] * (args.runs + 2))

            async def post_review() -> object:
                body = {"instruction_id": next(reviewed), "state": "approved", "reviewer": "bench"}
                response = await client.post("/v1/datasets/big/reviews", json=body)
                assert response.status_code in (200, 201), response.text[:300]
                return response

            shell = (await client.get("/")).status_code == 200
            pages: list[tuple[str, list[tuple[str, Callable[[], Awaitable[object]]]]]] = [
                (
                    "#/ datasets",
                    [
                        *([("GET /", get("/"))] if shell else []),
                        ("GET /v1/auth", get("/v1/auth")),
                        ("GET /v1/datasets", get("/v1/datasets")),
                        ("GET /v1/jobs?limit=20", get("/v1/jobs", limit=20)),
                    ],
                ),
                (
                    "#/datasets/big",
                    [
                        ("GET /v1/datasets/big", get("/v1/datasets/big")),
                        ("GET …/stats", get("/v1/datasets/big/stats")),
                        ("GET …/agreement", get("/v1/datasets/big/agreement")),
                        ("GET /v1/jobs?dataset=big", get("/v1/jobs", dataset="big")),
                    ],
                ),
                (
                    f"#/jobs/{job_id}",
                    [
                        ("GET /v1/jobs/{id}", get(f"/v1/jobs/{job_id}")),
                        ("GET /v1/jobs/{id}/timeline", get(f"/v1/jobs/{job_id}/timeline")),
                    ],
                ),
                (
                    "#/datasets/big/instructions",
                    [
                        ("GET …/instructions?limit=50", get("/v1/datasets/big/instructions", limit=50)),
                        ("GET …/instructions/{id}", get(f"/v1/datasets/big/instructions/{neighbour}")),
                    ],
                ),
                (
                    "#/datasets/big/instructions?q=",
                    [("GET …/similar?q=&k=20", get("/v1/datasets/big/similar", q="Explain tides", k=20))],
                ),
                (
                    "#/datasets/big/review",
                    [
                        ("GET …/review-queue?limit=20", get("/v1/datasets/big/review-queue", limit=20)),
                        ("POST …/reviews", post_review),
                    ],
                ),
            ]
            if not shell:
                print("GET / : not installed on this branch (skipped)")
            for page, calls in pages:
                for name, call in calls:
                    results.append((page, name, await timed(call, args.runs)))
            stats_call = get("/v1/datasets/big/stats")
            for added in (int(n) for n in args.added.split(",")):  # rows arrive between two views
                after_rows[added] = []
                for run in range(args.runs):
                    await asyncio.to_thread(add_candidates, engine, dataset_id, added, job_id, run)
                    after_rows[added].extend(await timed(stats_call, 1, warm=False))

    def direct(on: Engine, function: Callable[[Session], object]) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            def run() -> object:
                with Session(on) as session:
                    return function(session)

            return await asyncio.to_thread(run)

        return call

    compared = {  # name: (old path, new path), both called directly
        "GET …/stats": (
            direct(old_engine, lambda s: old_stats(s, dataset_id)),
            # counted afresh: a view after a replay, or a process's first before its start-up count
            direct(engine, lambda s: stats_service.dataset_stats(s, get_dataset(s, "big"), 50, False)),
        ),
        "GET /v1/datasets/big": (
            direct(old_engine, lambda s: service.dataset_counts(s, dataset_id)),  # the same code then
            direct(engine, lambda s: service.dataset_counts(s, dataset_id)),
        ),
    }
    old: dict[str, tuple[list[float], list[float]]] = {}
    for name, (old_path, new_path) in compared.items():  # interleaved, so both see the same load
        old[name] = ([], [])
        for _ in range(args.runs):
            old[name][0].extend(await timed(old_path, 1))
            old[name][1].extend(await timed(new_path, 1))
    report(results, old, old_url is not None, after_rows)
    engine.dispose()
    if old_engine is not engine:
        old_engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def report(
    results: list[tuple[str, str, list[float]]],
    old: dict[str, tuple[list[float], list[float]]],
    old_schema: bool,
    after_rows: dict[int, list[float]],
) -> None:
    where = "without 0011's indexes" if old_schema else "same database"
    print(f"{'page / call':58s} {'p50 ms':>8s} {'p95 ms':>8s}")
    pages: dict[str, list[list[float]]] = {}
    for page, name, times in results:
        pages.setdefault(page, []).append(times)
        p50, p95 = percentiles(times)
        line = f"  {page:28s} {name:27s} {p50:8.1f} {p95:8.1f}"
        print(line)
        if name in old:
            o50, o95 = percentiles(old[name][0])
            n50, n95 = percentiles(old[name][1])
            new = "new, counted afresh" if name == STATS else "new"
            print(
                f"      called directly: old path ({where}) p50 {o50:.1f} p95 {o95:.1f} | "
                f"{new} p50 {n50:.1f} p95 {n95:.1f} | old/new {o50 / n50:.1f}x"
            )
        if name == STATS:
            for added, times in after_rows.items():
                a50, a95 = percentiles(times)
                print(
                    f"      right after {added} new candidates (kept counts brought forward): "
                    f"p50 {a50:.1f} p95 {a95:.1f}"
                )
    for page, calls in pages.items():
        page_line(page, [sum(run) for run in zip(*calls, strict=True)])
        names = [name for p, name, _ in results if p == page]
        if STATS in names and STATS in old:  # the page with its stats call as a first view
            at = names.index(STATS)
            firsts = [(f"after {n} new rows", times) for n, times in after_rows.items()]
            for label, times in [*firsts, ("counted afresh", old[STATS][1])]:
                runs = zip(zip(*calls, strict=True), times, strict=True)
                page_line(f"{page} ({label})", [sum(run) - run[at] + first for run, first in runs])


def page_line(page: str, totals: list[float]) -> None:
    p50, p95 = percentiles(totals)
    verdict = "ok" if p95 <= TARGET_MS else f"over {TARGET_MS:.0f} ms"
    print(f"page {page:53s} {p50:8.1f} {p95:8.1f}   ({verdict})")


if __name__ == "__main__":
    asyncio.run(main())
