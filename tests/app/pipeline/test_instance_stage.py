"""The instance stage inside a job: it stops between tasks and resumes where it stopped."""

from __future__ import annotations

import threading
from collections import Counter

from sqlmodel import Session, select

from app.datasets.service import get_dataset
from app.jobs.leases import claim
from app.jobs.service import create_job
from app.models import Instruction, JobCreate, TaskInstance
from app.pipeline.instance_stage import pending_tasks
from app.services import build_services
from generators.backends.fake import FakeBackend


def test_a_stopped_job_resumes_the_instance_stage_without_repeating_a_task(settings, embedder) -> None:
    services = build_services(settings, embedder, FakeBackend(), ensure_default=True)
    try:
        with Session(services.engine, expire_on_commit=False) as session:
            dataset = get_dataset(session, "default")
            job = create_job(session, dataset, JobCreate(target=6, seed=2, instances_per_task=3), settings)
        stop = threading.Event()
        seen: list[int] = []

        def stop_after_two_tasks(j) -> None:  # type: ignore[no-untyped-def]
            seen.append(sum(j.counts.classification.values()))
            if seen[-1] >= 2:
                stop.set()

        paused = services.jobs.runner(stop).run(
            claim(services.engine, "test-worker", 30, job.id), on_progress=stop_after_two_tasks
        )
        assert paused.status == "queued" and paused.accepted == 6
        with Session(services.engine) as session:
            assert len(pending_tasks(session, dataset.id, job.id)) == 4

        done = services.jobs.runner(threading.Event()).run(claim(services.engine, "test-worker", 30, job.id))
        assert done.status == "succeeded"
        with Session(services.engine) as session:
            assert pending_tasks(session, dataset.id, job.id) == []
            tasks = session.exec(select(Instruction).where(Instruction.job_id == job.id)).all()
            accepted = [t for t in tasks if t.accepted]
            assert len(accepted) == 6 and all(t.is_classification is not None for t in accepted)
            rows = session.exec(select(TaskInstance).where(TaskInstance.job_id == job.id)).all()
            per_task = Counter(r.instruction_id for r in rows)
            assert per_task == {t.id: 3 for t in accepted}  # every task once, none twice
        classified = sum(done.counts.classification.values())
        assert classified == 6  # each task classified once across the two runs
    finally:
        services.stop()


def test_a_backend_failure_in_the_stage_fails_the_job_and_stores_nothing_of_the_task(
    settings, embedder
) -> None:
    # call 1 proposes tasks, call 2 classifies the first task, call 3 (its instances) fails
    services = build_services(settings, embedder, FakeBackend(fail_every=3), ensure_default=True)
    try:
        with Session(services.engine, expire_on_commit=False) as session:
            dataset = get_dataset(session, "default")
            job = create_job(session, dataset, JobCreate(target=1, seed=2, instances_per_task=3), settings)
        done = services.jobs.runner(threading.Event()).run(claim(services.engine, "test-worker", 30, job.id))
        assert done.status == "failed" and done.error.startswith("instance stage: ")
        assert "fake backend failure" in done.error
        with Session(services.engine) as session:
            [task] = session.exec(
                select(Instruction).where(Instruction.job_id == job.id, Instruction.accepted)
            ).all()
            assert task.is_classification is None and task.instances is None
            assert session.exec(select(TaskInstance)).all() == []
            assert pending_tasks(session, dataset.id, job.id) == [task.id]
    finally:
        services.stop()
