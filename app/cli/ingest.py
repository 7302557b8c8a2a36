"""``ingest``: a file's texts through the filter chain, in file order, into a dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.options import DatabaseOpt, DatasetOpt, fail

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.models import Dataset
    from app.pipeline.pools import PoolRegistry
    from generators.tasks import Task

INGEST_CHUNK = 256


def ingest(
    file: Annotated[Path, typer.Argument(help="JSONL with 'instruction', seed rows, or Alpaca JSON")],
    dataset: DatasetOpt,
    seeds: Annotated[Path | None, typer.Option(help="seed file for a new dataset")] = None,
    filters: Annotated[
        str | None,
        typer.Option(
            help="comma-separated stage ids, e.g. heuristics,exact,rouge (default: the whole chain); "
            "without a vector stage nothing is embedded (the service embeds the new rows when it loads them)"
        ),
    ] = None,
    decisions_out: Annotated[Path | None, typer.Option(help="write one JSON line per input")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the texts of FILE through the filter chain, in file order, into DATASET."""
    from app.cli.runtime import dataset_session
    from app.jobs.counters import JobCounts, accepted_and_rejections
    from app.pipeline.acceptor import CandidateIn, decide_and_store, decision_public
    from filters.chain import parse_stages
    from filters.stages import STAGES
    from generators.tasks import TaskFileError, load_candidate_file, load_seed_file

    try:
        stages = parse_stages(filters)
        tasks = load_candidate_file(file)
        seed_tasks = load_seed_file(seeds) if seeds else []
    except (ValueError, TaskFileError) as exc:
        raise fail(str(exc)) from None
    counts = JobCounts()
    out = decisions_out.open("w", encoding="utf-8") if decisions_out else None
    try:
        with dataset_session(database_url, dataset, create=True) as (registry, session, ds, created):
            _seed_new_dataset(session, registry, ds, created, seed_tasks, seeds)
            if stages is not None and not any(STAGES[s].needs_vector for s in stages):
                # no stage looks at vectors: nothing is embedded here; accepted rows are stored without
                # one, and the first pool that needs them (serve, a worker) embeds them once and stores them
                registry.embedder = None
            pool = registry.get(ds)
            for start in range(0, len(tasks), INGEST_CHUNK):
                chunk = [CandidateIn(t.instruction, "ingested") for t in tasks[start : start + INGEST_CHUNK]]
                for outcome in decide_and_store(session, registry, pool, chunk, stages):
                    counts.add_decision(outcome.decision.rule)
                    if out is not None:
                        out.write(json.dumps(decision_public(outcome).model_dump()) + "\n")
    finally:
        if out is not None:
            out.close()
    accepted, rejections = accepted_and_rejections(counts.decisions)
    typer.echo(
        f"{len(tasks)} instructions: {accepted} accepted"
        + "".join(f", {n} {rule}" for rule, n in rejections.items())
    )


def _seed_new_dataset(
    session: Session,
    registry: PoolRegistry,
    dataset: Dataset,
    created: bool,
    seed_tasks: list[Task],
    seeds: Path | None,
) -> None:
    """``--seeds`` fill a dataset this command just created; an existing one keeps its seed pool."""
    from app.datasets import service as datasets_service

    if not created and seeds:
        raise fail(f"dataset {dataset.name!r} already exists; --seeds only applies to a new dataset")
    if created and seed_tasks:
        datasets_service.add_seeds(session, registry, dataset, seed_tasks)
