"""Job workers: threads that claim jobs by lease (app/jobs/leases.py), run them and keep them alive.

Any number of worker processes (``selfinstruct worker``, or ``serve`` unless ``--no-worker``) may share
one database. A heartbeat thread renews the leases of the jobs this process runs every
``job_heartbeat_s``; a process that dies stops renewing, and once ``job_lease_s`` has passed another
worker claims the job and resumes it from its stored progress.

Every thread runs supervised (app/core/supervision.py): an error in ``claim`` or in the heartbeat is
logged, counted and backed off, never the end of the thread. A job whose run loses the database
(connection terminated, database restarting) keeps its lease and is resumed from its stored progress
after a back-off, up to ``SI_JOB_RETRIES_ON_DATABASE_ERROR`` times; any other crash fails the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core import logging as log_context
from app.core.supervision import LoopHealth, Supervisor, is_transient_database_error, run_supervised
from app.jobs.leases import Lease, claim, release, renew, worker_identity
from app.jobs.runner import JobRunner
from app.models import TERMINAL_STATES, Job, utcnow

logger = logging.getLogger(__name__)


class JobWorker:
    """Threads that claim queued (or abandoned) jobs from the database and run them."""

    def __init__(
        self,
        runner_factory: Callable[[], JobRunner],
        engine: Engine,
        threads: int,
        poll_s: float,
        ready: Callable[[], bool],
        lease_s: float,
        heartbeat_s: float,
        supervisor: Supervisor | None = None,
        database_retries: int = 10,
    ) -> None:
        self._runner_factory = runner_factory
        self._engine = engine
        self._poll_s = poll_s
        self._ready = ready
        self.lease_s = lease_s
        self._heartbeat_s = heartbeat_s
        self.supervisor = supervisor or Supervisor()
        self._database_retries = database_retries
        self.owner = worker_identity()
        self.stop_event = threading.Event()
        self.wakeup = threading.Event()
        self._held: dict[int, Lease] = {}
        self._lost: set[int] = set()
        self._held_lock = threading.Lock()
        self._finished = threading.Condition()
        self._finished_ids: set[int] = set()
        self._threads = [
            threading.Thread(target=self._loop, name=f"job-worker-{i}", daemon=True) for i in range(threads)
        ]
        self._heartbeat = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def start(self) -> None:
        logger.info("job worker %s: %d thread(s), lease %.1fs", self.owner, len(self._threads), self.lease_s)
        for thread in self._threads:
            thread.start()
        self._heartbeat.start()

    def running_jobs(self) -> list[int]:
        """The ids of the jobs this worker's threads run now."""
        with self._held_lock:
            return sorted(self._held)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask every thread to stop: a running job stores what came back, hands its lease back (``queued``)
        and is resumed by any worker. A job whose thread has not stopped within ``timeout`` gets its lease
        handed back here; its thread can write nothing more (every write is fenced by the lease)."""
        self.stop_event.set()
        self.wakeup.set()
        running = self.running_jobs()
        if running:
            logger.info(
                "stopping: waiting up to %.1fs for %d job thread(s): %s",
                timeout,
                len(running),
                ", ".join(f"job {job_id}" for job_id in running),
            )
        deadline = time.monotonic() + timeout
        for thread in (*self._threads, self._heartbeat):
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._held_lock:
            stuck = list(self._held.values())
        for lease in stuck:
            self._hand_back(lease, timeout)

    def _hand_back(self, lease: Lease, timeout: float) -> None:
        try:
            with Session(self._engine) as session:
                released = release(session, lease, status="queued")
        except Exception as exc:  # the database is away: the lease expires and another worker resumes it
            logger.warning("job %s: could not hand its lease back (%s)", lease.job_id, exc)
            return
        if released:
            logger.warning(
                "job %s: its thread did not stop within %.1fs; lease handed back, the job is resumed "
                "from its stored progress",
                lease.job_id,
                timeout,
            )

    def lease_lost(self, job_id: int) -> bool:
        with self._held_lock:
            return job_id in self._lost

    def _beat(self) -> None:
        health = self.supervisor.loop("job-heartbeat")
        run_supervised(health, self.stop_event, self._beat_once)

    def _beat_once(self) -> None:
        if self.stop_event.wait(self._heartbeat_s):
            return
        with self._held_lock:
            held = list(self._held.values())
        if not held:
            return
        lost = renew(self._engine, held, self.lease_s)  # an error: logged, retried after a back-off
        if lost:
            with self._held_lock:
                self._lost.update(lease.job_id for lease in lost)

    def _loop(self) -> None:
        health = self.supervisor.loop(threading.current_thread().name)
        run_supervised(health, self.stop_event, lambda: self._claim_and_run(health))

    def _claim_and_run(self, health: LoopHealth) -> None:
        lease = claim(self._engine, self.owner, self.lease_s) if self._ready() else None
        if lease is None:
            self.wakeup.wait(self._poll_s)
            self.wakeup.clear()
            return
        self._run(lease, health=health)

    def run_one(self, job_id: int, on_progress: Callable[[Job], None] | None = None) -> Job | None:
        """Claim ``job_id`` and run it in the calling thread (the CLI); ``None`` if it is not claimable."""
        lease = claim(self._engine, self.owner, self.lease_s, job_id)
        if lease is None:
            return None
        if not self._heartbeat.is_alive():
            self._heartbeat.start()
        return self._run(lease, on_progress)

    def _run(
        self,
        lease: Lease,
        on_progress: Callable[[Job], None] | None = None,
        health: LoopHealth | None = None,
    ) -> Job | None:
        with self._held_lock:
            self._held[lease.job_id] = lease
        context = log_context.job_id.set(lease.job_id)  # every line logged for the job carries its id
        try:
            for retry in range(self._database_retries + 1):
                try:
                    job = self._runner_factory().run(lease, on_progress)
                except Exception as exc:
                    if not is_transient_database_error(exc) or retry == self._database_retries:
                        raise
                    delay = (health or self.supervisor.loop("job-run")).failed(exc)
                    logger.warning(
                        "job %s: lost the database (%s); resuming from stored progress in %.1fs",
                        lease.job_id,
                        exc.__class__.__name__,
                        delay,
                    )
                    if self.stop_event.wait(delay):
                        return None  # shutting down: the lease expires and the job is resumed later
                    continue
                if job.status in TERMINAL_STATES:
                    self._mark_finished(lease.job_id)
                return job
            return None
        except Exception:
            logger.exception("job %s crashed", lease.job_id)
            self._fail(lease)
            return None
        finally:
            log_context.job_id.reset(context)
            with self._held_lock:
                self._held.pop(lease.job_id, None)
                self._lost.discard(lease.job_id)

    def _fail(self, lease: Lease) -> None:
        with Session(self._engine) as session:
            release(
                session,
                lease,
                status="failed",
                error="internal error; see the service log",
                finished_at=utcnow(),
            )
        self._mark_finished(lease.job_id)

    def _mark_finished(self, job_id: int) -> None:
        with self._finished:
            self._finished_ids.add(job_id)
            self._finished.notify_all()

    def wait_for(self, job_id: int, timeout: float) -> bool:
        """Block until ``job_id`` is finished (by this worker, another one, or cancelled)."""

        def finished() -> bool:
            if job_id in self._finished_ids:
                return True
            try:
                with Session(self._engine) as session:
                    status = session.exec(select(Job.status).where(Job.id == job_id)).first()
            except Exception as exc:  # the database is away for a moment: ask again at the next poll
                if not is_transient_database_error(exc):
                    raise
                return False
            return status in TERMINAL_STATES

        deadline = time.monotonic() + timeout
        with self._finished:
            while not finished():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._finished.wait(min(remaining, self._poll_s))
            return True
