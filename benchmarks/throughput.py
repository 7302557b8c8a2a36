"""Generation throughput against an OpenAI-compatible server: is the service the bottleneck?

Starts the fake OpenAI-compatible server (``tests/support/fake_openai_server.py``) with a speed model
like a GPU server's: at most ``--capacity`` requests served at once (the rest queue, as in vLLM's scheduler),
each taking ``--latency`` seconds plus its completion tokens at ``--tokens-per-s``. For each in-flight
concurrency (``SI_MAX_IN_FLIGHT``) it builds the real service (``create_app``: HTTP API, job worker,
dispatcher, real MiniLM embedder, ROUGE and embedding filters, SQLite ledger), starts one job through
the API and, after a warm-up, measures for ``--seconds``:

* requests/min and accepted instructions/min stored by the job;
* the fraction of the server's capacity that was busy (slot-seconds used / capacity × seconds).

At a concurrency at or above the server's capacity the service should keep it ≥ 95% busy.

    python benchmarks/throughput.py [--capacity 16] [--latency 0.5] [--tokens-per-s 10]
                                    [--concurrency 1,4,8,16,24,32] [--seconds 20]

It also measures the service's own ceiling (an instant server): the requests/min the service can parse,
filter (MiniLM embedding, ROUGE-L) and store. A server faster than that ceiling is not kept busy by
any concurrency; the filters, not the request path, are then the bottleneck.
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


async def measure(args: argparse.Namespace, server, embedder, concurrency: int, workdir: Path) -> dict:

    from benchmarks.fake_service import service_client

    async with service_client(
        server, embedder, f"sqlite:///{workdir}/bench-{concurrency}.db", max_in_flight=concurrency
    ) as (app, client):
        response = await client.post(
            "/v1/datasets/default/jobs", json={"target": 100000, "max_requests": 1000000, "seed": 1}
        )
        location = response.headers["location"]
        await asyncio.sleep(args.warmup)
        server.reset_stats()
        before = (await client.get(location)).json()
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        after = (await client.get(location)).json()
        elapsed = time.monotonic() - started
        utilisation = server.utilisation()
        peak = server.stats.max_concurrent
        await client.post(f"{location}/cancel")
        await asyncio.to_thread(app.state.jobs.worker.wait_for, after["id"], 120)
    if after["status"] not in ("running", "queued"):
        raise SystemExit(f"job ended early: {after['status']} {after['error']}")
    minutes = elapsed / 60
    return {
        "concurrency": concurrency,
        "requests_per_min": (after["requests"] - before["requests"]) / minutes,
        "accepted_per_min": (after["accepted"] - before["accepted"]) / minutes,
        "utilisation": utilisation,
        "peak": peak,
        "tokens_per_accepted": after["tokens_per_accepted"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capacity", type=int, default=16, help="requests the server serves at once")
    parser.add_argument("--latency", type=float, default=0.5, help="fixed seconds per request")
    parser.add_argument("--tokens-per-s", type=float, default=10.0, help="decode speed per request")
    parser.add_argument("--concurrency", default="1,4,8,16,24,32", help="SI_MAX_IN_FLIGHT values")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per point")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from filters.embedding import SentenceTransformerEmbedder
    from tests.support.fake_openai_server import FakeOpenAIServer

    embedder = SentenceTransformerEmbedder()
    points = [int(c) for c in args.concurrency.split(",")]
    server = FakeOpenAIServer(latency_s=args.latency, tokens_per_s=args.tokens_per_s, capacity=args.capacity)
    rows = []
    with server, tempfile.TemporaryDirectory() as workdir:
        for concurrency in points:
            rows.append(await measure(args, server, embedder, concurrency, Path(workdir)))
            print(f"  measured concurrency {concurrency}", file=sys.stderr, flush=True)
        # the service's own ceiling: a server that answers at once, as many requests as it is sent
        with FakeOpenAIServer(capacity=1000) as instant:
            ceiling = await measure(args, instant, embedder, max(points), Path(workdir))
    print(
        f"\nfake server: {args.capacity} requests served at once, each {args.latency}s + completion tokens "
        f"at {args.tokens_per_s}/s; {args.seconds:.0f}s measured per point after {args.warmup:.0f}s warm-up"
    )
    print(
        f"service ceiling (instant server, {ceiling['concurrency']} in flight): "
        f"{ceiling['requests_per_min']:.0f} requests/min, {ceiling['accepted_per_min']:.0f} accepted/min\n"
    )
    print("| in flight | requests/min | accepted/min | server capacity used | peak concurrent at server |")
    print("|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['concurrency']} | {row['requests_per_min']:.0f} | {row['accepted_per_min']:.0f} "
            f"| {row['utilisation']:.1%} | {row['peak']} |"
        )
    best = max(rows, key=lambda r: r["utilisation"])
    print(f"\nhighest capacity used: {best['utilisation']:.1%} at {best['concurrency']} in flight")


if __name__ == "__main__":
    asyncio.run(main())
