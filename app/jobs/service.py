"""Generation jobs as stored rows: create, read, cancel, follow (server-sent events).

Running them is app/jobs/runner.py; claiming them, app/jobs/worker.py."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sqlalchemy import case, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.errors import Conflict, get_or_not_found
from app.core.settings import Settings
from app.jobs.accounting import per_accepted
from app.jobs.request_sizing import job_warnings
from app.jobs.saturation import DEFAULT_CURVE_WINDOW, novelty_curve
from app.models import TERMINAL_STATES, Dataset, Instruction, Job, JobCreate, JobPublic, stored_id, utcnow
from generators.strategies import STRATEGIES

logger = logging.getLogger(__name__)


def request_budget(settings: Settings, target: int, max_requests: int | None) -> int:
    """A job's request budget: the one asked for, else ``SI_MAX_REQUESTS_PER_ACCEPTED`` per target."""
    return max_requests or target * settings.max_requests_per_accepted


def new_job(settings: Settings, dataset_id: int, target: int, max_requests: int | None, **fields: Any) -> Job:
    """A queued job row (not added to a session) with its request budget settled."""
    return Job(
        dataset_id=dataset_id,
        target=target,
        max_requests=request_budget(settings, target, max_requests),
        **fields,
    )


def ensure_job_can_run(session: Session, dataset: Dataset, strategy: str) -> None:
    """A job whose strategy builds its prompts from seed tasks needs one: refuse it now rather than fail
    later (an unknown strategy is refused by the strategy's own validation)."""
    known = STRATEGIES.get(strategy)
    if known is None or not known.needs_seed_tasks:
        return
    seed = session.exec(
        select(Instruction.id).where(col(Instruction.dataset_id) == dataset.id, Instruction.origin == "seed")
    ).first()
    if seed is None:
        raise Conflict(
            f"dataset {dataset.name!r} has no seed tasks, so a {strategy} job cannot build its prompts; "
            f"add seeds with POST /v1/datasets/{dataset.name}/seeds first"
        )


def create_job(session: Session, dataset: Dataset, data: JobCreate, settings: Settings) -> Job:
    ensure_job_can_run(session, dataset, data.strategy)
    job = new_job(
        settings,
        stored_id(dataset),
        data.target,
        data.max_requests,
        seed=data.seed,
        instances_per_task=data.instances_per_task,
        strategy=data.strategy,
        strategy_settings=data.strategy_settings,
        auto_stop=data.auto_stop.model_dump() if data.auto_stop is not None else None,
    )
    session.add(job)
    session.commit()
    return job


def get_job(session: Session, job_id: int) -> Job:
    return get_or_not_found(session, Job, job_id, "job")


def cancel_job(session: Session, job: Job) -> Job:
    """A queued job ends ``cancelled`` now; a running one at its worker's next step."""
    if job.status in TERMINAL_STATES:
        raise Conflict(f"job {job.id} already {job.status}")
    queued = col(Job.status) == "queued"
    session.exec(
        update(Job)
        .where(col(Job.id) == job.id, col(Job.status).in_(("queued", "running")))
        .values(
            cancel_requested=True,
            status=case((queued, "cancelled"), else_=Job.status),
            finished_at=case((queued, utcnow()), else_=Job.finished_at),
        )
    )
    session.commit()
    session.refresh(job)
    return job


def job_public(job: Job, dataset_name: str) -> JobPublic:
    update = {
        "dataset": dataset_name,
        "warnings": job_warnings(job.counts),
        "in_flight": job.in_flight if job.status == "running" else 0,  # a dead worker's count is stale
        **per_accepted(job),
    }
    return JobPublic.model_validate(job, update=update)


def read_job_public(session: Session, job_id: int) -> JobPublic:
    """One job's view, with its novelty curve."""
    job = get_job(session, job_id)
    public = job_public(job, get_or_not_found(session, Dataset, job.dataset_id, "dataset").name)
    window = int((job.auto_stop or {}).get("window", DEFAULT_CURVE_WINDOW))  # the stop rule's own window
    public.novelty_curve = novelty_curve(session, job_id=job_id, window=window)
    return public


async def job_progress(
    engine: Engine, job_id: int, poll_s: float, shutdown: anyio.Event | None = None
) -> AsyncIterator[dict[str, str]]:
    """Server-sent events of a job: ``progress`` whenever its state changes, ``end`` once terminal.

    The job is read from the database, so this follows jobs run by any process. When ``shutdown`` is set
    (the service is stopping) the stream ends at once with ``end`` carrying the job as last read, whatever
    its state: a client reconnects to follow a job that is still queued or running.
    """

    def read() -> JobPublic:
        with Session(engine) as session:
            return read_job_public(session, job_id)

    last = None
    while True:
        data = (await asyncio.to_thread(read)).model_dump_json()
        if data != last:
            yield {"event": "progress", "data": data}
            last = data
        if json.loads(data)["status"] in TERMINAL_STATES:
            yield {"event": "end", "data": data}
            return
        if shutdown is None:
            await asyncio.sleep(poll_s)
            continue
        with anyio.move_on_after(poll_s):
            await shutdown.wait()
        if shutdown.is_set():
            yield {"event": "end", "data": data}
            return
