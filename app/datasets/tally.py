"""One ordered pass over a dataset's decisions for ``GET …/stats``: rows per origin, decision, rule, job,
strategy and prompt recipe, read from one index in its order (``ix_instruction_tally``) without visiting
the rows; the counts per decision, the rejections per rule and per job, and the strategy breakdown are
summed from its few hundred groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.datasets.service import counts_by_origin
from app.models import Instruction
from generators.strategies.recipe import recipe_values


@dataclass(frozen=True)
class Group:
    origin: str
    accepted: bool
    rule: str | None
    job_id: int | None
    strategy: str | None
    recipe: str | None
    rows: int


def tally(session: Session, dataset_id: int, upto: int | None = None) -> list[Group]:
    """The groups of the dataset's rows with ids up to ``upto`` (all: None), in one order
    (:func:`merged`'s)."""
    keys = (
        col(Instruction.origin),
        col(Instruction.accepted),
        col(Instruction.rule),
        col(Instruction.job_id),
        col(Instruction.strategy),
        col(Instruction.recipe),
    )
    query = select(*keys, func.count()).where(col(Instruction.dataset_id) == dataset_id)
    if upto is not None:
        query = query.where(col(Instruction.id) <= upto)
    query = query.group_by(*keys)
    return merged(
        [Group(o, bool(a), r, j, s, c, int(n)) for o, a, r, j, s, c, n in session.execute(query).all()]
    )


def merged(*tallies: list[Group]) -> list[Group]:
    """One group per key, rows summed, ordered by key (so a tally summed from parts reads as one)."""
    rows: dict[tuple[Any, ...], int] = {}
    for groups in tallies:
        for g in groups:
            key = (g.origin, g.accepted, g.rule, g.job_id, g.strategy, g.recipe)
            rows[key] = rows.get(key, 0) + g.rows
    ordered = sorted(rows, key=lambda key: tuple((v is None, v if v is not None else 0) for v in key))
    return [Group(o, a, r, j, s, c, rows[(o, a, r, j, s, c)]) for o, a, r, j, s, c in ordered]


def candidates_per_decision(groups: list[Group]) -> dict[bool, int]:
    totals = {False: 0, True: 0}
    for g in groups:
        if g.origin != "seed":
            totals[g.accepted] += g.rows
    return totals


def counts(groups: list[Group]) -> dict[str, int]:
    """``seed_count, accepted_count, rejected_count``, as ``GET /v1/datasets/{name}`` counts them."""
    return counts_by_origin((g.origin, g.accepted, g.rows) for g in groups)


def _most_first(counted: dict[Any, int]) -> dict[Any, int]:
    return dict(sorted(counted.items(), key=lambda item: (-item[1], str(item[0]))))


def rejections(groups: list[Group]) -> dict[str | None, int]:
    """Rejected rows per rule, most first (a rejection always has its rule; the column may be NULL)."""
    counted: dict[str | None, int] = {}
    for g in groups:
        if not g.accepted:
            counted[g.rule] = counted.get(g.rule, 0) + g.rows
    return _most_first(counted)


def rejections_per_job(groups: list[Group]) -> dict[str, dict[str, int]]:
    """Rejected rows per job (``none``: submitted or ingested) and rule, most first."""
    jobs: dict[int | None, dict[str, int]] = {}
    for g in groups:
        if not g.accepted:
            rules = jobs.setdefault(g.job_id, {})
            rules[g.rule or "unknown"] = rules.get(g.rule or "unknown", 0) + g.rows
    ordered = sorted(jobs, key=lambda j: (j is None, j or 0))
    return {str(j) if j is not None else "none": _most_first(jobs[j]) for j in ordered}


def strategies(groups: list[Group]) -> dict[str, Any]:
    """Candidates (non-seed) per strategy (``none``: no strategy, e.g. submitted) and decision, and per
    value of each lineage key naming how the prompt was built (``by``)."""
    result: dict[str, Any] = {}
    for g in groups:
        if g.origin == "seed":
            continue
        decision = "accepted" if g.accepted else "rejected"
        entry = result.setdefault(g.strategy or "none", {"accepted": 0, "rejected": 0, "by": {}})
        entry[decision] += g.rows
        for key, value in recipe_values(g.recipe).items():
            cell = entry["by"].setdefault(key, {}).setdefault(value, {"accepted": 0, "rejected": 0})
            cell[decision] += g.rows
    return dict(sorted(result.items(), key=lambda item: -(item[1]["accepted"] + item[1]["rejected"])))
