"""``selfinstruct``: serve, generate, ingest, search and seeds from the command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.core.errors import ServiceError
from app.core.logging import configure_logging
from app.core.settings import Settings
from app.datasets import service as datasets_service
from app.jobs.counters import JobCounts, job_count_lines, stage_lines
from app.jobs.service import create_job, job_public
from app.models import Dataset, DatasetCreate, JobCreate
from app.pipeline.acceptor import CandidateIn, decide_and_store, decision_public
from app.retrieval.similarity import similar
from app.runtime import Runtime
from filters.chain import parse_stages
from generators.backends import LLMBackend
from generators.tasks import TaskFileError, load_candidate_file, load_import_file, load_seed_file

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Self-Instruct service: generate, filter, store and search instructions.",
)
seeds_app = typer.Typer(no_args_is_help=True, help="Check seed files and add them to datasets.")
app.add_typer(seeds_app, name="seeds")
logger = logging.getLogger(__name__)

DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="overrides SI_DATABASE_URL")]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="dataset name")]
INGEST_CHUNK = 256


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)


def _batch_settings(database_url: str | None, **overrides: object) -> Settings:
    """Settings for a one-shot batch command (ingest, import): the process has the machine to itself,
    so each model call uses every core unless ``SI_TORCH_THREADS`` says otherwise (a service keeps one
    thread per call and runs calls side by side instead)."""
    settings = _settings(database_url, **overrides)
    if "torch_threads" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"torch_threads": os.cpu_count() or 1})


def _get_or_create_dataset(
    session: Session, name: str, settings: Settings, create: bool = True
) -> tuple[Dataset, bool]:
    """Dataset ``name`` and whether it was just created (and committed); a missing one is created only
    when ``create`` is set, else its NotFound propagates."""
    try:
        return datasets_service.get_dataset(session, name), False
    except ServiceError:
        if not create:
            raise
        dataset = datasets_service.create_dataset(session, DatasetCreate(name=name), settings)
        session.commit()
        return dataset, True


@contextmanager
def _dataset_session(
    database_url: str | None, name: str, create: bool
) -> Iterator[tuple[Runtime, Session, Dataset]]:
    """A runtime, a session and dataset ``name`` (created first when missing and ``create`` is set);
    a service error becomes the CLI's message and exit code."""
    settings = _batch_settings(database_url)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            dataset, _ = _get_or_create_dataset(session, name, settings, create)
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
def worker(
    threads: Annotated[int | None, typer.Option(min=1, help="job threads (default SI_WORKERS)")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers, openai or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run job workers and the scheduler in this process, until SIGTERM or Ctrl-C."""
    settings = _settings(database_url, backend=backend, workers=threads)
    configure_logging(settings.log_level)
    run_worker(settings)


def run_worker(settings: Settings, backend: LLMBackend | None = None) -> None:
    """The ``worker`` command's body (``backend`` may be injected, as tests do with a slowed fake)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = Runtime.build(settings, backend=backend, ensure_default=False)
    try:
        runtime.load_backend()
        if runtime.backend_error:
            raise _fail(f"backend failed to load: {runtime.backend_error}")
        runtime.start_workers(max(settings.workers, 1))
        runtime.start_scheduler()
        logger.info("worker %s ready", runtime.worker.owner)
        stop.wait()
        logger.info("stopping: running jobs go back to the queue at their next step")
    finally:
        runtime.close()


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
    server: Annotated[
        str | None,
        typer.Option(help="queue the job on a running service (http://HOST:PORT) and follow its events"),
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Generate until TARGET new instructions are accepted into DATASET."""
    body = JobCreate(target=target, max_requests=max_requests, seed=seed, instances_per_task=instances)
    started = time.perf_counter()
    if server:
        job = _generate_on_server(server, dataset, body)
    else:
        job = _generate_here(_settings(database_url, backend=backend), dataset, body)
    elapsed = time.perf_counter() - started
    typer.echo(
        f"job {job['id']} {job['status']} in {elapsed:.1f}s: {job['accepted']} accepted of "
        f"{job['generated']} candidates ({job['accepted'] / max(job['generated'], 1):.0%} yield) "
        f"from {job['requests']} requests"
    )
    for line in job_count_lines(job["counts"]):
        typer.echo(line)
    if job["status"] != "succeeded":
        raise _fail(job["error"] or job["status"], 1)


def _progress_bar(job_id: int, target: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=target, desc=f"job {job_id}", unit="instr", file=sys.stderr)


def _show_progress(bar, job: dict) -> None:  # type: ignore[no-untyped-def]
    """One renderer for both paths: the fields of ``JobPublic``, as the events stream sends them."""
    bar.update(job["accepted"] - bar.n)
    bar.set_postfix(generated=job["generated"], requests=job["requests"], status=job["status"])


def _generate_here(settings: Settings, dataset: str, body: JobCreate) -> dict:
    configure_logging("WARNING")
    runtime = Runtime.build(settings)
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            ds = datasets_service.get_dataset(session, dataset)
            job = create_job(session, ds, body, settings)
        typer.echo(f"loading {settings.backend} backend …", err=True)
        runtime.load_backend()
        if runtime.backend_error:
            raise _fail(f"backend failed to load: {runtime.backend_error}")
        with _progress_bar(job.id, body.target) as bar:
            runtime.start_workers(threads=0)
            finished = runtime.worker.run_one(
                job.id, on_progress=lambda j: _show_progress(bar, job_public(j, dataset).model_dump())
            )
        if finished is None:
            raise _fail(f"job {job.id} stopped with an internal error; see the log", 1)
        return job_public(finished, dataset).model_dump()
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()


def _generate_on_server(server: str, dataset: str, body: JobCreate) -> dict:
    import httpx

    try:
        with httpx.Client(base_url=server.rstrip("/"), timeout=httpx.Timeout(30.0, read=None)) as client:
            response = client.post(f"/v1/datasets/{dataset}/jobs", json=body.model_dump(exclude_none=True))
            if response.status_code != 202:
                raise _fail(_error_message(response))
            job = response.json()
            with (
                _progress_bar(job["id"], body.target) as bar,
                client.stream("GET", f"{response.headers['location']}/events") as events,
            ):
                for name, data in server_sent_events(events.iter_lines()):
                    job = json.loads(data)
                    _show_progress(bar, job)
                    if name == "end":
                        break
            return job
    except httpx.HTTPError as exc:
        raise _fail(f"cannot talk to {server}: {type(exc).__name__}: {exc}") from None


def _error_message(response) -> str:  # type: ignore[no-untyped-def]
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def server_sent_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` pairs of a text/event-stream (comments and pings skipped)."""
    event, data = "message", []
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


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

    from app.pipeline.instance_stage import InstanceStage, pending_tasks

    settings = _settings(database_url, backend=backend)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    counts = JobCounts()
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
                counts = counts.merged(stage.run_task(session, task_id, k or settings.instances_per_task))
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()
    typer.echo(f"{len(pending)} tasks in {time.perf_counter() - started:.1f}s")
    for line in stage_lines(counts):
        typer.echo(line)


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
    settings = _batch_settings(database_url)
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
    ds, created = _get_or_create_dataset(session, name, settings)
    if created:
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
    from app.exports import imports

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
    from app.exports import formats as exports
    from app.exports import snapshots

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
    from app.exports import snapshots
    from app.models import SnapshotCreate

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
