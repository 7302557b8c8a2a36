"""Score distributions and rejections per rule, per dataset and per job, for ``GET …/stats``.

Histograms have fixed bins so two datasets or two jobs compare bin for bin: the judge's scores (1-5) in
eight bins of 0.5, relevance (a cosine, -1 to 1) in twenty bins of 0.1, the nearest neighbour's similarity
at decision time (``max_cosine``, ``max_rouge_l``) in twenty bins of 0.05 over 0..1; the last bin
includes its upper edge, values outside the range count in the first or last bin. ``missing`` counts rows
without the score (not judged, no domain, rejected before that stage ran). The database counts them
(app/datasets/histograms.py); ``neighbours`` splits the similarity histograms by decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.datasets.histograms import Bins, Counted, dataset_bins, grouped_bins, public
from app.models import Instruction, TaskInstance

BINS: dict[str, Bins] = {
    "relevance": (-1.0, 1.0, 20),
    "judge_score": (1.0, 5.0, 8),
    "judge_expected": (1.0, 5.0, 8),
    "max_cosine": (0.0, 1.0, 20),
    "max_rouge_l": (0.0, 1.0, 20),
}
TASK_SCORES = tuple(BINS)
NEIGHBOUR_SCORES = ("max_cosine", "max_rouge_l")
INSTANCE_SCORES = ("judge_score", "judge_expected")


@dataclass
class ScoreCounts:
    """The histograms' tallies: each task score per decision (True: accepted), each instance score."""

    tasks: dict[str, dict[bool, Counted]]
    instances: dict[str, Counted]

    def add(self, other: ScoreCounts) -> ScoreCounts:
        return ScoreCounts(
            {
                name: {a: split[a].add(other.tasks[name][a]) for a in (False, True)}
                for name, split in self.tasks.items()
            },
            {name: c.add(other.instances[name]) for name, c in self.instances.items()},
        )


def _empty(name: str) -> Counted:
    return Counted([0] * BINS[name][2])


def _per_decision(
    session: Session,
    dataset_id: int,
    job_id: int | None,
    totals: dict[bool, int] | None,
    name: str,
    upto: int | None,
) -> dict[bool, Counted]:
    if job_id is None and totals is not None:
        return dataset_bins(session, dataset_id, name, BINS[name], totals, upto)
    # a job's rows by its own index (the job is the dataset's: the route checks), the others' by the dataset
    where = [col(Instruction.origin) != "seed", *([col(Instruction.id) <= upto] if upto is not None else [])]
    where.append(
        col(Instruction.job_id) == job_id if job_id is not None else col(Instruction.dataset_id) == dataset_id
    )
    grouped = grouped_bins(session, getattr(Instruction, name), BINS[name], *where, by=Instruction.accepted)
    return {accepted: grouped.get(accepted, _empty(name)) for accepted in (False, True)}


def score_counts(
    session: Session,
    dataset_id: int,
    job_id: int | None = None,
    totals: dict[bool, int] | None = None,
    upto: tuple[int | None, int | None] = (None, None),
) -> ScoreCounts:
    """The tallies of :func:`score_distributions`, of the instructions and the instances with ids up to
    ``upto`` (each open when None). ``totals`` (the candidates per decision there) lets the dataset's
    histograms be read from the score indexes."""
    tasks = {name: _per_decision(session, dataset_id, job_id, totals, name, upto[0]) for name in TASK_SCORES}
    where = [
        col(TaskInstance.job_id) == job_id
        if job_id is not None
        else col(TaskInstance.dataset_id) == dataset_id,
        *([col(TaskInstance.id) <= upto[1]] if upto[1] is not None else []),
    ]
    instances = {
        name: grouped_bins(session, getattr(TaskInstance, name), BINS[name], *where).get(None, _empty(name))
        for name in INSTANCE_SCORES
    }
    return ScoreCounts(tasks, instances)


def public_scores(counts: ScoreCounts) -> dict[str, Any]:
    split = counts.tasks
    return {
        "instructions": {
            name: public(split[name][False].add(split[name][True]), BINS[name]) for name in TASK_SCORES
        },
        "neighbours": {
            decision: {name: public(split[name][accepted], BINS[name]) for name in NEIGHBOUR_SCORES}
            for decision, accepted in (("accepted", True), ("rejected", False))
        },
        "instances": {name: public(counts.instances[name], BINS[name]) for name in INSTANCE_SCORES},
    }


def score_distributions(
    session: Session, dataset_id: int, job_id: int | None = None, totals: dict[bool, int] | None = None
) -> dict[str, Any]:
    """Histograms of the candidates' (not the seeds') scores, the same split by decision for the
    neighbour similarities, and the instances' judge scores. ``totals`` (candidates per decision, the
    whole dataset's) lets the dataset's histograms be read from the score indexes."""
    return public_scores(score_counts(session, dataset_id, job_id, totals))


def job_rejections(session: Session, dataset_id: int, job_id: int) -> dict[str, int]:
    """One job's rejected candidates per rule, most first."""
    rows = session.exec(  # by the job's index (the job is the dataset's: the route checks)
        select(Instruction.rule, func.count())
        .where(col(Instruction.job_id) == job_id, col(Instruction.accepted).is_(False))
        .group_by(col(Instruction.rule))
    ).all()
    return {rule or "unknown": n for rule, n in sorted(rows, key=lambda r: -r[1])}
