"""``selfinstruct ingest`` of 50,000 real texts, against the brute-force ROUGE-L loop on the same input.

Ours: the CLI as a user runs it (its own process, a fresh SQLite database) with the ROUGE-L gate alone
(``--filters rouge``), and with ``--all-stages`` once more with every stage (heuristics, exact, ROUGE-L,
embedding: each text embedded by MiniLM). Wall time and peak memory come from the child process.

Competitor: the Self-Instruct / Alpaca loop, which scores each candidate against every instruction kept
so far with rouge-score (pre-tokenized, as Alpaca does) and keeps it when the best F is at most the
threshold — quadratic in the input. It is first timed on a prefix (the first ``--check`` inputs, its
decisions compared with ours one by one, its cumulative time recorded every 250 inputs). When that
prefix projects a full run under ``--full-limit`` seconds it is run on the whole input; otherwise its
full time is EXTRAPOLATED, two ways printed side by side: a least-squares fit ``T(n) = a·n² + b·n`` of
its cumulative time on the prefix (coefficients and residuals printed), evaluated at the full input; and
the exact number of pairs it would score on this input (each input against the texts kept before it,
known from our decisions) times its measured time per pair. The ratio uses the fit.

    python benchmarks/ingest.py [--lines 50000] [--check 3000] [--all-stages]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CACHE, load_corpus  # noqa: E402
from benchmarks.novelty_gate import THRESHOLD, brute_force  # noqa: E402
from filters.unicode_text import rouge_score_tokens  # noqa: E402


def run_ingest(source: Path, filters: str | None) -> tuple[float, float, list[dict]]:
    """Wall seconds, peak RSS (MiB) and the decisions of one ``selfinstruct ingest`` process."""
    name = filters or "all"
    db = CACHE / f"ingest-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    decisions = CACHE / f"ingest-{name}-decisions.jsonl"
    command = [
        str(ROOT / ".venv" / "bin" / "selfinstruct"),
        "ingest",
        str(source),
        "--dataset",
        "bench",
        "--database-url",
        f"sqlite:///{db}",
        "--decisions-out",
        str(decisions),
    ]
    if filters:
        command += ["--filters", filters]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed:\n{stderr[-3000:]}")
    print(f"  {name}: {stdout.strip()}", flush=True)
    rows = [json.loads(line) for line in decisions.read_text().splitlines()]
    return wall, usage.ru_maxrss / 1024, rows


def brute_force_loop(texts: list[str], every: int = 250) -> tuple[list[bool], float, list[tuple[int, float]]]:
    """The competitor's decisions on ``texts``, its seconds per scored pair and its cumulative seconds
    after every ``every`` inputs."""
    kept: list[list[str]] = []
    decisions = []
    pairs = 0
    checkpoints = []
    started = time.perf_counter()
    for count, text in enumerate(texts, 1):
        tokens = rouge_score_tokens(text)
        best = brute_force(tokens, kept)
        pairs += len(kept)
        decisions.append(best <= THRESHOLD)
        if best <= THRESHOLD:
            kept.append(tokens)
        if count % every == 0 or count == len(texts):
            checkpoints.append((count, time.perf_counter() - started))
    return decisions, (time.perf_counter() - started) / max(pairs, 1), checkpoints


def quadratic_fit(checkpoints: list[tuple[int, float]]) -> tuple[float, float]:
    """``a, b`` of the least-squares ``T(n) = a·n² + b·n`` through the cumulative times."""
    n = np.array([c[0] for c in checkpoints], dtype=np.float64)
    t = np.array([c[1] for c in checkpoints], dtype=np.float64)
    (a, b), *_ = np.linalg.lstsq(np.stack([n * n, n], axis=1), t, rcond=None)
    return float(a), float(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--check", type=int, default=3_000, help="inputs of the brute-force prefix")
    parser.add_argument("--full-limit", type=float, default=600, help="run the loop in full below this (s)")
    parser.add_argument("--all-stages", action="store_true", help="also ingest with every stage (embeds)")
    args = parser.parse_args()
    texts = load_corpus()[: args.lines]
    source = CACHE / f"ingest-{args.lines}.jsonl"
    source.write_text("".join(json.dumps({"instruction": t}) + "\n" for t in texts))
    print(f"ingesting {len(texts)} real texts (benchmarks/corpus.py) into a fresh SQLite database")
    chosen = (("rouge", "rouge"), ("all stages", None)) if args.all_stages else (("rouge", "rouge"),)
    runs = {name: run_ingest(source, filters) for name, filters in chosen}

    rouge_rows = runs["rouge"][2]
    theirs, pair_s, checkpoints = brute_force_loop(texts[: args.check])
    ours = [row["accepted"] for row in rouge_rows[: args.check]]
    identical = sum(a == b for a, b in zip(ours, theirs, strict=True))
    a, b = quadratic_fit(checkpoints)
    n = len(texts)
    fitted = a * n * n + b * n
    kept_before, pairs = 0, 0
    for row in rouge_rows:  # the loop scores each input against everything kept before it
        pairs += kept_before
        kept_before += row["accepted"]
    print(
        f"\nbrute-force loop on the first {args.check} inputs: {checkpoints[-1][1]:.1f}s; "
        f"{identical}/{args.check} decisions identical to ours"
    )
    print(f"cumulative time T(n), fit T(n) = {a:.3e}·n² + {b:.3e}·n:")
    for count, seconds in checkpoints[:: max(1, len(checkpoints) // 6)] + checkpoints[-1:]:
        print(f"  n={count:>6}: {seconds:8.2f}s measured, {a * count * count + b * count:8.2f}s fitted")
    if fitted <= args.full_limit:
        print(f"the fit projects {fitted:.0f}s for all {n}: running the loop in full")
        theirs_full, _, full_checkpoints = brute_force_loop(texts)
        brute_s, how = full_checkpoints[-1][1], "measured in full"
        identical_full = sum(r["accepted"] == t for r, t in zip(rouge_rows, theirs_full, strict=True))
        print(f"full run: {identical_full}/{n} decisions identical")
    else:
        brute_s, how = fitted, "EXTRAPOLATED from the prefix (quadratic fit)"
        print(
            f"the fit projects {fitted / 3600:.1f} h for all {n} (over --full-limit {args.full_limit:.0f}s): "
            f"not run in full; by pairs: {pairs / 1e6:,.0f}M pairs x {pair_s * 1e6:.1f} us = "
            f"{pairs * pair_s / 3600:.1f} h"
        )

    print(f"\n{'run':>11} {'wall':>9} {'peak RSS':>9} {'accepted':>9} | brute-force ROUGE-L loop, same input")
    print("-" * 100)
    for name, (wall, rss, rows) in runs.items():
        accepted = sum(row["accepted"] for row in rows)
        print(
            f"{name:>11} {wall:>7.1f} s {rss:>6.0f} MiB {accepted:>9} | {brute_s / 3600:.2f} h ({how}): "
            f"x{brute_s / wall:,.0f} our wall time"
        )


if __name__ == "__main__":
    main()
