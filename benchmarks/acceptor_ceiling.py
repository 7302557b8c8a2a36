"""The service's ceiling against an instant server whose completions are real texts: old path vs new.

The fake OpenAI-compatible server (``tests/support/fake_openai_server.py``) answers at once, and its numbered
lists are drawn from a corpus of real texts (``benchmarks/corpus.py``: the public Self-Instruct tasks
in ../shared/data, then English sentences from installed packages' docstrings) with near-duplicates
mixed in: of each completion's items about 60% are corpus texts not sent before, 25% an earlier item
with one word dropped, swapped or replaced, 15% an earlier item repeated with its case changed. So the
heuristics, exact, ROUGE-L and embedding gates see a realistic accept/reject mix.

Both paths run in this process, one after the other, against the same server, with the same real
MiniLM embedder (ONNX Runtime, as the service runs it), SQLite ledger and the default chain:

* ``old``: every finished request stored alone, embedded inside the dataset's lock (the acceptor as it
  was: ``decide`` prepares, i.e. embeds, inside ``accepting``), rows inserted as ``batched, ORM rows``;
* ``batched, ORM rows``: the job runner's batching (the requests finished by then parsed and embedded
  together before the lock, decided in one locked section and one transaction), each decided row built
  as a table object and flushed at each accepted candidate, for its id (the acceptor before ids were
  allocated ahead);
* ``batched, bulk inserts``: the same batching, the rows' ids allocated before deciding and each
  request's decided rows inserted in one statement (the runner before requests were prepared ahead);
* ``new``: the job runner as shipped: as ``batched, bulk inserts``, and each request parsed and embedded
  as it finishes, in a thread of its own (``app/jobs/preparing.py``), while the runner decides the batch
  before; the embedder keeps vectors by their token ids (``SI_EMBEDDING_CACHE_ITEMS``), so a
  case-changed repeat is not run through the model again. The older paths run without that cache.

Printed per path: requests/min, candidates decided/min, accepted/min, and the runner thread's CPU per
candidate inside the dataset's lock and outside it (parse, heuristics, tokens, embedding; in ``new`` the
preparing thread's share of that is in "whole process"), the share of embedded texts the vector cache
answered, then the ratios.

    python benchmarks/acceptor_ceiling.py [--seconds 30] [--warmup 8] [--in-flight 32] [--rounds 1]
        [--paths old,orm,bulk,new]

With ``--rounds N`` every path runs N times, the paths interleaved, and the figures are summed over the
rounds (on a shared machine a busy spell then hits every path); the ratio of each round is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.corpus import load_corpus  # noqa: E402
from benchmarks.old_paths import NoPreparer, insert_row_by_row, nothing_prepared  # noqa: E402
from benchmarks.real_text_server import RealTextServer  # noqa: E402

PATHS = {"old": "old", "orm": "batched, ORM rows", "bulk": "batched, bulk inserts", "new": "new"}


class LockMeter:
    """Thread CPU seconds spent in the runner's store path, and the part of it under the dataset lock."""

    def __init__(self) -> None:
        self.inside = 0.0
        self.store = 0.0
        self.sections = 0

    def reset(self) -> None:
        self.inside = self.store = 0.0
        self.sections = 0

    def install(self, path: str) -> contextlib.ExitStack:
        import app.jobs.runner as runner_module
        import app.jobs.storing as storing_module
        from app.jobs.inflight import RequestWindow
        from app.pipeline import acceptor

        stack = contextlib.ExitStack()
        original_accepting = acceptor.accepting
        original_store = runner_module.JobRunner._store
        meter = self

        @contextlib.contextmanager
        def timed_accepting(*args: object, **kwargs: object) -> Iterator[None]:
            with original_accepting(*args, **kwargs):  # type: ignore[arg-type]
                started = time.thread_time()
                try:
                    yield
                finally:
                    meter.inside += time.thread_time() - started
                    meter.sections += 1

        def timed_store(self: object, *args: object, **kwargs: object) -> None:
            started = time.thread_time()
            try:
                original_store(self, *args, **kwargs)  # type: ignore[arg-type]
            finally:
                meter.store += time.thread_time() - started

        def old_decide(*args: object, **kwargs: object) -> object:
            kwargs.pop("prepared", None)  # decide() then embeds itself, inside the lock
            return original_decide(*args, **kwargs)  # type: ignore[arg-type]

        original_decide = storing_module.decide
        stack.enter_context(_patched(storing_module, "accepting", timed_accepting))
        stack.enter_context(_patched(runner_module.JobRunner, "_store", timed_store))
        if path != "new":
            stack.enter_context(_patched(runner_module, "RequestPreparer", NoPreparer))
        if path in ("old", "batched, ORM rows"):
            stack.enter_context(_patched(acceptor, "insert_decided", insert_row_by_row))
        if path == "old":
            stack.enter_context(_patched(storing_module, "prepare", nothing_prepared))
            stack.enter_context(_patched(storing_module, "decide", old_decide))
            stack.enter_context(_patched(RequestWindow, "take_done", lambda self: []))
        return stack


@contextlib.contextmanager
def _patched(owner: object, name: str, value: object) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


async def measure(args: argparse.Namespace, server: RealTextServer, embedder: object, path: str) -> dict:

    from benchmarks.fake_service import service_client

    workdir = Path(tempfile.mkdtemp(prefix="acceptor-ceiling-"))
    meter = LockMeter()
    with meter.install(path):
        async with service_client(
            server,
            embedder,
            f"sqlite:///{workdir}/bench.db",
            max_in_flight=args.in_flight,
            index_dir=workdir / "indexes",
        ) as (app, client):
            response = await client.post(
                "/v1/datasets/default/jobs", json={"target": 100000, "max_requests": 1000000, "seed": 1}
            )
            location = response.headers["location"]
            await asyncio.sleep(args.warmup)
            before = (await client.get(location)).json()
            meter.reset()
            started, cpu_started = time.monotonic(), time.process_time()
            await asyncio.sleep(args.seconds)
            after = (await client.get(location)).json()
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
            inside, store, sections = meter.inside, meter.store, meter.sections
            await client.post(f"{location}/cancel")
            await asyncio.to_thread(app.state.jobs.worker.wait_for, after["id"], 120)
    if after["status"] not in ("running", "queued", "cancelled"):
        raise SystemExit(f"job ended early: {after['status']} {after['error']}")
    return {
        "path": path,
        "elapsed": elapsed,
        "cpu": cpu,
        "decided": after["generated"] - before["generated"],
        "requests": after["requests"] - before["requests"],
        "accepted": after["accepted"] - before["accepted"],
        "inside": inside,
        "store": store,
        "sections": sections,
    }


def rates(totals: dict) -> dict:
    """Per-minute and per-candidate figures of a path's measured totals (summed over rounds)."""
    minutes, decided = totals["elapsed"] / 60, max(totals["decided"], 1)
    return {
        "path": totals["path"],
        "requests_per_min": totals["requests"] / minutes,
        "decided_per_min": totals["decided"] / minutes,
        "accepted_per_min": totals["accepted"] / minutes,
        "accept_rate": totals["accepted"] / decided,
        "inside_ms": 1000 * totals["inside"] / decided,
        "outside_ms": 1000 * (totals["store"] - totals["inside"]) / decided,
        "process_ms": 1000 * totals["cpu"] / decided,
        "requests_per_section": totals["requests"] / max(totals["sections"], 1),
        "cache": totals["hits"] / max(totals["lookups"], 1) if totals["lookups"] else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window per path")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring")
    parser.add_argument("--in-flight", type=int, default=32, help="SI_MAX_IN_FLIGHT")
    parser.add_argument("--corpus", type=int, default=120_000, help="corpus size (benchmarks/corpus.py)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every path, interleaved; summed")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"some of {','.join(PATHS)}; new last")
    args = parser.parse_args()
    paths = [PATHS.get(p.strip(), p) for p in args.paths.split(",")]
    if set(paths) - set(PATHS.values()) or paths[-1] != "new":
        parser.error(f"--paths: choose from {', '.join(PATHS)} (new last)")
    logging.basicConfig(level=logging.WARNING)

    from app.core.settings import Settings
    from filters.embedding import SentenceTransformerEmbedder

    settings = Settings(_env_file=None)
    corpus = load_corpus(args.corpus)
    totals: dict[str, dict] = {}
    ratios: list[float] = []
    for round_ in range(args.rounds):  # paths interleaved: a busy spell on a shared machine hits them all
        speed: dict[str, float] = {}
        for path in paths:
            # a fresh embedder per run: the old paths without the vector cache, new with the default one
            embedder = SentenceTransformerEmbedder(
                onnx_cache_dir=settings.onnx_cache_dir,
                threads=settings.torch_threads,
                cache_items=settings.embedding_cache_items if path == "new" else 0,
            )
            embedder.embed(["warm up the model"])
            with RealTextServer(corpus) as server:  # the same stream of completions for every path
                run = await measure(args, server, embedder, path)
            cache = getattr(getattr(embedder, "_onnx", None), "cache", None)
            run["hits"] = cache.hits if cache is not None else 0
            run["lookups"] = cache.hits + cache.misses if cache is not None else 0
            summed = totals.setdefault(path, dict.fromkeys(run, 0))
            for key, value in run.items():
                summed[key] = value if key == "path" else summed[key] + value
            speed[path] = run["requests"] / run["elapsed"]
            print(f"  round {round_ + 1}: measured the {path} path", file=sys.stderr, flush=True)
        ratios.append(speed["new"] / max(speed[paths[0]], 1e-9))
    rows = [rates(totals[path]) for path in paths]
    print(
        f"\ninstant server, {args.in_flight} requests in flight, 2 samples x 6 items per request, "
        f"{args.seconds:.0f}s measured after {args.warmup:.0f}s, {args.rounds} round(s); "
        f"corpus of {len(corpus)} real texts"
    )
    print(
        "| path | requests/min | candidates decided/min | accepted/min | accepted | "
        "CPU/candidate in lock | outside lock | whole process | requests per locked section | "
        "embedded texts from the cache |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['path']} | {r['requests_per_min']:.0f} | {r['decided_per_min']:.0f} "
            f"| {r['accepted_per_min']:.0f} | {r['accept_rate']:.0%} | {r['inside_ms']:.2f} ms "
            f"| {r['outside_ms']:.2f} ms | {r['process_ms']:.2f} ms | {r['requests_per_section']:.1f} "
            f"| {'-' if r['cache'] is None else format(r['cache'], '.0%')} |"
        )
    new = rows[-1]
    for before in rows[:-1]:
        print(
            f"new/{before['path']}: "
            f"requests/min {new['requests_per_min'] / before['requests_per_min']:.2f}x, "
            f"accepted/min {new['accepted_per_min'] / max(before['accepted_per_min'], 1e-9):.2f}x, "
            f"CPU per candidate in the lock {before['inside_ms'] / max(new['inside_ms'], 1e-9):.1f}x less, "
            f"whole process {before['process_ms'] / max(new['process_ms'], 1e-9):.2f}x less"
        )
    if args.rounds > 1:
        print(f"new/{paths[0]} requests/min in each round: " + ", ".join(f"{r:.2f}x" for r in ratios))


if __name__ == "__main__":
    asyncio.run(main())
