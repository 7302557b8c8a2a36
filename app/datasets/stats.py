"""``GET /v1/datasets/{name}/stats`` assembled: counts, rejections, the strategy breakdown (one ordered
pass, app/datasets/tally.py), score histograms (app/datasets/score_stats.py), the novelty curve and
diversity (app/datasets/telemetry.py); each part counted by the database from an index, and kept per
process, brought forward by the rows added since (app/datasets/kept_stats.py).

The parts run one after the other: reading them at once on separate connections was slower on two busy
cores (327 vs 391 ms median at 100K rows, load ~2.5), the Python parts sharing the interpreter's lock.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.datasets import score_stats
from app.datasets.kept_stats import KeptStats, count, public
from app.datasets.stats_cache import dataset_version
from app.datasets.telemetry import dataset_curve, dataset_diversity
from app.models import Dataset, stored_id


def dataset_stats(
    session: Session, dataset: Dataset, window: int, breakdown: bool, kept: KeptStats | None = None
) -> dict[str, Any]:
    """With ``kept``, everything but the verb–object breakdown is counted once and brought forward as rows
    are added (the nearest-neighbour mean recomputed when its window changed or a vector was back-filled);
    without it, everything is counted afresh."""
    dataset_id = stored_id(dataset)
    if kept is None:
        return {
            **public(count(session, dataset_id)),
            **dataset_curve(session, dataset_id, window),
            **dataset_diversity(session, dataset_id, breakdown),
        }
    parts = kept.stats(session, dataset_id, dataset_version(session, dataset), window)
    if breakdown:  # the verb–object pairs parse the texts: not kept
        parts.update(dataset_diversity(session, dataset_id, breakdown))
    return parts


def job_stats(session: Session, dataset_id: int, job_id: int) -> dict[str, Any]:
    """One job's rejections per rule and score distributions."""
    return {
        "id": job_id,
        "rejections": score_stats.job_rejections(session, dataset_id, job_id),
        "scores": score_stats.score_distributions(session, dataset_id, job_id),
    }
