"""Worker processes on PostgreSQL: a worker killed mid-job, two workers on one dataset, two schedulers.

Each worker is a real process (tests/app/processes/fake_worker.py: ``selfinstruct worker`` with the fake
backend slowed down). The figures (lease take-over time, run times) are printed; run with ``-s``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rouge_score import rouge_scorer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.settings import Settings
from app.datasets.service import get_dataset
from app.jobs.schedules import create_schedule, set_paused
from app.jobs.service import create_job
from app.models import Instruction, Job, JobCreate, Schedule, ScheduleCreate
from app.services import build_services
from generators.backends.fake import FakeBackend
from tests.postgres import fresh_schema
from tests.support.processes import wait_until

pytestmark = pytest.mark.postgres
PROJECT_ROOT = Path(__file__).resolve().parents[3]
LEASE_S, HEARTBEAT_S = 3.0, 1.0


class Workers:
    """Worker processes on one database, each logging to its own file."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int, delay_s: float, samples: int = 2) -> list[subprocess.Popen]:
        """Start ``count`` workers at once and wait until each says it is ready."""
        started = [self._spawn(delay_s, samples) for _ in range(count)]
        for process in started:
            log = process.log  # type: ignore[attr-defined]
            wait_until(
                lambda log=log, process=process: "ready" in log.read_text() or process.poll() is not None,
                180,
                f"{log} ready",
            )
            assert process.poll() is None, log.read_text()
        return started

    def _spawn(self, delay_s: float, samples: int) -> subprocess.Popen:
        log = self.folder / f"worker-{len(self.processes)}.log"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "SI_DATABASE_URL": self.database_url,
            "SI_JOB_LEASE_S": str(LEASE_S),
            "SI_JOB_HEARTBEAT_S": str(HEARTBEAT_S),
            "SI_WORKER_POLL_S": "0.2",
            "SI_SCHEDULER_POLL_S": "0.2",
            "SI_INDEX_DIR": str(self.folder / "indexes"),
            "SI_LOG_LEVEL": "INFO",
            "SI_SAMPLES_PER_PROMPT": str(samples),
            "FAKE_DELAY_S": str(delay_s),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.app.processes.fake_worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        process.log = log  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def prepare_database(database_url: str, embedder, folder: Path) -> Engine:  # type: ignore[no-untyped-def]
    """Migrate and create the ``default`` dataset with the shipped seeds, as ``serve`` would."""
    settings = Settings(
        database_url=database_url, backend="fake", index_dir=folder / "indexes", _env_file=None
    )
    return build_services(settings, embedder, FakeBackend(), ensure_default=True).engine


def add_job(engine: Engine, target: int) -> int:
    settings = Settings(_env_file=None)
    with Session(engine, expire_on_commit=False) as session:
        dataset = get_dataset(session, "default")
        return create_job(session, dataset, JobCreate(target=target, max_requests=50 * target), settings).id


def read_job(engine: Engine, job_id: int) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Job, job_id)


def job_rows(engine: Engine, job_id: int) -> list[Instruction]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(Instruction).where(Instruction.job_id == job_id)))


@pytest.fixture
def workers(postgres_server: str, tmp_path: Path) -> Iterator[Workers]:
    schema = fresh_schema(postgres_server)
    pool = Workers(next(schema), tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
        schema.close()


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(workers, real_embedder):
    engine = prepare_database(workers.database_url, real_embedder, workers.folder)
    target = 60
    first, second = workers.start(2, delay_s=1.0, samples=1)
    started = time.monotonic()
    job_id = add_job(engine, target)
    running = wait_until(
        lambda: (j := read_job(engine, job_id)).status == "running" and j.accepted >= 15 and j,
        120,
        "15 accepted",
    )
    owner = running.lease_owner
    victim = next(p for p in (first, second) if f":{p.pid}:" in owner)
    victim.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait()
    before = {row.id: row.origin_key for row in job_rows(engine, job_id) if row.accepted}
    wait_until(lambda: read_job(engine, job_id).attempts == 2, 60, "the job taken over", every=0.05)
    taken_over_s = time.monotonic() - killed_at
    job = wait_until(
        lambda: (j := read_job(engine, job_id)).status in ("succeeded", "failed", "cancelled") and j,
        300,
        "done",
    )
    elapsed = time.monotonic() - started
    print(
        f"\nkill test: {len(before)} accepted when killed; lease taken over {taken_over_s:.2f}s after "
        f"SIGKILL (lease {LEASE_S}s, heartbeat {HEARTBEAT_S}s); job done {elapsed:.1f}s after start"
    )

    assert job.status == "succeeded" and job.accepted == target, job.error
    rows = job_rows(engine, job_id)
    accepted = [row for row in rows if row.accepted]
    assert len(accepted) == target  # nothing lost, nothing stored twice
    assert len(rows) == job.generated and len({row.origin_key for row in rows}) == len(rows)
    assert {row.id: row.origin_key for row in accepted if row.id in before} == before
    assert len({row.instruction.lower() for row in accepted}) == target
    assert LEASE_S - HEARTBEAT_S - 0.5 <= taken_over_s <= LEASE_S + 5
    engine.dispose()


def test_two_worker_processes_share_one_dataset_and_one_schedule(workers, real_embedder):
    """Two generating jobs, and a schedule ticking every 2 s, on two processes that both run a scheduler."""
    engine = prepare_database(workers.database_url, real_embedder, workers.folder)
    workers.start(2, delay_s=0.2, samples=1)
    started = time.monotonic()
    with Session(engine, expire_on_commit=False) as session:
        schedule = create_schedule(session, ScheduleCreate(dataset="default", cron="* * * * * */2", target=1))
    jobs = [add_job(engine, 40), add_job(engine, 40)]

    def scheduled() -> list[Job]:
        with Session(engine) as session:
            return list(session.exec(select(Job).where(Job.schedule_id == schedule.id)))

    done = wait_until(
        lambda: (
            all((j := read_job(engine, i)).status == "succeeded" and j for i in jobs)
            and [read_job(engine, i) for i in jobs]
        ),
        300,
        "both jobs",
    )
    elapsed = time.monotonic() - started
    wait_until(lambda: len(scheduled()) >= 5, 60, "5 ticks")
    with Session(engine, expire_on_commit=False) as session:
        set_paused(session, session.get(Schedule, schedule.id), True)

    def all_ticks_done() -> list[Job] | None:
        found = scheduled()
        return found if all(job.status == "succeeded" for job in found) else None

    ticks = wait_until(all_ticks_done, 120, "scheduled jobs done")
    assert done[0].started_at < done[1].finished_at and done[1].started_at < done[0].finished_at  # overlap
    logs = [p.log.read_text() for p in workers.processes]
    assert all("caught up" in log for log in logs)  # each process saw the other's acceptances
    fire_times = sorted(job.fire_time for job in ticks)
    assert Counter(fire_times).most_common(1)[0][1] == 1  # exactly one job per tick
    assert all(b - a == timedelta(seconds=2) for a, b in zip(fire_times, fire_times[1:], strict=False))

    with Session(engine) as session:
        pool = session.exec(
            select(Instruction).where(col(Instruction.accepted)).order_by(col(Instruction.id))
        ).all()
    seeds = [row.instruction for row in pool if row.origin == "seed"]
    generated = [row.instruction for row in pool if row.origin == "generated"]
    assert len(generated) == 80 + len(ticks)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    worst = 0.0
    for i, text in enumerate(generated):
        for other in seeds + generated[:i]:
            worst = max(worst, scorer.score(text, other)["rougeL"].fmeasure)
    print(
        f"\ntwo workers: 80 accepted by two jobs in {elapsed:.1f}s, {len(ticks)} ticks one job each; "
        f"max ROUGE-L over all {len(generated)} accepted against each other and the seeds: {worst:.4f}"
    )
    assert worst <= 0.7
    engine.dispose()
