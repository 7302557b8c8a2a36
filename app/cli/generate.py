"""``generate``: run one generation job here, or queue it on a running service and follow its events."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.options import DatabaseOpt, DatasetOpt, fail

if TYPE_CHECKING:
    import httpx
    from tqdm import tqdm

    from app.core.settings import Settings
    from app.models import JobCreate


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
    strategy: Annotated[
        str | None,
        typer.Option(help="self_instruct (the job's default), template, retrieval, evol or magpie"),
    ] = None,
    strategy_settings: Annotated[
        str, typer.Option(help='the strategy\'s settings as JSON, e.g. \'{"mode": "sample"}\'')
    ] = "{}",
    auto_stop: Annotated[
        str | None, typer.Option(help="WINDOW:MIN_YIELD, e.g. 50:0.05 — stop when the yield flattens")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Generate until TARGET new instructions are accepted into DATASET."""
    from app.cli.counts import echo_job_summary
    from app.cli.runtime import command_settings
    from app.models import AutoStop, JobCreate

    try:
        options = json.loads(strategy_settings)
        stop = None
        if auto_stop is not None:
            window, share = auto_stop.split(":", 1)
            stop = AutoStop(window=int(window), min_yield=float(share))
        chosen = {"strategy": strategy} if strategy is not None else {}
        body = JobCreate(
            target=target,
            max_requests=max_requests,
            seed=seed,
            instances_per_task=instances,
            strategy_settings=options,
            auto_stop=stop,
            **chosen,
        )
    except ValueError as exc:  # bad JSON, a malformed --auto-stop or a value out of range
        raise fail(f"invalid option: {exc}") from None
    started = time.perf_counter()
    if server:
        job = _generate_on_server(server, dataset, body)
    else:
        job = _generate_here(command_settings(database_url, backend=backend), dataset, body)
    echo_job_summary(job, time.perf_counter() - started)
    if job["status"] != "succeeded":
        raise fail(job["error"] or job["status"], 1)


def _progress_bar(job_id: int, target: int) -> tqdm:
    from tqdm import tqdm

    return tqdm(total=target, desc=f"job {job_id}", unit="instr", file=sys.stderr)


def _show_progress(bar: tqdm, job: dict[str, Any]) -> None:
    """One renderer for both paths: the fields of ``JobPublic``, as the events stream sends them."""
    bar.update(job["accepted"] - bar.n)
    bar.set_postfix(generated=job["generated"], requests=job["requests"], status=job["status"])


def _generate_here(settings: Settings, dataset: str, body: JobCreate) -> dict[str, Any]:
    from sqlmodel import Session

    from app.cli.runtime import command_services, load_model
    from app.core.logging import configure_logging
    from app.datasets import service as datasets_service
    from app.jobs.service import create_job, job_public
    from app.models import stored_id
    from app.strategies.context import build_strategy
    from generators.strategies import StrategyError

    configure_logging("WARNING")
    with command_services(settings, model=True, ensure_default=True) as services:
        typer.echo(f"loading {settings.backend} backend …", err=True)
        load_model(services)
        with Session(services.engine, expire_on_commit=False) as session:
            ds = datasets_service.get_dataset(session, dataset)
            registry, model = services.require_pools().registry, services.require_backend().backend
            try:
                build_strategy(session, registry, model, settings, ds, body.strategy, body.strategy_settings)
            except StrategyError as exc:
                raise fail(str(exc)) from None
            job = create_job(session, ds, body, settings)
        jobs = services.require_jobs()
        with _progress_bar(stored_id(job), body.target) as bar:
            jobs.start(threads=0, scheduler=False)
            finished = jobs.started_worker().run_one(
                stored_id(job), on_progress=lambda j: _show_progress(bar, job_public(j, dataset).model_dump())
            )
        if finished is None:
            raise fail(f"job {job.id} stopped with an internal error; see the log", 1)
        return job_public(finished, dataset).model_dump()


def _generate_on_server(server: str, dataset: str, body: JobCreate) -> dict[str, Any]:
    import httpx

    try:
        with httpx.Client(base_url=server.rstrip("/"), timeout=httpx.Timeout(30.0, read=None)) as client:
            response = client.post(f"/v1/datasets/{dataset}/jobs", json=body.model_dump(exclude_none=True))
            if response.status_code != 202:
                raise fail(_error_message(response))
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
        raise fail(f"cannot talk to {server}: {type(exc).__name__}: {exc}") from None


def _error_message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def server_sent_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` pairs of a text/event-stream (comments and pings skipped)."""
    event = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
