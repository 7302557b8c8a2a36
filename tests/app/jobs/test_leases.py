from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core.db import create_tables, make_engine
from app.jobs.leases import LeaseLost, claim, fence, release, renew
from app.models import Dataset, Instruction, Job, utcnow

pytestmark = pytest.mark.both_databases


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    create_tables(engine)
    with Session(engine) as session:
        dataset = Dataset(name="d")
        session.add(dataset)
        session.flush()
        session.add_all([Job(dataset_id=dataset.id, target=1, max_requests=5) for _ in range(2)])
        session.commit()
    yield engine
    engine.dispose()


def expire(engine, job_id: int) -> None:
    with Session(engine) as session:
        past = utcnow() - timedelta(seconds=1)
        session.exec(update(Job).where(Job.id == job_id).values(lease_expires_at=past))
        session.commit()


def test_claims_take_queued_jobs_in_order_once(engine):
    first, second = claim(engine, "a", 30), claim(engine, "b", 30)
    assert (first.job_id, first.attempt, second.job_id) == (1, 1, 2)
    assert claim(engine, "c", 30) is None
    with Session(engine) as session:
        job = session.get(Job, 1)
        assert (job.status, job.lease_owner, job.attempts) == ("running", "a", 1)
        assert job.lease_expires_at > utcnow() + timedelta(seconds=25)


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(engine):
    old = claim(engine, "a", 30)
    assert renew(engine, [old], 30) == []
    expire(engine, old.job_id)
    new = claim(engine, "b", 30, job_id=old.job_id)
    assert (new.job_id, new.attempt, new.owner) == (old.job_id, 2, "b")
    assert renew(engine, [old], 30) == [old]
    with Session(engine) as session, pytest.raises(LeaseLost):
        fence(session, old, 30)
    with Session(engine) as session:
        assert not release(session, old, status="succeeded")
        assert release(session, new, status="queued")
        job = session.get(Job, old.job_id)
        assert (job.status, job.lease_owner, job.lease_expires_at) == ("queued", None, None)


def test_a_live_lease_is_not_taken_over(engine):
    claim(engine, "a", 30, job_id=1)
    assert claim(engine, "b", 30, job_id=1) is None


def test_a_replayed_candidate_key_is_refused_by_the_database(engine):
    def store() -> None:
        with Session(engine) as session:
            session.add(
                Instruction(
                    dataset_id=1, origin="generated", origin_key="job:1:0:0:0", instruction="x", accepted=True
                )
            )
            session.commit()

    store()
    with pytest.raises(IntegrityError):
        store()
    with Session(engine) as session:
        assert len(session.exec(select(Instruction)).all()) == 1
