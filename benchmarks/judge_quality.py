"""How well a judge model separates good candidates from junk, on candidates labelled from the ledger.

Reads tests/filters/data/ledger_candidates.jsonl (real SmolLM2-135M output, each labelled ``junk`` or
not by reading it), asks the judge (the rubric prompt of generators/judging.py, greedy, with
log-probabilities) about every one, and prints per label the distribution of the sampled and the
expected overall score, how many answers could not be read, and the share of (good, junk) pairs the
expected score orders correctly (ROC AUC; 0.5 is chance).

    python benchmarks/judge_quality.py                       # SmolLM2-135M on the CPU
    python benchmarks/judge_quality.py --backend fake
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from generators.backends import create_backend
from generators.backends.base import SamplingParams
from generators.judging import JUDGE_SCHEMA, Judgment, instruction_prompt, judged

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "filters" / "data" / "ledger_candidates.jsonl"
PARAMS = SamplingParams(
    n=1, max_tokens=96, temperature=0.0, top_p=1.0, stop=("}",), json_schema=JUDGE_SCHEMA, logprobs=5
)  # as the service asks (app/pipeline/judge.py)


def auc(good: list[float], junk: list[float]) -> float | None:
    if not good or not junk:
        return None
    wins = sum((g > j) + 0.5 * (g == j) for g in good for j in junk)
    return wins / (len(good) * len(junk))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--model", default=None)
    parser.add_argument("--show", action="store_true", help="print every answer")
    args = parser.parse_args()
    backend = create_backend(args.backend, args.model)
    backend.load()
    rows = [json.loads(line) for line in LABELLED.open()]
    results: dict[bool, list[Judgment]] = {False: [], True: []}
    started = time.perf_counter()
    for row in rows:
        completion = backend.generate(instruction_prompt(row["text"]), PARAMS).completions[0]
        judgment = judged(completion)
        results[row["junk"]].append(judgment)
        if args.show:
            label = "JUNK" if row["junk"] else "good"
            print(f"{label} {judgment.overall} {judgment.expected} {row['text'][:60]!r}")
            print(f"     answer: {completion.text[:160]!r}")
    seconds = time.perf_counter() - started
    print(f"judge {backend.model_id}: {len(rows)} candidates in {seconds:.0f}s")
    expected: dict[bool, list[float]] = {}
    for junk, judgments in results.items():
        label = "junk" if junk else "good"
        sampled = Counter(j.overall for j in judgments)
        values = [j.expected for j in judgments if j.expected is not None]
        expected[junk] = values
        mean = sum(values) / len(values) if values else float("nan")
        unread = sum(1 for j in judgments if j.overall is None)
        print(
            f"{label}: n={len(judgments)} sampled overall {dict(sorted(sampled.items(), key=str))} "
            f"unreadable={unread} mean expected={mean:.2f}"
        )
    print(f"ROC AUC of the expected score (good above junk): {auc(expected[False], expected[True])}")


if __name__ == "__main__":
    main()
