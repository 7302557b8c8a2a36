"""Requests sent vs requests used by one job: a fixed window of ``SI_MAX_IN_FLIGHT`` vs a window sized from
the remaining target and the measured yield (``SI_REQUEST_SIZING``), in the same run.

Starts the fake OpenAI-compatible server (``tests/support/fake_openai_server.py``) as a server that does
not abort a request whose client went away (as ``transformers serve``), serving ``--capacity`` requests at
once, each ``--latency`` seconds plus its tokens at ``--tokens-per-s``. For each sizing it builds the real
service (``create_app``: API, worker, dispatcher, real MiniLM embedder, ROUGE and embedding filters,
SQLite ledger), runs one job of ``--target`` accepted instructions and prints: requests the server
received, requests the job stored (used), requests cancelled at the end, the job's wall time, and the
server's time spent after the job ended on requests nobody wanted.

    python benchmarks/request_sizing.py [--target 20] [--in-flight 32] [--capacity 16] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


async def run_job(args: argparse.Namespace, embedder, sizing: str, workdir: Path) -> dict:

    from benchmarks.fake_service import service_client
    from tests.support.fake_openai_server import FakeOpenAIServer

    server = FakeOpenAIServer(
        latency_s=args.latency,
        tokens_per_s=args.tokens_per_s,
        capacity=args.capacity,
        abort_on_disconnect=False,
        items_per_completion=args.items,
    )
    with server:
        async with service_client(
            server,
            embedder,
            f"sqlite:///{workdir}/sizing-{sizing}.db",
            max_in_flight=args.in_flight,
            request_sizing=sizing,
        ) as (app, client):
            started = time.monotonic()
            response = await client.post("/v1/datasets/default/jobs", json={"target": args.target, "seed": 1})
            location = response.headers["location"]
            job_id = int(location.rsplit("/", 1)[1])
            await asyncio.to_thread(app.state.jobs.worker.wait_for, job_id, 600)
            wall = time.monotonic() - started
            job = (await client.get(location)).json()
        ended = time.monotonic()
        while server.stats.served < server.stats.requests and time.monotonic() - ended < 120:
            await asyncio.sleep(0.05)  # the server works on what the job no longer wanted
        busy_after = time.monotonic() - ended
    return {
        "sizing": sizing,
        "status": job["status"],
        "sent": server.stats.requests,
        "used": job["requests"],
        "cancelled": job["counts"]["requests"].get("cancelled", 0),
        "accepted": job["accepted"],
        "wall": wall,
        "busy_after": busy_after,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=32, help="SI_MAX_IN_FLIGHT")
    parser.add_argument("--capacity", type=int, default=16, help="requests the server serves at once")
    parser.add_argument("--latency", type=float, default=0.5, help="fixed seconds per request")
    parser.add_argument("--tokens-per-s", type=float, default=50.0, help="decode speed per request")
    parser.add_argument("--items", type=int, default=6, help="tasks per fake completion")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from filters.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    with tempfile.TemporaryDirectory() as workdir:
        rows = [await run_job(args, embedder, sizing, Path(workdir)) for sizing in ("fixed", "yield")]
    print(
        f"\ntarget {args.target}, SI_MAX_IN_FLIGHT={args.in_flight}; fake server: {args.capacity} at once, "
        f"{args.latency}s + tokens at {args.tokens_per_s}/s, no abort on disconnect\n"
    )
    print("| sizing | status | requests sent | used | cancelled | accepted | job s | server busy after s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['sizing']} | {r['status']} | {r['sent']} | {r['used']} | {r['cancelled']} | "
            f"{r['accepted']} | {r['wall']:.1f} | {r['busy_after']:.1f} |"
        )
    old, new = rows
    print(
        f"\nrequests sent per used request: fixed {old['sent'] / max(old['used'], 1):.1f}, "
        f"yield {new['sent'] / max(new['used'], 1):.1f} "
        f"(ratio {old['sent'] / max(new['sent'], 1):.1f}x fewer sent)"
    )


if __name__ == "__main__":
    asyncio.run(main())
