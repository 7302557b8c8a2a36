"""Stopping a job worker: a job whose thread does not stop within the grace gets its lease handed back
(``queued``, no owner), so another worker resumes it at once; the thread can write nothing more."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.jobs.leases import LeaseLost, fence
from app.jobs.worker import JobWorker
from app.models import Dataset, Job

pytestmark = pytest.mark.both_databases


class StuckRunner:
    """Holds its job, ignoring the stop request, until ``release`` is set; then tries to write."""

    def __init__(self, engine, started: threading.Event, release: threading.Event, outcome: list) -> None:
        self.engine, self.started, self.release, self.outcome = engine, started, release, outcome

    def run(self, lease, on_progress=None):
        self.started.set()
        self.release.wait(10)
        with Session(self.engine) as session:
            try:
                fence(session, lease, 30)
                self.outcome.append("wrote")
            except LeaseLost:
                self.outcome.append("fenced off")
            job = session.get(Job, lease.job_id)
            session.expunge(job)
        return job


def test_a_stuck_job_thread_has_its_lease_handed_back_at_stop(settings, caplog):
    engine = make_engine(settings.database_url)
    create_tables(engine)
    with Session(engine) as session:
        dataset = Dataset(name="d")
        session.add(dataset)
        session.flush()
        session.add(Job(dataset_id=dataset.id, target=1, max_requests=5))
        session.commit()
    started, release, outcome = threading.Event(), threading.Event(), []
    worker = JobWorker(
        lambda: StuckRunner(engine, started, release, outcome),
        engine,
        threads=1,
        poll_s=0.05,
        ready=lambda: True,
        lease_s=30,
        heartbeat_s=5,
    )
    worker.start()
    try:
        assert started.wait(10)
        assert worker.running_jobs() == [1]
        began = time.monotonic()
        with caplog.at_level(logging.INFO, logger="app.jobs.worker"):
            worker.stop(timeout=0.5)
        assert time.monotonic() - began < 3
        with Session(engine) as session:
            job = session.get(Job, 1)
            assert (job.status, job.lease_owner, job.lease_expires_at) == ("queued", None, None)
        assert "waiting up to 0.5s for 1 job thread(s): job 1" in caplog.text
        assert "job 1: its thread did not stop within 0.5s; lease handed back" in caplog.text
    finally:
        release.set()
        for thread in worker._threads:
            thread.join(10)
        engine.dispose()
    assert outcome == ["fenced off"]  # the stuck thread, once it moves, can write nothing
