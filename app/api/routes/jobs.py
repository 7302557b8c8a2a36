"""Generation jobs: start (202 + Location), poll, list, cancel."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Response, status
from sqlmodel import col, func, select
from sse_starlette.sse import EventSourceResponse

from app.api.admission import admitted
from app.api.deps import DatasetDep, EngineDep, JobsDep, SessionDep, SettingsDep, StatsCacheDep
from app.api.openapi import error_responses
from app.api.pagination import CursorParam, IdPath, LimitParam, decode_cursor, set_next_cursor
from app.core.errors import InvalidInput, get_or_not_found
from app.datasets.stats_cache import job_version
from app.jobs import service
from app.jobs.backpressure import ensure_queue_has_room
from app.jobs.timeline import DEFAULT_TIMELINE_WINDOW, job_timeline
from app.models import (
    JOB_STATES,
    Dataset,
    Generation,
    GenerationPublic,
    Job,
    JobCreate,
    JobPublic,
    JobTimeline,
    stored_id,
)
from app.pipeline.ledger import generations_public
from app.strategies.context import build_strategy
from generators.strategies import StrategyError

router = APIRouter(tags=["jobs"])


@router.post(
    "/v1/datasets/{name}/jobs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses=error_responses(409, 429, 503),
    dependencies=[Depends(admitted("jobs"))],
)
def start_job(
    data: JobCreate,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    response: Response,
) -> JobPublic:
    """Queue a job that generates until ``target`` instructions are accepted (429 when the queue is full)."""
    ensure_queue_has_room(session, settings)
    try:  # a strategy its settings or the dataset cannot serve is refused now, nothing stored
        build_strategy(
            session,
            jobs.registry,
            jobs.backend.backend,
            settings,
            dataset,
            data.strategy,
            data.strategy_settings,
        )
    except StrategyError as exc:
        raise InvalidInput(str(exc)) from None
    job = service.create_job(session, dataset, data, settings)
    jobs.notify_new_job()
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return service.job_public(job, dataset.name)


@router.get("/v1/jobs", response_model=list[JobPublic])
def list_jobs(
    session: SessionDep,
    response: Response,
    dataset: Annotated[str | None, Query(max_length=64)] = None,
    state: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: CursorParam = None,
) -> list[JobPublic]:
    """Jobs, newest first, optionally of one dataset or in one state; more in ``X-Next-Cursor``."""
    if state is not None and state not in JOB_STATES:
        raise InvalidInput(f"unknown state {state!r}; states: {', '.join(JOB_STATES)}")
    query = select(Job, Dataset.name).join(Dataset).order_by(col(Job.id).desc()).limit(limit + 1)
    if dataset is not None:
        query = query.where(func.lower(Dataset.name) == dataset.lower())
    if state is not None:
        query = query.where(Job.status == state)
    if cursor is not None:
        query = query.where(col(Job.id) < decode_cursor(cursor))
    rows = session.exec(query).all()
    set_next_cursor(response, [stored_id(job) for job, _ in rows], limit)
    return [service.job_public(job, name) for job, name in rows[:limit]]


@router.get("/v1/jobs/{job_id}", response_model=JobPublic)
def read_job(job_id: IdPath, session: SessionDep) -> JobPublic:
    """A job's state, progress and counts per decision reason."""
    return service.read_job_public(session, job_id)


@router.get("/v1/jobs/{job_id}/timeline", response_model=JobTimeline)
def read_job_timeline(
    job_id: IdPath,
    session: SessionDep,
    stats_cache: StatsCacheDep,
    window: Annotated[int, Query(ge=1, le=100000)] = DEFAULT_TIMELINE_WINDOW,
) -> JobTimeline:
    """Decided, accepted and rejected per rule in each window of ``window`` candidates, in decision order."""
    job = service.get_job(session, job_id)
    kept = stats_cache.get(
        ("timeline", job_id, window),
        job_version(session, job),
        lambda: {"windows": job_timeline(session, job_id, window)},
    )
    return JobTimeline(job=job_id, window=window, windows=kept["windows"])


@router.get("/v1/jobs/{job_id}/events", response_class=EventSourceResponse)
def job_events(
    job_id: IdPath, session: SessionDep, engine: EngineDep, settings: SettingsDep
) -> EventSourceResponse:
    """Progress as server-sent events (``progress`` on each change, then ``end``) until the job ends or
    the service stops."""
    service.get_job(session, job_id)
    shutdown = anyio.Event()  # set by sse-starlette on SIGINT/SIGTERM: the stream sends ``end`` and closes
    return EventSourceResponse(
        service.job_progress(engine, job_id, settings.events_poll_s, shutdown),
        ping=15,
        shutdown_event=shutdown,
        shutdown_grace_period=min(1.0, settings.shutdown_grace_s / 2),
    )


@router.post(
    "/v1/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses=error_responses(409),
)
def cancel_job(job_id: IdPath, session: SessionDep) -> JobPublic:
    """Ask a queued or running job to stop; it keeps what it has stored."""
    job = service.cancel_job(session, service.get_job(session, job_id))
    return service.job_public(job, get_or_not_found(session, Dataset, job.dataset_id, "dataset").name)


@router.get("/v1/jobs/{job_id}/generations", response_model=list[GenerationPublic])
def job_generations(
    job_id: IdPath,
    session: SessionDep,
    response: Response,
    limit: LimitParam = 500,
    cursor: CursorParam = None,
) -> list[GenerationPublic]:
    """The job's generation ledger in order (prompt, parameters, raw completion, tokens, timings);
    more in ``X-Next-Cursor``."""
    service.get_job(session, job_id)
    query = select(Generation).where(col(Generation.job_id) == job_id)
    if cursor is not None:
        query = query.where(col(Generation.id) > decode_cursor(cursor))
    rows = list(session.exec(query.order_by(col(Generation.id)).limit(limit + 1)))
    set_next_cursor(response, [stored_id(row) for row in rows], limit)
    return generations_public(session, rows[:limit])
