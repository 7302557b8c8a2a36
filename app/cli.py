"""``selfinstruct``: serve, generate, ingest, search and seeds from the command line."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.core.logging import configure_logging
from app.core.settings import Settings
from app.models import DatasetCreate, JobCreate
from app.services import datasets as datasets_service
from app.services.acceptance import CandidateIn, decide_and_store, decision_public
from app.services.errors import ServiceError
from app.services.jobs import create_job
from app.services.retrieval import similar
from app.services.runtime import Runtime
from filters.chain import parse_stages
from generators.backends import LLMBackend
from generators.tasks import TaskFileError, load_candidate_file, load_seed_file

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
                JobCreate(target=target, max_requests=max_requests, seed=seed),
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

            runtime.start_workers(threads=0)
            finished = runtime.worker.run_one(job.id, on_progress=progress)
            if finished is None:
                raise _fail(f"job {job.id} stopped with an internal error; see the log", 1)
            job = finished
        elapsed = time.perf_counter() - started
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()
    counts = Counter({k: v for k, v in job.counts.items() if k != "accepted"})
    typer.echo(
        f"job {job.id} {job.status} in {elapsed:.1f}s: {job.accepted} accepted of "
        f"{job.generated} candidates ({job.accepted / max(job.generated, 1):.0%} yield) "
        f"from {job.requests} requests"
    )
    if counts:
        typer.echo("rejections: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if job.status != "succeeded":
        raise _fail(job.error or job.status, 1)


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
    settings = _settings(database_url)
    configure_logging("WARNING")
    runtime = Runtime.build(settings, ensure_default=False)
    try:
        with Session(runtime.engine, expire_on_commit=False) as session:
            try:
                ds = datasets_service.get_dataset(session, dataset)
            except ServiceError:
                if not create:
                    raise
                ds = datasets_service.create_dataset(session, DatasetCreate(name=dataset), settings)
                session.commit()
            added, skipped = datasets_service.add_seeds(session, runtime.registry, ds, tasks)
    except ServiceError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()
    typer.echo(f"added {added} seed tasks to {dataset} ({skipped} duplicates skipped)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
