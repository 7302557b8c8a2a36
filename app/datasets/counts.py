"""The additive parts of a dataset's stats over some of its rows (app/datasets/kept_stats.py adds them
up): rows per origin, decision, rule, job, strategy and recipe; instances per rule; the score histograms.
Counted by the database from its indexes (:func:`count`), or, for the few rows added since a count, in
Python over the rows read once (:func:`count_rows`), with the same result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session

from app.datasets import score_stats, service, tally
from app.datasets.histograms import counted_values
from app.datasets.score_stats import BINS, INSTANCE_SCORES, TASK_SCORES
from app.datasets.tally import Group

TASK_KEYS = ("origin", "accepted", "rule", "job_id", "strategy", "recipe")  # a tally group's key


@dataclass
class Counts:
    """The additive parts of a dataset's stats over some of its rows."""

    groups: list[Group]
    instances: dict[str | None, int]
    scores: score_stats.ScoreCounts

    @property
    def rows(self) -> int:
        return sum(g.rows for g in self.groups)

    @property
    def instance_rows(self) -> int:
        return sum(self.instances.values())

    def add(self, other: Counts) -> Counts:
        instances = dict(self.instances)
        for rule, n in other.instances.items():
            instances[rule] = instances.get(rule, 0) + n
        return Counts(tally.merged(self.groups, other.groups), instances, self.scores.add(other.scores))


def count(session: Session, dataset_id: int, upto: tuple[int | None, int | None] = (None, None)) -> Counts:
    """The dataset's instructions and instances with ids up to ``upto`` (each open when None), counted by
    the database."""
    groups = tally.tally(session, dataset_id, upto[0])
    totals = tally.candidates_per_decision(groups)
    return Counts(
        groups,
        service.instance_counts(session, dataset_id, upto[1]),
        score_stats.score_counts(session, dataset_id, totals=totals, upto=upto),
    )


def public(counts: Counts) -> dict[str, Any]:
    """Counts, rejections, instances, score histograms and strategies, as ``GET …/stats`` answers them."""
    groups = counts.groups
    return {
        **tally.counts(groups),
        "rejections": tally.rejections(groups),
        "rejections_per_job": tally.rejections_per_job(groups),
        "instances": service.public_instance_counts(counts.instances),
        "scores": score_stats.public_scores(counts.scores),
        "strategies": tally.strategies(groups),
    }


def count_rows(tasks: Sequence[Any], instances: Sequence[Any]) -> Counts:
    """:func:`count` of rows already read: ``tasks`` with the ``TASK_KEYS`` and ``TASK_SCORES``
    attributes, ``instances`` with ``rule`` and the ``INSTANCE_SCORES``."""
    keys = Counter((t.origin, bool(t.accepted), t.rule, t.job_id, t.strategy, t.recipe) for t in tasks)
    candidates = [t for t in tasks if t.origin != "seed"]
    accepted = np.array([bool(t.accepted) for t in candidates], dtype=bool)

    def column(rows: Sequence[Any], name: str) -> np.ndarray:
        return np.array([np.nan if (v := getattr(r, name)) is None else v for r in rows], dtype=np.float64)

    tasks_split = {}
    for name in TASK_SCORES:
        values = column(candidates, name)
        tasks_split[name] = {a: counted_values(values[accepted == a], BINS[name]) for a in (False, True)}
    return Counts(
        tally.merged([Group(*key, rows=n) for key, n in keys.items()]),
        dict(Counter(i.rule for i in instances)),
        score_stats.ScoreCounts(
            tasks_split,
            {name: counted_values(column(instances, name), BINS[name]) for name in INSTANCE_SCORES},
        ),
    )
