"""Measure where the embedding-novelty threshold should sit, on the shipped seed tasks.

Prints, for each shipped seed file, the distribution of each seed's nearest-neighbour cosine to the
other seeds (distinct tasks, which the gate must let through) and, for light rewordings of the same
seeds (what the gate exists to catch beyond ROUGE-L), the cosine to their original. The default
threshold is the first 0.01 step above every seed-to-seed nearest neighbour.

    python benchmarks/embedding_threshold.py
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from filters.embedding import SentenceTransformerEmbedder
from generators.tasks import load_seed_file

ROOT = Path(__file__).resolve().parents[1]
REWORDINGS = (
    (r"^(Give|Provide|List)\b", "Come up with"),
    (r"^(Explain|Describe)\b", "Tell me about"),
    (r"^(Write|Compose|Create)\b", "Produce"),
    (r"^(Summarize|Summarise)\b", "Give a summary of"),
    (r"^(Classify|Categorize|Label)\b", "Decide the category of"),
)


def reword(text: str) -> str:
    for pattern, replacement in REWORDINGS:
        new = re.sub(pattern, replacement, text)
        if new != text:
            return new
    return "Please " + text[0].lower() + text[1:]


def percentiles(values: np.ndarray) -> str:
    qs = np.percentile(values, [50, 90, 99, 100])
    return "  ".join(f"p{p}={q:.3f}" for p, q in zip((50, 90, 99, 100), qs, strict=True))


CANDIDATE_THRESHOLDS = (0.75, 0.8, 0.85, 0.9, 0.95)


def seed_sets() -> list[Path]:
    shipped = sorted((ROOT / "seed_tasks").glob("*.jsonl"))
    public = ROOT.parent / "shared" / "data"
    extra = [public / "self_instruct_seed_tasks.jsonl", public / "self_instruct_user_oriented.jsonl"]
    return shipped + [p for p in extra if p.exists()]


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    print("share of distinct seeds flagged (a seed's nearest other seed above t) and of rewordings caught")
    print(f"{'set':36} {'n':>4}  " + "  ".join(f"t={t:<4} seeds/rew." for t in CANDIDATE_THRESHOLDS))
    for path in seed_sets():
        texts = [t.instruction for t in load_seed_file(path)]
        vectors = embedder.embed(texts)
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -1.0)
        nearest = sims.max(axis=1)
        to_original = np.sum(embedder.embed([reword(t) for t in texts]) * vectors, axis=1)
        row = "  ".join(
            f"{np.mean(nearest > t):6.1%}/{np.mean(to_original > t):6.1%}" for t in CANDIDATE_THRESHOLDS
        )
        print(f"{path.name:36} {len(texts):4}  {row}")
        print(f"{'':36} {'':4}  nearest seed: {percentiles(nearest)}")
        print(f"{'':36} {'':4}  rewording:    {percentiles(to_original)}")


if __name__ == "__main__":
    main()
