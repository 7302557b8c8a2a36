"""ROUGE-L novelty gate: our exact index against the brute-force loop, at pools of 1K–100K real texts.

Competitor: the loop of Self-Instruct / Alpaca — max over the pool of rouge-score's ROUGE-L F, with the
pool pre-tokenized as Alpaca does (``rouge_scorer._score_lcs``; Self-Instruct's ``scorer.score`` on raw
strings is slower and is timed too). Ours: ``filters.rouge.RougeNoveltyIndex``. Queries are half light
perturbations of pool items (near-duplicates) and half held-out texts, decided at threshold 0.7.

Brute force is run on every query at the 1K pool and on a sample at larger pools (its per-decision time
is extrapolated from the sample); every brute-force decision is compared with ours, and at 10K every
query is also compared with the index's own full scan (``floor=0``).

    python benchmarks/novelty_gate.py            # ~6 minutes on 2 cores; corpus cached after the first run
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rouge_score import rouge_scorer  # noqa: E402
from rouge_score.rouge_scorer import _score_lcs  # noqa: E402

from benchmarks.corpus import load_corpus  # noqa: E402
from filters.rouge import RougeNoveltyIndex  # noqa: E402
from filters.unicode_text import rouge_score_tokens  # noqa: E402

THRESHOLD = 0.7
SIZES = (1_000, 10_000, 50_000, 100_000)
N_QUERIES = 2_000
BRUTE_SAMPLE = {1_000: N_QUERIES, 10_000: 100, 50_000: 20, 100_000: 10}


def perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        if len(words) < 3:
            break
        i = rng.randrange(len(words))
        op = rng.random()
        if op < 0.4:
            del words[i]
        elif op < 0.7:
            words.insert(i, rng.choice(words))
        else:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
    return " ".join(words)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def brute_force(query_tokens: list[str], pool_tokens: list[list[str]]) -> float:
    best = 0.0
    for tokens in pool_tokens:
        score = _score_lcs(query_tokens, tokens).fmeasure
        if score > best:
            best = score
    return best


def perturb_chinese(text: str, rng: random.Random) -> str:
    chars = list(text)
    hanzi = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    if hanzi:
        chars[rng.choice(hanzi)] = rng.choice("的一是在不了有和人这中大为上个国")
    return "".join(chars).rstrip("。？！") + "。"


def chinese_section() -> None:
    """Perturbed BELLE rows: rouge-score's tokenizer sees (almost) nothing; the Unicode-aware rule does."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "belle_zh_seed_tasks.jsonl"
    if not path.exists():
        print(f"(skipping the Chinese check: {path} is absent)")
        return
    rows = [json.loads(line)["instruction"] for line in path.read_text().splitlines() if line.strip()]
    index = RougeNoveltyIndex(THRESHOLD)
    index.add_many((i, index.tokenize(t)) for i, t in enumerate(rows))
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    rng = random.Random(3)
    ours = theirs = 0
    for original in rows:
        perturbed = perturb_chinese(original, rng)
        ours += index.max_score(index.tokenize(perturbed)).score > THRESHOLD
        theirs += scorer.score(perturbed, original)["rougeL"].fmeasure > THRESHOLD
    print(
        f"Chinese near-duplicates (BELLE, {len(rows)} rows, one character changed): caught by rouge-score "
        f"{theirs}/{len(rows)}, by the Unicode-aware gate {ours}/{len(rows)}"
    )


def main() -> None:
    corpus = load_corpus()
    pool_texts, held_out = corpus[: SIZES[-1]], corpus[SIZES[-1] :]
    if len(held_out) < N_QUERIES // 2:
        raise SystemExit(f"corpus too small: {len(corpus)} texts")
    rng = random.Random(7)
    queries = [perturb(pool_texts[rng.randrange(SIZES[0])], rng) for _ in range(N_QUERIES // 2)]
    queries += held_out[: N_QUERIES // 2]
    rng.shuffle(queries)
    print(
        f"corpus: {len(corpus)} real texts; {len(queries)} queries (half near-duplicates), "
        f"threshold {THRESHOLD}"
    )
    started = time.perf_counter()
    pool_tokens = [rouge_score_tokens(t) for t in pool_texts]
    print(f"tokenized {len(pool_tokens)} pool texts in {time.perf_counter() - started:.1f}s")

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    sample = pool_texts[:200]
    started = time.perf_counter()
    for text in sample:
        scorer.score(queries[0], text)
    raw_pair_us = (time.perf_counter() - started) / len(sample) * 1e6

    header = (
        f"{'pool':>7} {'build s':>8} {'ours p50 ms':>12} {'ours p99 ms':>12} {'brute p50 ms':>13} "
        f"{'ratio p50':>10} {'checked':>8} {'identical':>9} {'rejected':>8}"
    )
    print(header)
    print("-" * len(header))
    total_checked = total_identical = 0
    p50s: dict[int, float] = {}
    for size in SIZES:
        started = time.perf_counter()
        index = RougeNoveltyIndex(THRESHOLD)
        index.add_many((i, pool_tokens[i]) for i in range(size))
        build_s = time.perf_counter() - started
        gc.collect()  # each size is timed from a collected heap, not amid the previous size's garbage
        ours_ms, decisions = [], []
        for query in queries:
            started = time.perf_counter()
            match = index.max_score(index.tokenize(query))
            ours_ms.append((time.perf_counter() - started) * 1e3)
            decisions.append(match.score > THRESHOLD)
        brute_ms, checked, identical = [], 0, 0
        for position in range(BRUTE_SAMPLE[size]):
            started = time.perf_counter()
            best = brute_force(rouge_score_tokens(queries[position]), pool_tokens[:size])
            brute_ms.append((time.perf_counter() - started) * 1e3)
            checked += 1
            identical += (best > THRESHOLD) == decisions[position]
        if size == 10_000:
            for position, query in enumerate(queries):
                full = index.max_score(index.tokenize(query), floor=0.0)
                checked += 1
                identical += (full.score > THRESHOLD) == decisions[position]
        total_checked += checked
        total_identical += identical
        p50 = statistics.median(ours_ms)
        p50s[size] = p50
        brute_p50 = statistics.median(brute_ms)
        print(
            f"{size:>7} {build_s:>8.2f} {p50:>12.3f} {percentile(ours_ms, 0.99):>12.3f} {brute_p50:>13.1f} "
            f"{brute_p50 / p50:>9.0f}x {checked:>8} {identical:>9} {sum(decisions):>8}"
        )
    print("-" * len(header))
    print(
        f"brute force per pair: {brute_p50 * 1e3 / SIZES[-1]:.1f} us pre-tokenized (Alpaca), "
        f"{raw_pair_us:.1f} us with scorer.score on raw strings (Self-Instruct)"
    )
    growth = p50s[100_000] / p50s[10_000]
    print(
        f"decision time 10K -> 100K: x{growth:.2f} for a 10x larger pool "
        f"({'sublinear' if growth < 10 else 'NOT sublinear'})"
    )
    print(
        f"decisions identical: {total_identical} of {total_checked}"
        f" ({'all identical' if total_identical == total_checked else 'MISMATCH'})"
    )
    chinese_section()
    if total_identical != total_checked:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
