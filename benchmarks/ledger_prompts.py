"""Prompt bytes in the generation ledger: one copy per completion (as every row stored it before) vs
once per request (as stored now), from the same job.

Runs one generation job through the real service on the fake backend (``--samples`` completions per
request), then sums, over the job's ledger rows, the prompt each row shows (what one copy per row
stores) and the prompt text actually stored.

    python benchmarks/ledger_prompts.py [--target 60] [--samples 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--target", type=int, default=60)
    parser.add_argument("--samples", type=int, default=4)
    options = parser.parse_args()

    import httpx
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from app.core.settings import Settings
    from app.main import create_app
    from app.models import Generation
    from generators.backends.fake import FakeBackend

    workdir = Path(tempfile.mkdtemp(prefix="ledger-prompts-"))
    settings = Settings(
        database_url=f"sqlite:///{workdir}/bench.db",
        backend="fake",
        samples_per_prompt=options.samples,
        index_dir=workdir / "indexes",
        _env_file=None,
    )
    app = create_app(settings, backend=FakeBackend())
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.pools.ready.wait, 120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            body = {"target": options.target, "seed": 1}
            posted = await client.post("/v1/datasets/default/jobs", json=body)
            job = posted.json()
            while job["status"] in ("queued", "running"):
                await asyncio.sleep(0.2)
                job = (await client.get(posted.headers["location"])).json()
            shown: list[dict] = []
            params: dict[str, str] = {}
            while True:  # every page of the job's ledger, each row with its request's prompt
                page = await client.get(f"/v1/jobs/{job['id']}/generations", params=params)
                shown += page.json()
                if "x-next-cursor" not in page.headers:
                    break
                params = {"cursor": page.headers["x-next-cursor"]}
        with Session(app.state.engine) as session:
            stored = session.exec(
                select(func.sum(func.length(Generation.prompt))).where(col(Generation.job_id) == job["id"])
            ).one()
    per_row = sum(len(g["prompt"]) for g in shown)
    rows = f"{len(shown)} ledger rows ({options.samples} per request)"
    print(f"job {job['status']}: {job['requests']} requests, {rows}")
    print(f"{'prompt characters stored':<40}{'chars':>12}{'per row':>10}")
    print(f"{'one copy per row (before)':<40}{per_row:>12}{per_row / len(shown):>10.0f}")
    print(f"{'once per request (now)':<40}{stored:>12}{stored / len(shown):>10.0f}")
    print(f"ratio: {per_row / stored:.2f}x less prompt text")


if __name__ == "__main__":
    asyncio.run(main())
