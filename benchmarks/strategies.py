"""Each generation strategy on the same seeds, seed and request budget: yield and diversity side by side.

For every strategy (and ``self_instruct`` with ``diverse`` example choice) a fresh SQLite dataset with the
shipped English seeds runs one job through the real service (HTTP API, worker, MiniLM, ROUGE-L, FAISS)
with ``--requests`` requests; the table gives candidates, accepted, yield (accepted / candidates),
distinct-2 and the mean nearest-neighbour cosine of the accepted instructions, and each row's ratio to
``self_instruct``. ``--backend fake`` is quick; ``--backend transformers`` uses the CPU model (slow: keep
``--requests`` small). ``--dump DIR`` writes each run's accepted rows (with lineage) as JSONL to read.

    python benchmarks/strategies.py --backend fake --requests 30
    python benchmarks/strategies.py --backend transformers --requests 3 --dump /tmp/strategy-rows
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TEMPLATE = {
    "name": "bench",
    "text": "{verb} {topic} for {audience}.",
    "slots": {
        "verb": [
            "Explain",
            "Write a short quiz about",
            "Give three practical tips on",
            "Summarize the debate on",
        ],
        "topic": [
            "photosynthesis",
            "compound interest",
            "the French revolution",
            "sleep hygiene",
            "recursion",
        ],
        "audience": ["a ten-year-old", "a new employee", "a retired engineer"],
    },
}
RUNS: list[tuple[str, str, dict[str, Any]]] = [
    ("self_instruct", "self_instruct", {}),
    ("self_instruct diverse", "self_instruct", {"example_choice": "diverse"}),
    ("template (as is)", "template", {"mode": "sample"}),
    ("template (phrased)", "template", {"mode": "sample", "phrase": True}),
    ("retrieval", "retrieval", {"query": "cooking, recipes and food", "k": 16, "n_examples": 8}),
    ("evol", "evol", {}),
    ("magpie", "magpie", {}),
]


async def run_one(
    args: argparse.Namespace,
    embedder: Any,
    backend: Any,
    label: str,
    strategy: str,
    options: dict[str, Any],
    workdir: Path,
    index: int,
) -> dict[str, Any]:
    import httpx

    from app.core.settings import Settings
    from app.main import create_app

    settings = Settings(
        database_url=f"sqlite:///{workdir}/run-{index}.db",
        backend=args.backend,
        workers=1,
        worker_poll_s=0.05,
        samples_per_prompt=args.samples,
        max_new_tokens=args.max_new_tokens,
        _env_file=None,
    )
    app = create_app(settings, embedder=embedder, backend=backend)
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.backend.ready.wait, 600)
        await asyncio.to_thread(app.state.pools.ready.wait, 600)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as client:
            if strategy == "template":
                await client.post("/v1/datasets/default/templates", json=TEMPLATE)
            body = {
                "target": 100000,
                "max_requests": args.requests,
                "seed": args.seed,
                "strategy": strategy,
                "strategy_settings": options,
            }
            started = time.perf_counter()
            response = await client.post("/v1/datasets/default/jobs", json=body)
            if response.status_code != 202:
                return {"label": label, "error": response.json()["error"]["message"]}
            job_id = int(response.headers["location"].rsplit("/", 1)[1])
            await asyncio.to_thread(app.state.jobs.worker.wait_for, job_id, 3600)
            seconds = time.perf_counter() - started
            job = (await client.get(f"/v1/jobs/{job_id}")).json()
            stats = (await client.get("/v1/datasets/default/stats")).json()
            if args.dump:
                rows = (
                    await client.get(
                        "/v1/datasets/default/instructions",
                        params={"decision": "accepted", "origin": "generated", "limit": 500},
                    )
                ).json()
                out = Path(args.dump) / f"{label.replace(' ', '_').replace('(', '').replace(')', '')}.jsonl"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(
                    "".join(
                        json.dumps(
                            {"instruction": r["instruction"], "lineage": r["lineage"]}, ensure_ascii=False
                        )
                        + "\n"
                        for r in rows["items"]
                    )
                )
    diversity = stats["diversity"]
    return {
        "label": label,
        "candidates": job["generated"],
        "accepted": job["accepted"],
        "yield": job["accepted"] / job["generated"] if job["generated"] else 0.0,
        "distinct_2": diversity["distinct_2"],
        "nn_sim": diversity["mean_nn_similarity"],
        "seconds": seconds,
        "dropped": sum(job["counts"]["parse_dropped"].values()),
    }


def backend_for(args: argparse.Namespace) -> Any:
    if args.backend == "fake":
        from generators.backends.fake import FakeBackend

        backend = FakeBackend(seed=args.seed)
        backend.model_id = "SmolLM2-135M-Instruct (fake)"  # so magpie has a known chat template
        return backend
    from generators.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend()
    backend.load()  # once for every run
    return backend


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("fake", "transformers"), default="fake")
    parser.add_argument("--requests", type=int, default=30, help="request budget of every job")
    parser.add_argument("--samples", type=int, default=2, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated labels to run")
    parser.add_argument("--dump", default="", help="folder for each run's accepted rows (JSONL)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from filters.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    backend = backend_for(args)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for index, (label, strategy, options) in enumerate(RUNS):
            if wanted and label not in wanted:
                continue
            results.append(
                await run_one(args, embedder, backend, label, strategy, options, Path(workdir), index)
            )
            print(json.dumps(results[-1]), flush=True)
    base = next((r for r in results if r["label"] == "self_instruct" and "error" not in r), None)
    print(f"\nbackend {args.backend}, {args.requests} requests x {args.samples} samples, seed {args.seed}")
    print(
        f"{'strategy':24} {'cand':>5} {'acc':>5} {'yield':>6} {'x base':>6} {'dist-2':>6} {'x base':>6} "
        f"{'NN sim':>6} {'x base':>6} {'s':>6}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['label']:24} refused: {r['error']}")
            continue

        def ratio(key: str, row: dict[str, Any] = r) -> str:
            if base is None or not base[key] or row[key] is None:
                return "-"
            return f"{row[key] / base[key]:.2f}"

        nn = "-" if r["nn_sim"] is None else f"{r['nn_sim']:.3f}"
        print(
            f"{r['label']:24} {r['candidates']:5d} {r['accepted']:5d} {r['yield']:6.2f} {ratio('yield'):>6} "
            f"{r['distinct_2']:6.3f} {ratio('distinct_2'):>6} {nn:>6} {ratio('nn_sim'):>6} "
            f"{r['seconds']:6.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
