"""Moving data in and out: ``import``, ``seeds check|add``, ``export`` and ``snapshot``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from app.cli.options import DatabaseOpt, DatasetOpt, MinJudgeOpt, ReviewOpt, fail


def import_file(
    file: Annotated[Path, typer.Argument(help="the file to import")],
    dataset: DatasetOpt,
    format: Annotated[str, typer.Option("--format", "-f", help="alpaca, sharegpt or self-instruct")],
    mode: Annotated[str, typer.Option("--as", help="seeds or candidates (through the filter chain)")] = (
        "candidates"
    ),
    create: Annotated[bool, typer.Option(help="create the dataset if missing")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Import FILE into DATASET as seeds, or as candidates decided by the filter chain (nothing stored
    when the file has an error)."""
    from app.cli.runtime import dataset_session
    from app.core.errors import ServiceError
    from app.exports import imports
    from generators.tasks import TaskFileError, load_import_file

    try:
        imports.check_import_options(format, mode)
        tasks = imports.group_by_instruction(load_import_file(file, format))
    except ServiceError as exc:
        raise fail(exc.message) from None
    except TaskFileError as exc:
        raise fail(str(exc)) from None
    with dataset_session(database_url, dataset, create) as (registry, session, ds, _):
        result = imports.store_import(session, registry, ds, tasks, format, mode)
    if mode == "seeds":
        skipped = result.skipped_duplicates
        typer.echo(f"added {result.accepted} seed tasks to {dataset} ({skipped} duplicates skipped)")
        return
    typer.echo(
        f"{result.tasks} tasks: {result.accepted} accepted"
        + "".join(f", {n} {rule}" for rule, n in result.rejections.items())
    )
    typer.echo(
        f"instances: {result.instances_accepted} accepted"
        + "".join(f", {n} {rule}" for rule, n in result.instance_rejections.items())
    )


def seeds_check(
    file: Annotated[Path, typer.Argument(help="Self-Instruct JSONL seed file")],
) -> None:
    """Validate a seed file and print its counts."""
    from generators.tasks import TaskFileError, load_seed_file

    try:
        tasks = load_seed_file(file)
    except TaskFileError as exc:
        raise fail(str(exc)) from None
    classification = sum(t.is_classification for t in tasks)
    no_input = sum(all(not i.input.strip() for i in t.instances) for t in tasks)
    typer.echo(f"{len(tasks)} tasks: {classification} classification, {no_input} without input")


def seeds_add(
    file: Annotated[Path, typer.Argument(help="Self-Instruct JSONL seed file")],
    dataset: DatasetOpt,
    create: Annotated[bool, typer.Option(help="create the dataset if missing")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add the tasks of FILE to DATASET's seed pool."""
    from app.cli.runtime import dataset_session
    from app.datasets import service as datasets_service
    from generators.tasks import TaskFileError, load_seed_file

    try:
        tasks = load_seed_file(file)
    except TaskFileError as exc:
        raise fail(str(exc)) from None
    with dataset_session(database_url, dataset, create) as (registry, session, ds, _):
        added, skipped = datasets_service.add_seeds(session, registry, ds, tasks)
    typer.echo(f"added {added} seed tasks to {dataset} ({skipped} duplicates skipped)")


def export(
    dataset: DatasetOpt,
    format: Annotated[str, typer.Option("--format", "-f", help="alpaca, sharegpt, openai, parquet or jsonl")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write ('-' for stdout)")],
    split: Annotated[str, typer.Option(help="train, validation, test or all")] = "all",
    seed: Annotated[int, typer.Option(help="split seed")] = 0,
    validation: Annotated[float, typer.Option(min=0.0, max=1.0, help="validation fraction")] = 0.1,
    test: Annotated[float, typer.Option(min=0.0, max=1.0, help="test fraction")] = 0.1,
    snapshot: Annotated[int | None, typer.Option(help="export exactly this snapshot's rows")] = None,
    include_seeds: Annotated[bool, typer.Option(help="also export the seed tasks' instances")] = False,
    review: ReviewOpt = None,
    min_judge_score: MinJudgeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write DATASET's triplets in a training format (streamed; see README "Exports")."""

    from app.cli.runtime import dataset_reader
    from app.exports import formats as exports
    from app.exports import snapshots
    from app.exports.review_filter import ReviewSelection

    counter = _RowCounter()
    with dataset_reader(database_url, dataset) as (session, ds):
        selection = exports.ExportSelection(
            split=split,
            splits=exports.SplitSpec(seed, validation, test),
            snapshot=snapshots.get_snapshot(session, ds, snapshot) if snapshot is not None else None,
            include_seeds=include_seeds,
            review=ReviewSelection(tuple(review) if review else None, min_judge_score),
        )
        chunks = exports.render(counter.through(exports.iter_rows(session, ds, selection)), format)
        if str(output) == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            partial.replace(output)  # a failed export leaves no half-written file behind
    typer.echo(f"{counter.rows} rows written to {output}", err=True)


_T = TypeVar("_T")


class _RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def through(self, rows: Iterable[_T]) -> Iterator[_T]:
        for row in rows:
            self.rows += 1
            yield row


def snapshot(
    dataset: DatasetOpt,
    note: Annotated[str, typer.Option(help="what this version is")] = "",
    include_seeds: Annotated[bool, typer.Option(help="also record the seed tasks")] = False,
    review: ReviewOpt = None,
    min_judge_score: MinJudgeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Record DATASET's current rows as a version; export it later with --snapshot ID."""
    from pydantic import ValidationError

    from app.cli.runtime import dataset_reader
    from app.exports import snapshots
    from app.models import SnapshotCreate

    with dataset_reader(database_url, dataset) as (session, ds):
        try:
            data = SnapshotCreate.model_validate(
                {
                    "note": note,
                    "include_seeds": include_seeds,
                    "review": review,
                    "min_judge_score": min_judge_score,
                }
            )
        except ValidationError as exc:
            raise fail(str(exc.errors()[0]["msg"])) from None
        created = snapshots.create_snapshot(session, ds, data)
        public = snapshots.snapshot_public(created, ds)
    typer.echo(
        f"snapshot {public.id} of {dataset}: {public.instances} instances, {public.seed_tasks} seed tasks"
    )
