"""A job's counters, declared once: what each writer adds, how they merge, how they are stored and printed.

``JobCounts`` is the shape of ``Job.counts`` (one JSON column) and of ``counts`` in ``JobPublic``. Each group
maps a key to how many times it happened:

- ``decisions``: candidate instructions by decision, ``accepted`` or the id of the rule that rejected them;
- ``parse_dropped``: items the completion parser dropped, by reason (``target_reached`` for parsed items left
  undecided because the job's target was reached);
- ``classification``: answers of the classification stage, ``yes`` / ``no`` / ``unclear``;
- ``instance_decisions``: instances by decision, ``accepted`` or the rejecting instance rule id;
- ``instance_parse_dropped``: parts of instance completions the instance parser dropped, by reason;
- ``requests``: requests by what happened to them beyond being stored: ``cancelled`` (outstanding when
  the job ended), ``n_ignored``, ``identical_samples`` (see app/jobs/request_sizing.py).

A stored value never changes in place (SQLAlchemy would not see it): writers count into a fresh
``JobCounts`` and assign ``job.counts = job.counts.merged(delta)``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON
from sqlalchemy.types import TypeDecorator

Group = Literal[
    "decisions", "parse_dropped", "classification", "instance_decisions", "instance_parse_dropped", "requests"
]
GROUPS: tuple[Group, ...] = typing.get_args(Group)
STAGE_GROUPS: tuple[Group, ...] = ("classification", "instance_decisions", "instance_parse_dropped")
ACCEPTED = "accepted"


class JobCounts(BaseModel):
    """Counts of one job (or of one run of a stage), by group; see the module docstring."""

    model_config = ConfigDict(extra="forbid")  # a flat counter of 0.2 is an error here, not an empty value

    decisions: dict[str, int] = Field(
        default_factory=dict, description="candidates by decision: 'accepted' or the rejecting rule id"
    )
    parse_dropped: dict[str, int] = Field(
        default_factory=dict, description="items the completion parser dropped, by reason"
    )
    classification: dict[str, int] = Field(
        default_factory=dict, description="classification answers: 'yes', 'no' or 'unclear'"
    )
    instance_decisions: dict[str, int] = Field(
        default_factory=dict, description="instances by decision: 'accepted' or the rejecting rule id"
    )
    instance_parse_dropped: dict[str, int] = Field(
        default_factory=dict, description="parts of instance completions the parser dropped, by reason"
    )
    requests: dict[str, int] = Field(
        default_factory=dict,
        description="requests: 'cancelled' (outstanding at the end), 'n_ignored', 'identical_samples'",
    )

    def add(self, group: Group, key: str, n: int = 1) -> None:
        """Count ``n`` more of ``key`` in ``group`` (in place: only on a fresh, unstored value)."""
        counts = getattr(self, group)
        counts[key] = counts.get(key, 0) + n

    def add_all(self, group: Group, keys: Iterable[str]) -> None:
        for key in keys:
            self.add(group, key)

    def add_decision(self, rule: str | None) -> None:
        """One decided candidate: ``rule`` is None when it was accepted."""
        self.add("decisions", rule or ACCEPTED)

    def add_instance_decision(self, rule: str | None) -> None:
        self.add("instance_decisions", rule or ACCEPTED)

    def add_classification(self, answer: bool | None) -> None:
        self.add("classification", "unclear" if answer is None else "yes" if answer else "no")

    def merged(self, other: JobCounts) -> JobCounts:
        """A new value with the sums of both, keys in order of first appearance."""
        result = self.model_copy(deep=True)
        for group in GROUPS:
            for key, n in getattr(other, group).items():
                result.add(group, key, n)
        return result

    def has_stage_counts(self) -> bool:
        """Whether the instance stage (classification, instances) counted anything."""
        return any(getattr(self, group) for group in STAGE_GROUPS)


def as_job_counts(value: JobCounts | dict[str, Any] | None) -> JobCounts:
    """A ``JobCounts`` from itself, from its JSON form, or from nothing (empty)."""
    if isinstance(value, JobCounts):
        return value
    return JobCounts.model_validate(value or {})


class JobCountsJSON(TypeDecorator[JobCounts]):
    """``JobCounts`` stored as its JSON object in a JSON column."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        return None if value is None else as_job_counts(value).model_dump()

    def process_result_value(self, value: Any, dialect: Any) -> JobCounts | None:
        return None if value is None else as_job_counts(value)


def _by_count(items: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Largest first; ties keep their order (what ``Counter.most_common`` does)."""
    return sorted(items, key=lambda item: -item[1])


def accepted_and_rejections(group: dict[str, int]) -> tuple[int, dict[str, int]]:
    """Of a decisions group: how many were accepted, and the rejections by rule, largest first."""
    return group.get(ACCEPTED, 0), dict(_by_count((k, v) for k, v in group.items() if k != ACCEPTED))


def rejection_line(counts: JobCounts) -> str | None:
    """``rejections: rouge_l 3, exact 1, parse:too_long 1``: rejecting rules and parser drops."""
    items = [(k, v) for k, v in counts.decisions.items() if k != ACCEPTED]
    items += [(f"parse:{k}", v) for k, v in counts.parse_dropped.items()]
    if not items:
        return None
    return "rejections: " + ", ".join(f"{k} {v}" for k, v in _by_count(items))


def stage_lines(counts: JobCounts) -> list[str]:
    """The instance stage's summary: yield, then one line per non-empty group."""
    accepted = counts.instance_decisions.get(ACCEPTED, 0)
    decided = sum(counts.instance_decisions.values())
    lines = [f"instances: {accepted} accepted of {decided} parsed ({accepted / max(decided, 1):.0%} yield)"]
    groups = (
        ("classification", counts.classification.items()),
        ("instance", ((k, v) for k, v in counts.instance_decisions.items() if k != ACCEPTED)),
        ("instance_parse", counts.instance_parse_dropped.items()),
    )
    for label, items in groups:
        ordered = _by_count(items)
        if ordered:
            lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in ordered))
    return lines


def job_count_lines(counts: JobCounts | dict[str, Any]) -> list[str]:
    """What ``selfinstruct generate`` prints after a job's summary line: rejections, then the stage's counts
    when the job ran it."""
    counts = as_job_counts(counts)
    rejections = rejection_line(counts)
    return ([rejections] if rejections else []) + (stage_lines(counts) if counts.has_stage_counts() else [])
