"""How the ``generate`` and ``instances`` commands print a job's counters (app/jobs/counters.py)."""

from __future__ import annotations

from typing import Any

import typer

from app.jobs.counters import JobCounts, job_count_lines, stage_lines


def echo_job_summary(job: dict[str, Any], elapsed: float) -> None:
    """A finished generation job: yield, rejections per rule, then the instance stage's counts."""
    typer.echo(
        f"job {job['id']} {job['status']} in {elapsed:.1f}s: {job['accepted']} accepted of "
        f"{job['generated']} candidates ({job['accepted'] / max(job['generated'], 1):.0%} yield) "
        f"from {job['requests']} requests"
    )
    for line in job_count_lines(job["counts"]):
        typer.echo(line)


def echo_instances_summary(tasks: int, elapsed: float, counts: JobCounts) -> None:
    """A ``selfinstruct instances`` run over ``tasks`` tasks."""
    typer.echo(f"{tasks} tasks in {elapsed:.1f}s")
    for line in stage_lines(counts):
        typer.echo(line)
