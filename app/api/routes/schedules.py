"""Schedules: create, list, read, pause, resume, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import col, func, select

from app.api.deps import SessionDep
from app.api.pagination import CursorParam, IdPath, LimitParam, decode_cursor, set_next_cursor
from app.jobs import schedules as service
from app.models import Dataset, Schedule, ScheduleCreate, SchedulePublic, stored_id

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SchedulePublic)
def create_schedule(data: ScheduleCreate, session: SessionDep, response: Response) -> SchedulePublic:
    """Enqueue a job of ``target`` instructions into ``dataset`` at every tick of ``cron``."""
    schedule = service.create_schedule(session, data)
    response.headers["Location"] = f"/v1/schedules/{schedule.id}"
    return service.schedule_public(session, schedule)


@router.get("", response_model=list[SchedulePublic])
def list_schedules(
    session: SessionDep,
    response: Response,
    dataset: Annotated[str | None, Query(max_length=64)] = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> list[SchedulePublic]:
    """Schedules in id order, optionally of one dataset; more in ``X-Next-Cursor``."""
    query = select(Schedule).join(Dataset).order_by(col(Schedule.id)).limit(limit + 1)
    if dataset is not None:
        query = query.where(func.lower(Dataset.name) == dataset.lower())
    if cursor is not None:
        query = query.where(col(Schedule.id) > decode_cursor(cursor))
    rows = session.exec(query).all()
    set_next_cursor(response, [stored_id(s) for s in rows], limit)
    return [service.schedule_public(session, s) for s in rows[:limit]]


@router.get("/{schedule_id}", response_model=SchedulePublic)
def read_schedule(schedule_id: IdPath, session: SessionDep) -> SchedulePublic:
    """One schedule with its next and last tick."""
    return service.schedule_public(session, service.get_schedule(session, schedule_id))


@router.post("/{schedule_id}/pause", response_model=SchedulePublic)
def pause_schedule(schedule_id: IdPath, session: SessionDep) -> SchedulePublic:
    """Stop enqueuing jobs until resumed."""
    schedule = service.set_paused(session, service.get_schedule(session, schedule_id), True)
    return service.schedule_public(session, schedule)


@router.post("/{schedule_id}/resume", response_model=SchedulePublic)
def resume_schedule(schedule_id: IdPath, session: SessionDep) -> SchedulePublic:
    """Enqueue again, from the next tick after now."""
    schedule = service.set_paused(session, service.get_schedule(session, schedule_id), False)
    return service.schedule_public(session, schedule)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(schedule_id: IdPath, session: SessionDep) -> Response:
    """Delete the schedule; jobs it enqueued stay."""
    service.delete_schedule(session, service.get_schedule(session, schedule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
