"""``selfinstruct ingest`` of 50,000 real texts, against the brute-force ROUGE-L loop on the same input.

Ours: the CLI as a user runs it (its own process, a fresh SQLite database), once with the ROUGE-L gate
alone (``--filters rouge``) and once with every stage (heuristics, exact, ROUGE-L, embedding: each text
embedded by MiniLM). Wall time and peak memory come from the child process.

Competitor: the Self-Instruct / Alpaca loop, which scores each candidate against every instruction kept
so far with rouge-score (pre-tokenized, as Alpaca does) and keeps it when the best F is at most the
threshold. Run to the end it would take hours, so it is run for real on the first ``--check`` inputs
(its decisions compared with ours one by one) and its full time is estimated from the exact number of
pairs it would score on this input (each input against the texts kept before it, known from our
decisions) times its measured time per pair.

    python benchmarks/ingest.py [--lines 50000] [--check 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

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


def brute_force_loop(texts: list[str]) -> tuple[list[bool], float]:
    """The competitor's decisions on ``texts`` and its seconds per scored pair."""
    kept: list[list[str]] = []
    decisions = []
    pairs = 0
    started = time.perf_counter()
    for text in texts:
        tokens = rouge_score_tokens(text)
        best = brute_force(tokens, kept)
        pairs += len(kept)
        decisions.append(best <= THRESHOLD)
        if best <= THRESHOLD:
            kept.append(tokens)
    return decisions, (time.perf_counter() - started) / max(pairs, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--check", type=int, default=1_500, help="inputs the brute-force loop really runs")
    args = parser.parse_args()
    texts = load_corpus()[: args.lines]
    source = CACHE / f"ingest-{args.lines}.jsonl"
    source.write_text("".join(json.dumps({"instruction": t}) + "\n" for t in texts))
    print(f"ingesting {len(texts)} real texts (benchmarks/corpus.py) into a fresh SQLite database")
    runs = {name: run_ingest(source, filters) for name, filters in (("rouge", "rouge"), ("all stages", None))}

    rouge_rows = runs["rouge"][2]
    theirs, pair_s = brute_force_loop(texts[: args.check])
    ours = [row["accepted"] for row in rouge_rows[: args.check]]
    identical = sum(a == b for a, b in zip(ours, theirs, strict=True))
    kept_before, pairs = 0, 0
    for row in rouge_rows:  # the loop scores each input against everything kept before it
        pairs += kept_before
        kept_before += row["accepted"]
    brute_s = pairs * pair_s

    print(f"\n{'run':>11} {'wall':>9} {'peak RSS':>9} {'accepted':>9} | brute-force ROUGE-L loop, same input")
    print("-" * 100)
    for name, (wall, rss, rows) in runs.items():
        accepted = sum(row["accepted"] for row in rows)
        print(
            f"{name:>11} {wall / 60:>7.1f} m {rss:>6.0f} MiB {accepted:>9} | "
            f"{pairs / 1e6:,.0f}M pairs x {pair_s * 1e6:.1f} us = {brute_s / 3600:.1f} h "
            f"(x{brute_s / wall:,.0f} our wall time)"
        )
    print(
        f"\nfirst {args.check} decisions of the ROUGE-L run against the brute-force loop run for real: "
        f"{identical}/{args.check} identical"
    )


if __name__ == "__main__":
    main()
