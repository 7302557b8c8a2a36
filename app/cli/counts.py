"""How the ``generate`` and ``instances`` commands print a job's counters (kept in one place)."""

from __future__ import annotations

from collections import Counter

import typer

STAGE_PREFIXES = ("classification:", "instance:", "instance_parse:")


def echo_job_summary(job: dict, elapsed: float) -> None:
    """A finished generation job: yield, rejections per rule, then the instance stage's counts."""
    stage_counts = {k: v for k, v in job["counts"].items() if k.startswith(STAGE_PREFIXES)}
    counts = Counter({k: v for k, v in job["counts"].items() if k != "accepted" and k not in stage_counts})
    typer.echo(
        f"job {job['id']} {job['status']} in {elapsed:.1f}s: {job['accepted']} accepted of "
        f"{job['generated']} candidates ({job['accepted'] / max(job['generated'], 1):.0%} yield) "
        f"from {job['requests']} requests"
    )
    if counts:
        typer.echo("rejections: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if stage_counts:
        echo_stage_counts(Counter(stage_counts))


def echo_instances_summary(tasks: int, elapsed: float, counts: Counter[str]) -> None:
    """A ``selfinstruct instances`` run over ``tasks`` tasks."""
    typer.echo(f"{tasks} tasks in {elapsed:.1f}s")
    echo_stage_counts(counts)


def echo_stage_counts(counts: Counter[str]) -> None:
    """The instance stage's counts: classification, instance decisions, parse drops."""
    accepted = counts.get("instance:accepted", 0)
    decided = sum(v for k, v in counts.items() if k.startswith("instance:"))
    typer.echo(f"instances: {accepted} accepted of {decided} parsed ({accepted / max(decided, 1):.0%} yield)")
    for prefix in STAGE_PREFIXES:
        group = [(k, v) for k, v in counts.most_common() if k.startswith(prefix) and k != "instance:accepted"]
        if group:
            typer.echo(f"{prefix.rstrip(':')}: " + ", ".join(f"{k[len(prefix) :]} {v}" for k, v in group))
