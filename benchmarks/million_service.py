"""A 1,000,000-item pool of texts through the service: database, first load, memory, restart, decisions
against brute force, ``/similar`` over HTTP.

The pool (``benchmarks/million_texts.py`` says exactly how it is made): real corpus texts and perturbations
of them; the corpus texts carry their real all-MiniLM-L6-v2 vectors, each perturbed text a synthetic
near-duplicate of its original's vector (embedding a million texts on this CPU would take hours). They
are stored in a fresh SQLite file as one dataset's accepted rows with their embedding bytes, in bulk
(SQLAlchemy Core ``insert`` of 20,000 rows per statement, one transaction). Then a real ``selfinstruct
serve`` runs as its own process (fake generation backend, the real embedder, the decision chain
``SI_FILTER_CHAIN=exact,rouge,embedding``, default thresholds 0.7 and 0.85) and this script prints:

* the first start with nothing saved: seconds until ready (the first answered ``/similar``, which needs
  the pool), then until the HNSW graph built in the background is saved; the server's resident memory
  (VmRSS of its process, and VmHWM, its peak);
* the decision time per candidate, measured in this process with the classes the pool uses (the service
  reports no stage timings): the saved index loaded, the ROUGE-L index and exact keys built from the stored
  texts, ``DecisionChain.decide`` timed per candidate on the sample and more candidates like it (the
  candidate's vector given, embedding excluded; an accepted candidate joins the pool), then the ROUGE-L
  index and the vector index alone on the same candidates;
* a restart: seconds until ready with the saved index, resident memory again, that of the same server
  holding an empty dataset (started first), and beside them the per-item figure measured for the pool
  as it was (4–5.5 KB per item) plus the empty server, with the ratio;
* the sample's decisions by the service — ``POST /v1/datasets/{name}/candidates``, one candidate per
  request, in order (the request's latency, embedding included) — against the brute force of
  ``million_texts.py`` over every stored text and vector (candidate vectors embedded here by the same
  embedder; checked equal to what the service stored);
* ``/similar`` (k = 10) at 100 requests/s, open loop, from a separate process: p50/p95/p99 and how many
  were answered.

    python -u benchmarks/million_service.py [--items 1000000] [--sample 40] [--timed 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.million_texts import BruteForce, candidates, compare, make_pool  # noqa: E402
from benchmarks.million_timing import embed, memory, percentile, stored_vectors, time_decisions  # noqa: E402
from benchmarks.retrieval import LeanClient  # noqa: E402
from benchmarks.stored_pool import store_pool  # noqa: E402

DATASET = "million"
CHAIN = "exact,rouge,embedding"
# the pool before the compact layout, per item: ROUGE index ~2.2 KB, FAISS ~1.8 KB, dicts, text
OLD_KB_PER_ITEM = (4.0, 5.5)


def build_database(path: Path, texts: list[str], vectors: np.ndarray) -> float:
    return store_pool(path, DATASET, "1M-item pool", texts, vectors, origin="generated")


class Server:
    def __init__(self, db: Path, index_dir: Path, port: int, log: Path) -> None:
        self.db, self.index_dir, self.port, self.log = db, index_dir, port, log
        self.process: subprocess.Popen | None = None

    def start(self, probe: str) -> float:
        """Start ``selfinstruct serve``; seconds until a ``/similar`` for ``probe`` is answered."""
        import httpx

        env = {
            **os.environ,
            "SI_DATABASE_URL": f"sqlite:///{self.db}",
            "SI_INDEX_DIR": str(self.index_dir),
            "SI_DEFAULT_DATASET": "",
            "SI_BACKEND": "fake",
            "SI_FILTER_CHAIN": CHAIN,
            "SI_LOG_LEVEL": "INFO",
            "HF_HUB_OFFLINE": "1",
        }
        command = [str(ROOT / ".venv/bin/selfinstruct"), "serve", "--port", str(self.port), "--no-worker"]
        started = time.perf_counter()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self.port}/v1/datasets/{DATASET}/similar?" + urlencode({"q": probe, "k": 1})
        while time.perf_counter() - started < 900:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(url, timeout=600).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("server not ready within 900 s")

    def wait_saved(self, started: float, limit_s: float = 1800) -> float:
        while time.perf_counter() - started < limit_s:
            if any(self.index_dir.glob("*.faiss")):
                return time.perf_counter() - started
            time.sleep(0.5)
        raise SystemExit(f"no index saved within {limit_s:.0f} s")

    def memory(self) -> tuple[float, float]:
        assert self.process is not None
        return memory(self.process.pid)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(300)
            self.process = None


def submit(port: int, texts: list[str]) -> tuple[list[dict], list[float]]:
    """Each text alone through ``POST …/candidates``, in order: its decision and the request's seconds."""
    import httpx

    decisions, seconds = [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        for text in texts:
            started = time.perf_counter()
            answer = client.post(f"/v1/datasets/{DATASET}/candidates", json={"instructions": [text]})
            seconds.append(time.perf_counter() - started)
            answer.raise_for_status()
            decisions.append(answer.json()["decisions"][0])
    return decisions, seconds


async def open_loop(port: int, queries: list[str], rate: float, seconds: float) -> dict:
    client, begin, latencies, failed = LeanClient(port), time.perf_counter(), [], [0]
    rng = random.Random(3)

    async def fire(i: int) -> None:
        scheduled = begin + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        query = urlencode({"q": rng.choice(queries), "k": 10})
        try:
            status, body = await client.get(f"/v1/datasets/{DATASET}/similar?{query}")
        except (OSError, asyncio.IncompleteReadError):
            status, body = 0, b""
        if status == 200 and b'"items":[{' in body:
            latencies.append(time.perf_counter() - scheduled)  # from when it was due: queueing included
        else:
            failed[0] += 1

    await asyncio.gather(*(fire(i) for i in range(int(rate * seconds))))
    client.close()
    return {"sent": int(rate * seconds), "failed": failed[0], "latencies": latencies}


def load_generator(port: int, queries: list[str], rate: float, seconds: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(queries, handle)
    command = [sys.executable, __file__, "--load", handle.name, "--port", str(port)]
    command += ["--rate", str(rate), "--seconds", str(seconds)]
    run = subprocess.run(command, capture_output=True, text=True)
    Path(handle.name).unlink()
    if run.returncode != 0:
        raise SystemExit(f"load generator failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout)


def main() -> None:  # noqa: PLR0915 - one run, printed in order
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=40, help="candidates checked against brute force")
    parser.add_argument("--timed", type=int, default=1000, help="candidates timed in-process")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        queries = json.loads(Path(args.load).read_text())
        print(json.dumps(asyncio.run(open_loop(args.port, queries, args.rate, args.seconds))))
        return
    wall = time.perf_counter()
    texts, vectors, bases, held_out = make_pool(args.items)
    sample = candidates(bases, held_out, max(args.sample, args.timed), seed=1)
    print(f"{len(texts)} pool texts: {len(bases)} corpus texts + {len(texts) - len(bases)} perturbations")
    folder = Path(tempfile.mkdtemp(prefix="million-", dir=os.environ.get("MILLION_DIR")))
    try:
        db, index_dir, log = folder / "pool.db", folder / "indexes", folder / "server.log"
        print(
            f"database built in {build_database(db, texts, vectors):.1f}s (bulk Core insert), "
            f"{db.stat().st_size / 2**20:.0f} MiB"
        )
        empty = folder / "empty.db"
        build_database(empty, [], vectors[:0])
        server = Server(empty, folder / "empty-indexes", args.port, log)
        server.start(held_out[0])
        base_rss = server.memory()[0]
        server.stop()
        server = Server(db, index_dir, args.port, log)
        started = time.perf_counter()
        first_s = server.start(held_out[0])
        first_rss = server.memory()
        saved_s = server.wait_saved(started)
        time.sleep(2)
        built_rss = server.memory()
        server.stop()
        print(
            f"first start, nothing saved: ready (pool built, flat index) in {first_s:.1f}s, RSS "
            f"{first_rss[0]:.0f} MiB; HNSW graph built and saved {saved_s:.0f}s after the start, RSS "
            f"{built_rss[0]:.0f} MiB (peak {built_rss[1]:.0f} MiB)"
        )

        sample_vectors = embed(sample)
        timing = time_decisions(db, index_dir, sample, sample_vectors, CHAIN)
        print(timing.summary)
        gc.collect()

        restart_s = server.start(held_out[1])
        rss, peak = server.memory()
        old = [kb * 1024 * len(texts) / 2**20 + base_rss for kb in OLD_KB_PER_ITEM]
        per_item = (rss - base_rss) * 2**20 / len(texts)
        print(
            f"restart with the saved index: ready in {restart_s:.1f}s; server RSS {rss:.0f} MiB (peak "
            f"{peak:.0f}; {base_rss:.0f} MiB with an empty dataset, so the pool {per_item:.0f} B/item); the "
            f"pool as it was (4–5.5 KB/item, measured before the compact layout) + the empty server: "
            f"{old[0]:.0f}–{old[1]:.0f} MiB, "
            f"×{old[0] / rss:.1f}–{old[1] / rss:.1f}"
        )
        checked = sample[: args.sample]
        decided, request_s = submit(args.port, checked)
        load = load_generator(args.port, held_out[2:2002], args.rate, args.seconds)
        rss_after = server.memory()[0]
        server.stop()
        lat = load["latencies"]
        print(
            f"POST …/candidates, one candidate a request: p50 {percentile(request_s, 50):.1f} ms "
            f"(embedding included); in-process decisions equal the service's: "
            f"{sum(a == b['rule'] for a, b in zip(timing.rules, decided, strict=False))}/{len(decided)}"
        )
        print(
            f"/similar k=10 at {args.rate:.0f} req/s for {args.seconds:.0f}s, open loop: answered "
            f"{len(lat)}/{load['sent']}, p50 {percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} "
            f"ms, p99 {percentile(lat, 99):.1f} ms; server RSS after {rss_after:.0f} MiB"
        )

        started = time.perf_counter()
        brute = BruteForce(list(texts), vectors)
        brute_decisions = []
        for text, vector, service in zip(checked, sample_vectors, decided, strict=False):
            decision = brute.decide(text, vector)
            brute_decisions.append(decision)
            if service["rule"] is None:
                brute.accept(service["id"], text, vector)
        stored = stored_vectors(db, [d["id"] for d in decided])
        same_vectors = sum(
            np.array_equal(stored[d["id"]], vector)
            for d, vector in zip(decided, sample_vectors, strict=False)
            if d["id"] in stored
        )
        print(
            f"brute force ({time.perf_counter() - started:.0f}s, {brute.scored} ROUGE-L pairs scored by "
            f"rouge-score): {compare(decided, brute_decisions)}; candidate vectors equal to the stored "
            f"ones {same_vectors}/{len(stored)}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f}; total {time.perf_counter() - wall:.0f}s")


if __name__ == "__main__":
    main()
