"""Running jobs in this process, as a service: the JobWorker threads and the ScheduleLoop.

Routes that queue a job call :meth:`JobProcessing.notify_new_job` so an idle worker claims it at once
instead of at its next poll.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from app.core.backend import BackendService
from app.core.settings import Settings
from app.core.supervision import Supervisor, supervisor_from
from app.jobs.runner import JobRunner
from app.jobs.schedules import ScheduleLoop
from app.jobs.worker import JobWorker
from app.pipeline.judge import Judge
from app.pipeline.pools import PoolRegistry


class JobProcessing:
    def __init__(
        self,
        engine: Engine,
        registry: PoolRegistry,
        settings: Settings,
        backend: BackendService,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.settings = settings
        self.backend = backend
        self.supervisor = supervisor or supervisor_from(settings)
        self.worker: JobWorker | None = None
        self.scheduler: ScheduleLoop | None = None
        self.judge = Judge.from_settings(settings, backend.dispatcher)

    def runner(self, stop_event: threading.Event | None = None) -> JobRunner:
        return JobRunner(
            self.engine,
            self.registry,
            self.settings,
            stop_event or (self.worker.stop_event if self.worker else threading.Event()),
            lease_lost=self.worker.lease_lost if self.worker else (lambda _job_id: False),
            dispatcher=self.backend.dispatcher,
            judge=self.judge,
        )

    def started_worker(self) -> JobWorker:
        """The worker :meth:`start` made (it makes none only when given no threads and SI_WORKERS is 0)."""
        if self.worker is None:
            raise RuntimeError("no job worker: start() was not called, or with no threads and SI_WORKERS=0")
        return self.worker

    def start(self, threads: int | None = None, scheduler: bool = True) -> None:
        """``threads`` job threads (default ``SI_WORKERS``; none when that is 0), then the scheduler
        unless ``SI_SCHEDULER`` is off. ``threads=0`` only makes the worker (``run_one`` and heartbeat)."""
        if threads is None:
            threads = self.settings.workers if self.settings.workers > 0 else None
        if threads is not None:
            self.worker = JobWorker(
                self.runner,
                self.engine,
                threads,
                self.settings.worker_poll_s,
                self.backend.ready.is_set,
                self.settings.job_lease_s,
                self.settings.job_heartbeat_s,
                self.supervisor,
                self.settings.job_retries_on_database_error,
            )
            self.worker.start()
        if scheduler and self.settings.scheduler:
            # enqueue the jobs of due schedules (one per tick, whatever other processes do too)
            self.scheduler = ScheduleLoop(self.engine, self.settings, self.notify_new_job, self.supervisor)
            self.scheduler.start()

    def notify_new_job(self) -> None:
        if self.worker is not None:
            self.worker.wakeup.set()

    def stop(self) -> None:
        """Stop the scheduler and the job threads within ``SI_SHUTDOWN_GRACE_S`` (app/jobs/worker.py)."""
        if self.scheduler is not None:
            self.scheduler.stop(self.settings.shutdown_grace_s)
        if self.worker is not None:
            self.worker.stop(self.settings.shutdown_grace_s)
        if self.judge is not None:
            self.judge.close()
