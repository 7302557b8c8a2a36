"""``selfinstruct``: serve, generate, ingest, search and seeds from the command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.core.logging import configure_logging
from app.core.settings import Settings
from app.models import Dataset, DatasetCreate, JobCreate
from app.services import datasets as datasets_service
from app.services.acceptance import CandidateIn, decide_and_store, decision_public
from app.services.errors import ServiceError
from app.services.jobs import create_job
from app.services.retrieval import similar
from app.services.runtime import Runtime
from filters.chain import parse_stages
from generators.tasks import TaskFileError, load_candidate_file, load_import_file, load_seed_file

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Self-Instruct service: generate, filter, store and search instructions.",
)
seeds_app = typer.Typer(no_args_is_help=True, help="Check seed files and add them to datasets.")
app.add_typer(seeds_app, name="seeds")
logger = logging.getLogger(__name__)

STAGE_PREFIXES = ("classification:", "instance:", "instance_parse:")
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="overrides SI_DATABASE_URL")]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="dataset name")]
INGEST_CHUNK = 256


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)


@contextmanager
def _dataset_session(
    database_url: str | None, name: str, create: bool
) -> Iterator[tuple[Runtime, Session, Dataset]]:
    """A runtime, a session and dataset ``name`` (created first when missing and ``create`` is set);
    a service error becomes the CLI's message and exit code."""
    settings = _settings(database_url)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            try:
                dataset = datasets_service.get_dataset(session, name)
            except ServiceError:
                if not create:
                    raise
                dataset = datasets_service.create_dataset(session, DatasetCreate(name=name), settings)
                session.commit()
            yield runtime, session, dataset
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    worker: Annotated[bool, typer.Option(help="run job workers in this process")] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from app.main import create_app

    settings = _settings(database_url, host=host, port=port, backend=backend)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings, workers=worker),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
def generate(
    dataset: DatasetOpt,
    target: Annotated[int, typer.Option(min=1, help="accepted instructions to add")],
    max_requests: Annotated[int | None, typer.Option(min=1, help="request budget")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed for example choice")] = None,
    instances: Annotated[
        int, typer.Option(min=0, max=20, help="then classify each new task and generate up to K instances")
    ] = 0,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Generate until TARGET new instructions are accepted into DATASET."""
    from tqdm import tqdm

    settings = _settings(database_url, backend=backend)
    configure_logging("WARNING")
    runtime = Runtime.build(settings)
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            ds = datasets_service.get_dataset(session, dataset)
            job = create_job(
                session,
                ds,
                JobCreate(target=target, max_requests=max_requests, seed=seed, instances_per_task=instances),
                settings,
            )
        typer.echo(f"loading {settings.backend} backend …", err=True)
        runtime.load_backend()
        if runtime.backend_error:
            raise _fail(f"backend failed to load: {runtime.backend_error}")
        started = time.perf_counter()
        with tqdm(total=target, desc=f"job {job.id}", unit="instr", file=sys.stderr) as bar:

            def progress(j):  # type: ignore[no-untyped-def]
                bar.update(j.accepted - bar.n)
                bar.set_postfix(generated=j.generated, requests=j.requests)

            job = runtime.job_runner().run(job.id, on_progress=progress)
        elapsed = time.perf_counter() - started
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()
    stage_counts = {k: v for k, v in job.counts.items() if k.startswith(STAGE_PREFIXES)}
    counts = Counter({k: v for k, v in job.counts.items() if k != "accepted" and k not in stage_counts})
    typer.echo(
        f"job {job.id} {job.status} in {elapsed:.1f}s: {job.accepted} accepted of "
        f"{job.generated} candidates ({job.accepted / max(job.generated, 1):.0%} yield) "
        f"from {job.requests} requests"
    )
    if counts:
        typer.echo("rejections: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if stage_counts:
        _echo_stage_counts(Counter(stage_counts))
    if job.status != "succeeded":
        raise _fail(job.error or job.status, 1)


def _echo_stage_counts(counts: Counter[str]) -> None:
    accepted = counts.get("instance:accepted", 0)
    decided = sum(v for k, v in counts.items() if k.startswith("instance:"))
    typer.echo(f"instances: {accepted} accepted of {decided} parsed ({accepted / max(decided, 1):.0%} yield)")
    for prefix in STAGE_PREFIXES:
        group = [(k, v) for k, v in counts.most_common() if k.startswith(prefix) and k != "instance:accepted"]
        if group:
            typer.echo(f"{prefix.rstrip(':')}: " + ", ".join(f"{k[len(prefix) :]} {v}" for k, v in group))


@app.command()
def instances(
    dataset: DatasetOpt,
    k: Annotated[int | None, typer.Option("-k", min=1, max=20, help="instances per task")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many tasks")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Classify DATASET's accepted tasks that have no instances yet and generate up to K instances each."""
    from tqdm import tqdm

    from app.services.instance_stage import InstanceStage, pending_tasks

    settings = _settings(database_url, backend=backend)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    counts: Counter[str] = Counter()
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            ds = datasets_service.get_dataset(session, dataset)
            pending = pending_tasks(session, ds.id, limit=limit)
            if not pending:
                typer.echo(f"no accepted task of {dataset} is waiting for instances")
                return
            typer.echo(f"loading {settings.backend} backend …", err=True)
            runtime.load_backend()
            if runtime.backend_error:
                raise _fail(f"backend failed to load: {runtime.backend_error}")
            stage = InstanceStage(runtime.backend, settings)
            started = time.perf_counter()
            for task_id in tqdm(pending, desc="tasks", unit="task", file=sys.stderr):
                counts += stage.run_task(session, task_id, k or settings.instances_per_task)
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()
    typer.echo(f"{len(pending)} tasks in {time.perf_counter() - started:.1f}s")
    _echo_stage_counts(counts)


@app.command()
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
        raise _fail(str(exc)) from None
    settings = _settings(database_url)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    counts: Counter[str] = Counter()
    out = decisions_out.open("w", encoding="utf-8") if decisions_out else None
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            ds = _dataset_for_ingest(session, runtime, dataset, seed_tasks, seeds, settings)
            pool = runtime.registry.get(ds)
            for start in range(0, len(tasks), INGEST_CHUNK):
                chunk = [CandidateIn(t.instruction, "ingested") for t in tasks[start : start + INGEST_CHUNK]]
                for outcome in decide_and_store(session, runtime.registry, pool, chunk, stages):
                    counts[outcome.decision.rule or "accepted"] += 1
                    if out is not None:
                        out.write(json.dumps(decision_public(outcome).model_dump()) + "\n")
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        if out is not None:
            out.close()
        runtime.close()
    typer.echo(
        f"{len(tasks)} instructions: {counts.pop('accepted', 0)} accepted"
        + "".join(f", {n} {rule}" for rule, n in counts.most_common())
    )


def _dataset_for_ingest(
    session: Session,
    runtime: Runtime,
    name: str,
    seed_tasks: list,
    seeds: Path | None,
    settings: Settings,
):  # type: ignore[no-untyped-def]
    try:
        ds = datasets_service.get_dataset(session, name)
    except ServiceError:
        ds = datasets_service.create_dataset(session, DatasetCreate(name=name), settings)
        session.commit()
        if seed_tasks:
            datasets_service.add_seeds(session, runtime.registry, ds, seed_tasks)
        return ds
    if seeds:
        raise _fail(f"dataset {name!r} already exists; --seeds only applies to a new dataset")
    return ds


@app.command("import")
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
    from app.services import imports

    try:
        imports.check_import_options(format, mode)
        tasks = imports.group_by_instruction(load_import_file(file, format))
    except ServiceError as exc:
        raise _fail(exc.message) from None
    except TaskFileError as exc:
        raise _fail(str(exc)) from None
    with _dataset_session(database_url, dataset, create) as (runtime, session, ds):
        result = imports.store_import(session, runtime.registry, ds, tasks, format, mode)
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


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="text to look for")],
    dataset: DatasetOpt,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="results")] = 10,
    database_url: DatabaseOpt = None,
) -> None:
    """Print the K pool items most similar to QUERY."""
    settings = _settings(database_url)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    try:
        with Session(runtime.engine) as session:
            ds = datasets_service.get_dataset(session, dataset)
        for item in similar(runtime.registry, runtime.registry.get(ds), query, k):
            typer.echo(f"{item.score:.4f}\t{item.id}\t{item.origin}\t{item.instruction}")
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()


@seeds_app.command("check")
def seeds_check(
    file: Annotated[Path, typer.Argument(help="Self-Instruct JSONL seed file")],
) -> None:
    """Validate a seed file and print its counts."""
    try:
        tasks = load_seed_file(file)
    except TaskFileError as exc:
        raise _fail(str(exc)) from None
    classification = sum(t.is_classification for t in tasks)
    no_input = sum(all(not i.input.strip() for i in t.instances) for t in tasks)
    typer.echo(f"{len(tasks)} tasks: {classification} classification, {no_input} without input")


@seeds_app.command("add")
def seeds_add(
    file: Annotated[Path, typer.Argument(help="Self-Instruct JSONL seed file")],
    dataset: DatasetOpt,
    create: Annotated[bool, typer.Option(help="create the dataset if missing")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add the tasks of FILE to DATASET's seed pool."""
    try:
        tasks = load_seed_file(file)
    except TaskFileError as exc:
        raise _fail(str(exc)) from None
    with _dataset_session(database_url, dataset, create) as (runtime, session, ds):
        added, skipped = datasets_service.add_seeds(session, runtime.registry, ds, tasks)
    typer.echo(f"added {added} seed tasks to {dataset} ({skipped} duplicates skipped)")


@app.command()
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
    database_url: DatabaseOpt = None,
) -> None:
    """Write DATASET's triplets in a training format (streamed; see README "Exports")."""
    from app.services import exports, snapshots

    engine = _engine(database_url)
    counter = _RowCounter()
    try:
        with Session(engine) as session:
            ds = datasets_service.get_dataset(session, dataset)
            selection = exports.ExportSelection(
                split=split,
                splits=exports.SplitSpec(seed, validation, test),
                snapshot=snapshots.get_snapshot(session, ds, snapshot) if snapshot is not None else None,
                include_seeds=include_seeds,
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
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        engine.dispose()
    typer.echo(f"{counter.rows} rows written to {output}", err=True)


class _RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def through(self, rows):  # type: ignore[no-untyped-def]
        for row in rows:
            self.rows += 1
            yield row


@app.command()
def snapshot(
    dataset: DatasetOpt,
    note: Annotated[str, typer.Option(help="what this version is")] = "",
    include_seeds: Annotated[bool, typer.Option(help="also record the seed tasks")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Record DATASET's current rows as a version; export it later with --snapshot ID."""
    from app.models import SnapshotCreate
    from app.services import snapshots

    engine = _engine(database_url)
    try:
        with Session(engine) as session:
            ds = datasets_service.get_dataset(session, dataset)
            created = snapshots.create_snapshot(
                session, ds, SnapshotCreate(note=note, include_seeds=include_seeds)
            )
            public = snapshots.snapshot_public(created, ds)
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        engine.dispose()
    typer.echo(
        f"snapshot {public.id} of {dataset}: {public.instances} instances, {public.seed_tasks} seed tasks"
    )


def _engine(database_url: str | None):  # type: ignore[no-untyped-def]
    """The database alone, for commands that need no model."""
    from app.core.db import create_tables, make_engine

    engine = make_engine(_settings(database_url).database_url)
    create_tables(engine)
    return engine


def main() -> None:
    app()
