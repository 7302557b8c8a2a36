"""``GET …/stats`` as it was before the dashboard work (commit 27d3afe), for the benchmark's old path:
score histograms read every candidate's scores into numpy, counts and rejections each their own query,
diversity from the full nearest-neighbour matrix of the newest 5,000 accepted rows."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.datasets.diversity import distinct_n
from app.datasets.service import dataset_counts, instance_counts, public_instance_counts
from app.datasets.telemetry import accepted_rows
from app.jobs.saturation import novelty_curve
from app.models import Instruction, TaskInstance

BINS: dict[str, tuple[float, float, int]] = {
    "relevance": (-1.0, 1.0, 20),
    "judge_score": (1.0, 5.0, 8),
    "judge_expected": (1.0, 5.0, 8),
}


def histogram(values: list[float | None], low: float, high: float, bins: int) -> dict[str, Any]:
    present = np.array([v for v in values if v is not None], dtype=float)
    counts, edges = np.histogram(np.clip(present, low, high), bins=bins, range=(low, high))
    return {
        "count": int(present.size),
        "missing": len(values) - int(present.size),
        "mean": float(present.mean()) if present.size else None,
        "edges": [round(float(e), 6) for e in edges],
        "counts": [int(c) for c in counts],
    }


def score_distributions(session: Session, dataset_id: int) -> dict[str, Any]:
    tasks = select(Instruction.relevance, Instruction.judge_score, Instruction.judge_expected).where(
        col(Instruction.dataset_id) == dataset_id, col(Instruction.origin) != "seed"
    )
    instances = select(TaskInstance.judge_score, TaskInstance.judge_expected).where(
        col(TaskInstance.dataset_id) == dataset_id
    )
    task_rows = session.exec(tasks).all()
    instance_rows = session.exec(instances).all()
    names = ("relevance", "judge_score", "judge_expected")
    return {
        "instructions": {
            name: histogram([row[i] for row in task_rows], *BINS[name]) for i, name in enumerate(names)
        },
        "instances": {
            name: histogram([row[i] for row in instance_rows], *BINS[name])
            for i, name in enumerate(names[1:])
        },
    }


def _grouped(session: Session, dataset_id: int, *keys: Any) -> list[Any]:
    return list(
        session.exec(
            select(*keys, func.count())
            .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted).is_(False))
            .group_by(*keys)
        ).all()
    )


def diversity(session: Session, dataset_id: int) -> dict[str, Any]:
    rows = accepted_rows(session, dataset_id)  # the same query then (the newest 5,000 accepted)
    texts = [t for t, _ in rows]
    stored = [b for _, b in rows if b]
    vectors = np.stack([np.frombuffer(b, dtype=np.float32) for b in stored]) if stored else np.zeros((0, 1))
    nn = None
    if len(vectors) >= 2:
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -np.inf)
        nn = round(float(sims.max(axis=1).mean()), 4)
    return {
        "accepted": len(texts),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "mean_nn_similarity": nn,
    }


def old_stats(session: Session, dataset_id: int, window: int = 50) -> dict[str, Any]:
    return {
        **dataset_counts(session, dataset_id),
        "rejections": _grouped(session, dataset_id, col(Instruction.rule)),
        "rejections_per_job": _grouped(session, dataset_id, col(Instruction.job_id), col(Instruction.rule)),
        "instances": public_instance_counts(instance_counts(session, dataset_id)),
        "scores": score_distributions(session, dataset_id),
        "novelty_curve": novelty_curve(session, dataset_id=dataset_id, window=window),
        "diversity": diversity(session, dataset_id),
    }
