from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.core.db import create_tables, make_engine
from app.jobs.schedules import fire_due
from app.models import Dataset, Job, Schedule

TICKS = 30


@pytest.mark.both_databases
def test_two_schedulers_racing_on_every_tick_enqueue_exactly_one_job_per_tick(settings):
    first = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    engines = [make_engine(settings.database_url) for _ in range(2)]  # two processes' connection pools
    create_tables(engines[0])
    with Session(engines[0]) as session:
        dataset = Dataset(name="d")
        session.add(dataset)
        session.flush()
        session.add(Schedule(dataset_id=dataset.id, cron="* * * * *", target=1, next_fire_at=first))
        session.commit()
    barrier = threading.Barrier(2)
    created: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def scheduler(index: int) -> None:
        try:
            for tick in range(TICKS):
                barrier.wait(timeout=60)
                created[index] += fire_due(
                    engines[index], settings, first + timedelta(minutes=tick, seconds=1)
                )
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    with Session(engines[0]) as session:
        jobs = session.exec(select(Job)).all()
    per_tick = Counter(job.fire_time.astimezone(UTC) for job in jobs)
    assert per_tick == Counter(first + timedelta(minutes=t) for t in range(TICKS))
    assert sorted(created[0] + created[1]) == sorted(job.id for job in jobs)
    for engine in engines:
        engine.dispose()
