"""Schedules: a cron expression in a time zone that enqueues one generation job per tick.

Every process that runs job workers also runs :class:`ScheduleLoop`. However many run, each tick
enqueues exactly one job: the job row carries ``(schedule_id, fire_time)`` under a unique index, and the
schedule's ``next_fire_at`` only moves forward by compare-and-set in the same transaction, so a second
scheduler firing the same tick rolls back.

Ticks missed while no scheduler ran (everything down, or the schedule paused) are not replayed one by
one: the first pass after that enqueues a single job for the latest missed tick, then the schedule
continues with the next tick after now. Resuming a paused schedule starts from the next tick after now.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.errors import InvalidInput, get_or_not_found
from app.core.settings import Settings
from app.core.supervision import Supervisor, run_supervised
from app.jobs.cron import as_utc, latest_fire_at_or_before, next_fire_after
from app.jobs.service import new_job
from app.models import Dataset, Job, Schedule, ScheduleCreate, SchedulePublic, id_col, utcnow

logger = logging.getLogger(__name__)


def create_schedule(session: Session, data: ScheduleCreate) -> Schedule:
    dataset = session.exec(select(Dataset).where(Dataset.name == data.dataset)).first()
    if dataset is None:
        raise InvalidInput(f"dataset {data.dataset!r} does not exist", [{"field": "dataset"}])
    schedule = Schedule.model_validate(
        data.model_dump(exclude={"dataset"}),
        update={
            "dataset_id": dataset.id,
            "next_fire_at": next_fire_after(data.cron, data.timezone, utcnow()),
        },
    )
    session.add(schedule)
    session.commit()
    return schedule


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    return get_or_not_found(session, Schedule, schedule_id, "schedule")


def set_paused(session: Session, schedule: Schedule, paused: bool) -> Schedule:
    """Pause, or resume from the next tick after now (ticks that passed while paused are skipped)."""
    schedule.paused = paused
    if not paused:
        schedule.next_fire_at = next_fire_after(schedule.cron, schedule.timezone, utcnow())
    session.add(schedule)
    session.commit()
    return schedule


def delete_schedule(session: Session, schedule: Schedule) -> None:
    """Delete the schedule; the jobs it enqueued stay, no longer linked to it."""
    session.exec(update(Job).where(col(Job.schedule_id) == schedule.id).values(schedule_id=None))
    session.delete(schedule)
    session.commit()


def schedule_public(session: Session, schedule: Schedule) -> SchedulePublic:
    name = get_or_not_found(session, Dataset, schedule.dataset_id, "dataset").name
    return SchedulePublic.model_validate(schedule, update={"dataset": name})


def fire_due(engine: Engine, settings: Settings, now: datetime | None = None) -> list[int]:
    """Enqueue the job of every schedule due at ``now``; returns the ids of the jobs this call created."""
    now = now or utcnow()
    with Session(engine) as session:
        due = session.exec(
            select(id_col(Schedule.id)).where(
                col(Schedule.paused).is_(False), col(Schedule.next_fire_at) <= now
            )
        ).all()
    created = [_fire(engine, settings, schedule_id, now) for schedule_id in due]
    return [job_id for job_id in created if job_id is not None]


def _fire(engine: Engine, settings: Settings, schedule_id: int, now: datetime) -> int | None:
    with Session(engine, expire_on_commit=False) as session:
        schedule = session.get(Schedule, schedule_id)
        if schedule is None or schedule.paused or schedule.next_fire_at is None:
            return None
        if as_utc(schedule.next_fire_at) > now:
            return None
        fire_time = latest_fire_at_or_before(schedule.cron, schedule.timezone, now)
        job = new_job(
            settings,
            schedule.dataset_id,
            schedule.target,
            schedule.max_requests,
            seed=schedule.seed,
            schedule_id=schedule.id,
            fire_time=fire_time,
        )
        try:
            session.add(job)
            session.flush()
            advanced = session.exec(
                update(Schedule)
                .where(col(Schedule.id) == schedule.id, col(Schedule.next_fire_at) == schedule.next_fire_at)
                .values(
                    next_fire_at=next_fire_after(schedule.cron, schedule.timezone, now),
                    last_fire_at=fire_time,
                )
            )
            if advanced.rowcount != 1:
                session.rollback()
                return None
            session.commit()
        except IntegrityError:  # another scheduler enqueued this tick first
            session.rollback()
            return None
    logger.info("schedule %s: enqueued job %s for tick %s", schedule_id, job.id, fire_time.isoformat())
    return job.id


class ScheduleLoop:
    """A thread that calls :func:`fire_due` every ``scheduler_poll_s``."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        on_enqueued: Callable[[], None],
        supervisor: Supervisor | None = None,
    ) -> None:
        self._health = (supervisor or Supervisor()).loop("scheduler")
        self._engine = engine
        self._settings = settings
        self._on_enqueued = on_enqueued
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        run_supervised(self._health, self._stop, self._pass)  # a database hiccup must not end the loop

    def _pass(self) -> None:
        if fire_due(self._engine, self._settings):
            self._on_enqueued()
        self._stop.wait(self._settings.scheduler_poll_s)
