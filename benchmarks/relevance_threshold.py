"""Measure where the domain-relevance threshold should sit: in-domain vs off-domain tasks.

Domains come from the user-oriented Self-Instruct set (../shared/data/self_instruct_user_oriented.jsonl),
whose tasks name the app that motivated them: a few apps make one domain, described in one sentence as a
user would (``DOMAINS``). Per domain, half of its tasks play the dataset's seeds and the other half the
in-domain candidates; off-domain candidates are every other domain's tasks plus the shipped general seed
sets (seed_tasks/en_seed_tasks.jsonl, ../shared/data/self_instruct_seed_tasks.jsonl), which do hold a
few in-domain tasks (a recipe, a code snippet), so the off-domain figure is a lower bound.

Relevance is measured two ways: the cosine to the domain description alone, and the rule the service
uses, ``max(cosine to the domain, max cosine to a seed)``. Printed: the distributions, and per threshold
the share of in-domain candidates kept and of off-domain ones rejected; the chosen default is the highest
0.05 step that keeps at least 95% of the in-domain candidates with the service's rule.

    python benchmarks/relevance_threshold.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from filters.embedding import SentenceTransformerEmbedder
from generators.tasks import load_seed_file

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT.parent / "shared" / "data"
DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "programming": (
        "Programming and software development: writing, explaining and debugging code, algorithms.",
        ("StackOverflow", "Leetcode", "GeeksforGeeks", "Github", "w3schools"),
    ),
    "language": (
        "English writing and vocabulary: grammar, word meanings and usage, rewriting sentences.",
        ("Grammarly", "merriam-webster.com", "ludwig.guru"),
    ),
    "entertainment": (
        "Movies, TV series, music and books: recommendations, reviews and trivia.",
        ("Netflix", "IMDB", "Spotify", "Goodreads", "YouTube"),
    ),
    "travel": (
        "Travel and going out: destinations, hotels, restaurants, directions and the weather.",
        ("tripadvisor.com", "Google Map", "Yelp", "yelp", "Weather"),
    ),
    "careers": (
        "Jobs and careers: job search, resumes, professional profiles and online courses.",
        ("LinkedIn", "Indeed", "Coursera"),
    ),
    "email": (
        "Writing e-mails and messages to colleagues, friends and customers.",
        ("Gmail", "Messenger"),
    ),
}
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(2, 14))
KEEP_IN_DOMAIN = 0.95


def app_tasks() -> dict[str, list[str]]:
    by_app: dict[str, list[str]] = {}
    with (PUBLIC / "self_instruct_user_oriented.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            by_app.setdefault(row["motivation_app"], []).append(row["instruction"])
    return by_app


def percentiles(values: np.ndarray) -> str:
    qs = np.percentile(values, [5, 25, 50, 75, 95])
    return " ".join(f"p{p}={q:.2f}" for p, q in zip((5, 25, 50, 75, 95), qs, strict=True))


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    by_app = app_tasks()
    general = [t.instruction for t in load_seed_file(ROOT / "seed_tasks" / "en_seed_tasks.jsonl")]
    general += [t.instruction for t in load_seed_file(PUBLIC / "self_instruct_seed_tasks.jsonl")]
    general_vectors = embedder.embed(general)
    scores: dict[str, dict[str, list[float]]] = {"domain": {}, "service": {}}
    for rule in scores.values():
        rule["in"], rule["off"] = [], []
    for name, (description, apps) in DOMAINS.items():
        own = [t for app in apps for t in by_app.get(app, [])]
        others = [t for other, (_, a) in DOMAINS.items() if other != name for app in a for t in by_app[app]]
        seeds, candidates = own[::2], own[1::2]
        domain = embedder.embed([description])[0]
        seed_vectors = embedder.embed(seeds)
        inside = embedder.embed(candidates)
        outside = np.vstack([embedder.embed(others), general_vectors])
        for label, vectors in (("in", inside), ("off", outside)):
            to_domain = vectors @ domain
            to_seeds = (vectors @ seed_vectors.T).max(axis=1)
            scores["domain"][label] += to_domain.tolist()
            scores["service"][label] += np.maximum(to_domain, to_seeds).tolist()
        print(
            f"{name:14} seeds={len(seeds):3} in-domain={len(candidates):3} off-domain={len(outside):4}  "
            f"in: {percentiles(np.maximum(inside @ domain, (inside @ seed_vectors.T).max(axis=1)))}"
        )
    chosen = None
    for rule, label in (("domain", "cosine to the domain alone"), ("service", "max(domain, seeds)")):
        inside, outside = np.array(scores[rule]["in"]), np.array(scores[rule]["off"])
        print(f"\n{label}: in-domain {percentiles(inside)}")
        print(f"{' ' * len(label)}  off-domain {percentiles(outside)}")
        print(f"{'threshold':>10} {'in kept':>8} {'off rejected':>13}")
        for t in THRESHOLDS:
            kept, rejected = (inside >= t).mean(), (outside < t).mean()
            print(f"{t:>10.2f} {kept:>8.1%} {rejected:>13.1%}")
            if rule == "service" and kept >= KEEP_IN_DOMAIN:
                chosen = t
    print(f"\nchosen default (highest step keeping >= {KEEP_IN_DOMAIN:.0%} in-domain): {chosen}")


if __name__ == "__main__":
    main()
