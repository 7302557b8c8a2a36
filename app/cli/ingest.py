"""``ingest``: a file's texts through the filter chain, in file order, into a dataset."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.cli.options import DatabaseOpt, DatasetOpt, fail
from app.cli.runtime import batch_settings, command_services, get_or_create_dataset
from app.core.logging import configure_logging
from app.core.settings import Settings
from app.datasets import service as datasets_service
from app.models import Dataset
from app.pipeline.acceptor import CandidateIn, decide_and_store, decision_public
from app.pipeline.pools import PoolRegistry
from filters.chain import parse_stages
from generators.tasks import Task, TaskFileError, load_candidate_file, load_seed_file

INGEST_CHUNK = 256


def ingest(
    file: Annotated[Path, typer.Argument(help="JSONL with 'instruction', seed rows, or Alpaca JSON")],
    dataset: DatasetOpt,
    seeds: Annotated[Path | None, typer.Option(help="seed file for a new dataset")] = None,
    filters: Annotated[
        str | None,
        typer.Option(help="comma-separated stages: heuristics,exact,rouge,embedding (default: all)"),
    ] = None,
    decisions_out: Annotated[Path | None, typer.Option(help="write one JSON line per input")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the texts of FILE through the filter chain, in file order, into DATASET."""
    try:
        stages = parse_stages(filters)
        tasks = load_candidate_file(file)
        seed_tasks = load_seed_file(seeds) if seeds else []
    except (ValueError, TaskFileError) as exc:
        raise fail(str(exc)) from None
    settings = batch_settings(database_url)
    configure_logging("WARNING")
    counts: Counter[str] = Counter()
    out = decisions_out.open("w", encoding="utf-8") if decisions_out else None
    try:
        with (
            command_services(settings) as services,
            Session(services.engine, expire_on_commit=False) as session,
        ):
            registry = services.require_pools().registry
            ds = _dataset_for_ingest(session, registry, dataset, seed_tasks, seeds, settings)
            pool = registry.get(ds)
            for start in range(0, len(tasks), INGEST_CHUNK):
                chunk = [CandidateIn(t.instruction, "ingested") for t in tasks[start : start + INGEST_CHUNK]]
                for outcome in decide_and_store(session, registry, pool, chunk, stages):
                    counts[outcome.decision.rule or "accepted"] += 1
                    if out is not None:
                        out.write(json.dumps(decision_public(outcome).model_dump()) + "\n")
    finally:
        if out is not None:
            out.close()
    typer.echo(
        f"{len(tasks)} instructions: {counts.pop('accepted', 0)} accepted"
        + "".join(f", {n} {rule}" for rule, n in counts.most_common())
    )


def _dataset_for_ingest(
    session: Session,
    registry: PoolRegistry,
    name: str,
    seed_tasks: list[Task],
    seeds: Path | None,
    settings: Settings,
) -> Dataset:
    ds, created = get_or_create_dataset(session, name, settings)
    if created:
        if seed_tasks:
            datasets_service.add_seeds(session, registry, ds, seed_tasks)
        return ds
    if seeds:
        raise fail(f"dataset {name!r} already exists; --seeds only applies to a new dataset")
    return ds
