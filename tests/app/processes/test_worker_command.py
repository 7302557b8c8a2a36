"""``python -m app.cli worker`` as a user runs it: it picks up a queued job and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from app.core.settings import Settings
from app.datasets.service import get_dataset
from app.jobs.service import create_job
from app.models import Job, JobCreate
from app.services import build_services
from generators.backends.fake import FakeBackend
from tests.app.processes.test_worker_processes import PROJECT_ROOT
from tests.support.processes import wait_until


def test_the_worker_command_runs_queued_jobs_and_stops_on_sigterm(tmp_path: Path, real_embedder):
    url = f"sqlite:///{tmp_path}/shared.db"
    settings = Settings(database_url=url, backend="fake", _env_file=None)
    services = build_services(settings, real_embedder, FakeBackend(), ensure_default=True)
    engine = services.engine
    with Session(engine, expire_on_commit=False) as session:
        job = create_job(session, get_dataset(session, "default"), JobCreate(target=5), settings)
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--backend", "fake", "--database-url", url],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "SI_WORKER_POLL_S": "0.2", "SI_INDEX_DIR": str(tmp_path)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:

        def finished() -> Job | None:
            with Session(engine) as session:
                found = session.get(Job, job.id)
            return found if found.status != "queued" and found.status != "running" else None

        done = wait_until(lambda: finished() or process.poll() is not None, 180, "the job to finish")
        assert process.poll() is None, log.read_text()
        assert done.status == "succeeded" and done.accepted == 5 and done.attempts == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
        assert "ready" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
        services.stop()
