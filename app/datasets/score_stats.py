"""Score distributions and rejections per rule, per dataset and per job, for ``GET …/stats``.

Histograms have fixed bins so two datasets or two jobs compare bin for bin: the judge's scores (1-5) in
eight bins of 0.5, relevance (a cosine, -1 to 1) in twenty bins of 0.1; the last bin includes its upper
edge. ``missing`` counts rows without the score (not judged, or no domain).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

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


def score_distributions(session: Session, dataset_id: int, job_id: int | None = None) -> dict[str, Any]:
    """Histograms of the candidates' (not the seeds') scores, and of the instances' judge scores."""
    tasks = select(Instruction.relevance, Instruction.judge_score, Instruction.judge_expected).where(
        col(Instruction.dataset_id) == dataset_id, col(Instruction.origin) != "seed"
    )
    instances = select(TaskInstance.judge_score, TaskInstance.judge_expected).where(
        col(TaskInstance.dataset_id) == dataset_id
    )
    if job_id is not None:
        tasks = tasks.where(col(Instruction.job_id) == job_id)
        instances = instances.where(col(TaskInstance.job_id) == job_id)
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


def rejections_per_job(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """Rejected candidates per job (``none``: submitted or ingested) and rule."""
    rows = session.exec(
        select(Instruction.job_id, Instruction.rule, func.count())
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted).is_(False))
        .group_by(col(Instruction.job_id), col(Instruction.rule))
    ).all()
    result: dict[str, dict[str, int]] = {}
    for job_id, rule, n in sorted(rows, key=lambda r: (r[0] is None, r[0] or 0, -r[2])):
        result.setdefault(str(job_id) if job_id is not None else "none", {})[rule or "unknown"] = n
    return result


def job_rejections(session: Session, dataset_id: int, job_id: int) -> dict[str, int]:
    """One job's rejected candidates per rule, most first."""
    rows = session.exec(
        select(Instruction.rule, func.count())
        .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted).is_(False))
        .where(col(Instruction.job_id) == job_id)
        .group_by(col(Instruction.rule))
    ).all()
    return {rule or "unknown": n for rule, n in sorted(rows, key=lambda r: -r[1])}
