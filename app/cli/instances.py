"""``instances``: classify a dataset's accepted tasks and generate their instances, here."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from app.cli.options import DatabaseOpt, DatasetOpt


def instances(
    dataset: DatasetOpt,
    k: Annotated[int | None, typer.Option("-k", min=1, max=20, help="instances per task")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many tasks")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Classify DATASET's accepted tasks that have no instances yet and generate up to K instances each."""
    from sqlmodel import Session
    from tqdm import tqdm

    from app.cli.counts import echo_instances_summary
    from app.cli.runtime import command_services, command_settings, load_model
    from app.core.logging import configure_logging
    from app.datasets import service as datasets_service
    from app.jobs.counters import JobCounts
    from app.models import stored_id
    from app.pipeline.instance_stage import InstanceStage, pending_tasks

    settings = command_settings(database_url, backend=backend)
    configure_logging("WARNING")
    counts = JobCounts()
    with (
        command_services(settings, pools=False, model=True) as services,
        Session(services.engine, expire_on_commit=False) as session,
    ):
        ds = datasets_service.get_dataset(session, dataset)
        pending = pending_tasks(session, stored_id(ds), limit=limit)
        if not pending:
            typer.echo(f"no accepted task of {dataset} is waiting for instances")
            return
        typer.echo(f"loading {settings.backend} backend …", err=True)
        model = load_model(services)
        # through the process's dispatcher, as jobs do: its in-flight limit and circuit breaker apply
        stage = InstanceStage(model.dispatcher, settings)
        started = time.perf_counter()
        for task_id in tqdm(pending, desc="tasks", unit="task", file=sys.stderr):
            counts = counts.merged(stage.run_task(session, task_id, k or settings.instances_per_task))
    echo_instances_summary(len(pending), time.perf_counter() - started, counts)
