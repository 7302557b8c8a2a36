"""Job leases: which worker runs a job, until when, and under which fencing token.

A worker claims a job by setting ``status='running'``, its own ``lease_owner``, ``lease_expires_at`` and
``attempts + 1`` in one conditional UPDATE (on PostgreSQL after ``SELECT … FOR UPDATE SKIP LOCKED``, so
concurrent claimers skip each other's rows instead of waiting). Claimable are queued jobs and running
jobs whose lease has expired (their worker died or lost the database). The worker renews its leases by
heartbeat and every write of the job's progress is fenced: it only commits while the job still carries
the worker's owner id and attempt number, so a worker that lost its lease can never write again.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import Job, id_col, utcnow

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The job was taken over by another worker (or finished) since this worker claimed it."""


@dataclass(frozen=True)
class Lease:
    job_id: int
    owner: str
    attempt: int


def worker_identity() -> str:
    """Host, process and a random part: unique per worker process, readable in the job row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _claimable(now: datetime) -> ColumnElement[bool]:
    expired = and_(
        col(Job.status) == "running",
        or_(col(Job.lease_expires_at).is_(None), col(Job.lease_expires_at) < now),
    )
    return or_(col(Job.status) == "queued", expired)


def claim(engine: Engine, owner: str, lease_s: float, job_id: int | None = None) -> Lease | None:
    """Claim the oldest claimable job (or ``job_id``); ``None`` when there is none."""
    now = utcnow()
    with Session(engine) as session:
        query = select(id_col(Job.id), Job.status, Job.lease_owner).where(_claimable(now))
        if job_id is not None:
            query = query.where(col(Job.id) == job_id)
        query = query.order_by(col(Job.id)).limit(1)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = session.exec(query).first()
        if row is None:
            return None
        attempt = session.exec(
            update(Job)
            .where(col(Job.id) == row[0], _claimable(now))
            .values(
                status="running",
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_s),
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
                in_flight=0,  # a worker that died left its count behind
            )
            .returning(col(Job.attempts))
        ).first()
        session.commit()
    if attempt is None:
        return None
    if row[1] == "running":
        logger.warning("job %s: lease of %s expired; taken over by %s", row[0], row[2], owner)
    return Lease(row[0], owner, attempt[0])


def fence(session: Session, lease: Lease, lease_s: float) -> None:
    """Inside the caller's transaction: renew the lease, or raise :class:`LeaseLost` if it is gone.

    On PostgreSQL the row stays locked until the caller commits, so no claimer can take the job over
    between this check and the commit of the progress it guards.
    """
    renewed = session.exec(
        update(Job).where(*_held(lease)).values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    if renewed.rowcount != 1:
        raise LeaseLost(f"job {lease.job_id}: lease of {lease.owner} (attempt {lease.attempt}) lost")


def renew(engine: Engine, leases: list[Lease], lease_s: float) -> list[Lease]:
    """Heartbeat: extend every lease still held; returns the ones that were lost."""
    lost: list[Lease] = []
    with Session(engine) as session:
        for lease in leases:
            try:
                fence(session, lease, lease_s)
            except LeaseLost:
                lost.append(lease)
        session.commit()
    return lost


def release(session: Session, lease: Lease, **values: object) -> bool:
    """End the lease with the job's new state (``queued`` to hand it back, or a terminal state); nothing is
    in flight for it any more."""
    done = session.exec(
        update(Job)
        .where(*_held(lease))
        .values(lease_owner=None, lease_expires_at=None, in_flight=0, **values)
    )
    session.commit()
    return done.rowcount == 1


def write_in_flight(session: Session, lease: Lease, count: int) -> bool:
    """Write the job's requests in flight while the lease is held (committed); False when it is not."""
    done = session.exec(update(Job).where(*_held(lease)).values(in_flight=count))
    session.commit()
    return done.rowcount == 1


def _held(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Job.id) == lease.job_id,
        col(Job.status) == "running",
        col(Job.lease_owner) == lease.owner,
        col(Job.attempts) == lease.attempt,
    )
