"""``GET /v1/datasets/{name}/similar`` over 100K stored instructions, driven over loopback.

Loads 100K real texts with their cached MiniLM vectors (``benchmarks/corpus.py``) straight into a fresh
SQLite database, then for each configuration starts ``selfinstruct serve`` as its own process, times how
long it takes to be ready (the restart path: indexes rebuilt from stored vectors and texts, nothing
re-embedded), and drives it from a separate load-generating process:

* an open loop at a fixed rate (100 requests/s by default) — latency p50/p99 as a client sees it;
* a closed loop with 32 concurrent clients — the sustained requests/s.

The first start finds nothing saved: it is ready once the ROUGE index and an exact flat FAISS index
are built from the stored texts and vectors, and builds the HNSW graph in the background, then saves
it; the ``ready s`` column is each later restart, which loads the saved graph.

Configurations, side by side from the same run: ``one-by-one`` (each request embeds its own query and
searches alone, one at a time: ``SI_SIMILAR_MAX_BATCH=1``), ``1 worker`` (one batch of up to 8 queries
at a time) and ``batched`` (the defaults: two batches of up to 8 at a time, one thread each; a quiet
service answers each query alone, a busy one shares the FAISS search and the hand-off to the thread).

    python benchmarks/retrieval.py [--rows 100000] [--rate 100] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "benchmarks" / ".cache"
DATASET = "bench"
PORT = 8157
CONFIGS = {
    "one-by-one": {"SI_SIMILAR_MAX_BATCH": "1", "SI_SIMILAR_WORKERS": "1"},
    "1 worker": {"SI_SIMILAR_WORKERS": "1"},
    "batched": {},
}


def build_database(path: Path, rows: int) -> list[str]:
    """A fresh database holding ``rows`` corpus texts (as seeds, with vectors); returns held-out queries."""
    from benchmarks.corpus import load_corpus, load_corpus_embeddings
    from benchmarks.stored_pool import store_pool

    texts = load_corpus()
    vectors = load_corpus_embeddings()
    if len(texts) < rows + 1000:
        raise SystemExit(f"corpus has {len(texts)} texts; need {rows} + 1000 held-out queries")
    seconds = store_pool(path, DATASET, "retrieval benchmark", texts[:rows], vectors[:rows], origin="seed")
    print(f"stored {rows} rows with vectors in {seconds:.1f}s")
    return texts[rows : rows + 1000]


def start_server(db: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    import httpx

    env = {
        **os.environ,
        "SI_DATABASE_URL": f"sqlite:///{db}",
        "SI_DEFAULT_DATASET": "",
        "SI_BACKEND": "fake",
        "SI_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        **extra_env,
    }
    command = [str(ROOT / ".venv" / "bin" / "selfinstruct"), "serve", "--port", str(PORT), "--no-worker"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while time.perf_counter() - started < 120:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/readyz", timeout=1).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("server was not ready within 120 s")


def cpu_ticks() -> list[int] | None:
    """The machine's CPU time counters (``/proc/stat``: user … steal), or None where there are none."""
    try:
        with open("/proc/stat") as stat:
            return [int(field) for field in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of the CPU time between two readings that was stolen (given to other virtual machines)."""
    if before is None or after is None:
        return None
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / sum(spent) if sum(spent) else 0.0


def wait_for_saved_graph(folder: Path, started: float, limit_s: float = 300) -> float:
    """Seconds from ``started`` until the service has saved a built index into ``folder``."""
    while time.perf_counter() - started < limit_s:
        if any(folder.glob("*.faiss")):
            return time.perf_counter() - started
        time.sleep(0.1)
    raise SystemExit(f"no index was saved into {folder} within {limit_s:.0f} s")


# ---------------------------------------------------------------- load generator (its own process)
class LeanClient:
    """Keep-alive HTTP/1.1 GETs over plain asyncio streams, one request per connection at a time.

    The load generator shares the 2 cores with the service; httpx spent about 2 ms of CPU per request
    here, this client a fraction of that, so the figures are the service's, not the client's.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, target: str) -> tuple[int, bytes]:
        while self.idle:  # kept-alive connections the server closed meanwhile are dropped
            try:
                return await self._exchange(*self.idle.pop(), target)
            except (asyncio.IncompleteReadError, ConnectionError):
                continue
        return await self._exchange(*await asyncio.open_connection("127.0.0.1", self.port), target)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str
    ) -> tuple[int, bytes]:
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return int(head.split(b" ", 2)[1]), body

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _one(client: LeanClient, queries: list[str], rng: random.Random) -> float:
    started = time.perf_counter()
    query = urlencode({"q": rng.choice(queries), "k": 10})
    status, body = await client.get(f"/v1/datasets/{DATASET}/similar?{query}")
    if status != 200 or b'"items":[{' not in body:
        raise RuntimeError(f"bad answer {status}: {body[:200]!r}")
    return started


async def open_loop(queries: list[str], rate: float, seconds: float) -> dict:
    rng = random.Random(1)
    latencies: list[float] = []
    client = LeanClient(PORT)
    begin = time.perf_counter()
    total = int(rate * seconds)

    async def fire(i: int) -> None:
        scheduled = begin + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        await _one(client, queries, rng)
        latencies.append(time.perf_counter() - scheduled)  # includes any queueing in the client

    await asyncio.gather(*(fire(i) for i in range(total)))
    elapsed = time.perf_counter() - begin
    client.close()
    return {"requests": total, "seconds": elapsed, "latencies": latencies}


async def closed_loop(queries: list[str], concurrency: int, seconds: float) -> dict:
    rng = random.Random(2)
    latencies: list[float] = []
    client = LeanClient(PORT)
    begin = time.perf_counter()
    stop = begin + seconds

    async def user() -> None:
        while time.perf_counter() < stop:
            started = await _one(client, queries, rng)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    client.close()
    return {"requests": len(latencies), "seconds": elapsed, "latencies": latencies}


def load_main(args: argparse.Namespace) -> None:
    queries = json.loads(Path(args.queries).read_text())
    for query in queries[:20]:  # warm-up
        asyncio.run(closed_loop([query], 1, 0.01))
    result = {
        "open": asyncio.run(open_loop(queries, args.rate, args.seconds)),
        "closed": asyncio.run(closed_loop(queries, args.concurrency, args.seconds)),
    }
    print(json.dumps(result))


# ---------------------------------------------------------------- driver
def summary(run: dict) -> tuple[float, float, float]:
    ordered = sorted(run["latencies"])
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3, run["requests"] / run["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / "retrieval.db"
    queries = build_database(db, args.rows)
    queries_file = CACHE / "retrieval-queries.json"
    queries_file.write_text(json.dumps(queries))
    for old in (CACHE / "retrieval-indexes").glob("*"):
        old.unlink()
    started = time.perf_counter()
    server, first_s = start_server(db, {})  # nothing saved: flat index now, HNSW graph in the background
    saved_s = wait_for_saved_graph(CACHE / "retrieval-indexes", started)
    server.terminate()
    server.wait(60)
    print(
        f"first start, nothing saved: ready (exact flat index) in {first_s:.1f}s; HNSW graph built from "
        f"{args.rows} stored vectors and saved {saved_s:.1f}s after the start"
    )
    results = {}
    for name, env in CONFIGS.items():
        server, ready_s = start_server(db, env)
        try:
            command = [
                sys.executable,
                __file__,
                "--load",
                "--queries",
                str(queries_file),
                "--rate",
                str(args.rate),
                "--concurrency",
                str(args.concurrency),
                "--seconds",
                str(args.seconds),
            ]
            before = cpu_ticks()
            load = subprocess.run(command, capture_output=True, text=True)
            steal = steal_share(before, cpu_ticks())
            if load.returncode != 0:
                raise SystemExit(f"load generator failed against {name}:\n{load.stderr[-3000:]}")
        finally:
            server.terminate()
            server.wait(30)
        runs = json.loads(load.stdout)
        results[name] = (ready_s, summary(runs["open"]), summary(runs["closed"]), steal)
    print(
        f"\n/similar over {args.rows} stored rows (k=10, held-out queries, loopback, {os.cpu_count()} cores)"
    )
    header = (
        f"{'config':>11} {'ready s':>8} | open loop {args.rate:.0f} req/s: {'p50 ms':>7} {'p99 ms':>7} "
        f"{'done/s':>7} | closed loop x{args.concurrency}: {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} | "
        f"{'CPU stolen':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, (ready_s, (o50, o99, orate), (c50, c99, crate), steal) in results.items():
        stolen = "n/a" if steal is None else f"{steal:.0%}"
        print(
            f"{name:>11} {ready_s:>8.1f} | {'':>22}{o50:>7.1f} {o99:>7.1f} {orate:>7.1f} | "
            f"{'':>16}{crate:>7.1f} {c50:>7.1f} {c99:>7.1f} | {stolen:>10}"
        )
    print(
        "CPU stolen: the share of CPU time the hypervisor gave to other guests while the load ran "
        "(/proc/stat); figures from a run with a large share are the host's, not the service's"
    )
    base, ours = results["one-by-one"], results["batched"]
    print(
        f"batched vs one-by-one: x{ours[2][2] / base[2][2]:.1f} sustained req/s, "
        f"open-loop p99 {base[1][1]:.1f} -> {ours[1][1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
