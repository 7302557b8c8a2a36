"""Our own queue is bounded: a new job is refused with 429 while ``SI_MAX_QUEUED_JOBS`` jobs wait.

The count and the insert are not one transaction, so concurrent submissions can overshoot the bound by
their number; the bound is there to keep the queue from growing without limit, not to be exact.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from app.core.errors import QueueFull
from app.core.settings import Settings
from app.models import Job


def ensure_queue_has_room(session: Session, settings: Settings) -> None:
    queued = session.exec(select(func.count()).select_from(Job).where(Job.status == "queued")).one()
    if queued >= settings.max_queued_jobs:
        raise QueueFull(
            f"the job queue is full ({queued} queued, limit {settings.max_queued_jobs}); retry later",
            {"queued": queued, "limit": settings.max_queued_jobs},
        )
