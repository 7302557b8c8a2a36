"""Stats kept and brought forward (app/datasets/kept_stats.py) equal the stats counted afresh, after every
kind of change: new candidates (some past the diversity windows), seeds, instances, a replay's rewritten
decisions, a vector back-filled, another curve window, and (PostgreSQL) a row committed under an id
below the mark."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy import insert, update
from sqlmodel import Session, col, func, select

from app.core.db import create_tables, make_engine
from app.datasets import telemetry
from app.datasets.kept_stats import KeptStats
from app.datasets.score_stats import BINS
from app.datasets.stats import dataset_stats
from app.datasets.stats_cache import dataset_version
from app.models import Dataset, Instruction, Job, TaskInstance
from tests.support.stats import rounded

pytestmark = pytest.mark.both_databases

WORDS = [
    "explain",
    "write",
    "list",
    "compare",
    "the",
    "a",
    "of",
    "tides",
    "budget",
    "haiku",
    "sorting",
    "water",
    "cycle",
    "poem",
]


def candidate(rng: random.Random, dataset_id: int, job_id: int, origin: str = "generated") -> dict:
    accepted = rng.random() < 0.4
    vector = np.random.default_rng(rng.randrange(10**6)).standard_normal(8).astype(np.float32)
    vector /= np.linalg.norm(vector)
    return {
        "dataset_id": dataset_id,
        "origin": origin,
        "instruction": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 9))),
        "accepted": accepted,
        "rule": None if accepted else rng.choice(["rouge_l", "embedding", "statement", None]),
        "job_id": rng.choice([job_id, None]),
        "strategy": rng.choice(["self_instruct", "evol", None]),
        "recipe": rng.choice([None, "example_choice=diverse", "operation=deepen"]),
        "embedding": vector.tobytes() if accepted and rng.random() < 0.8 else None,
        **{
            name: rng.choice([None, low - 0.5, low, high, round(rng.uniform(low, high), 3)])
            for name, (low, high, _) in BINS.items()
        },
    }


def instance(rng: random.Random, dataset_id: int, instruction_id: int) -> dict:
    return {
        "dataset_id": dataset_id,
        "instruction_id": instruction_id,
        "origin": "generated",
        "input": "",
        "output": "o",
        "accepted": rng.random() < 0.7,
        "rule": rng.choice([None, "duplicate_instance"]),
        "judge_score": rng.choice([None, 1.0, 3.5, 5.0]),
        "judge_expected": rng.choice([None, 2.25, 4.0]),
    }


def test_kept_stats_equal_the_stats_counted_afresh(database_url, monkeypatch):
    monkeypatch.setattr(telemetry, "MAX_ROWS", 40)  # the diversity windows fill and slide
    monkeypatch.setattr(telemetry, "NN_QUERIES", 15)
    engine = make_engine(database_url)
    create_tables(engine)
    rng = random.Random(5)
    with Session(engine) as session:
        dataset, other = Dataset(name="kept"), Dataset(name="other")
        session.add_all([dataset, other])
        session.flush()
        job = Job(dataset_id=dataset.id, target=1, max_requests=1)
        session.add(job)
        session.commit()
        dataset_id, other_id, job_id = int(dataset.id or 0), int(other.id or 0), int(job.id or 0)
    kept = KeptStats()

    def add(rows: int, seeds: int = 0, instances: int = 0) -> None:
        with engine.begin() as connection:
            batch = [candidate(rng, dataset_id, job_id) for _ in range(rows)]
            batch += [candidate(rng, dataset_id, job_id, "seed") for _ in range(seeds)]
            batch += [candidate(rng, other_id, job_id) for _ in range(3)]  # another dataset's rows between
            connection.execute(insert(Instruction), batch)
            if instances:
                first = connection.execute(
                    Instruction.__table__.select().where(col(Instruction.dataset_id) == dataset_id).limit(1)
                ).first()
                connection.execute(
                    insert(TaskInstance), [instance(rng, dataset_id, first.id) for _ in range(instances)]
                )

    def check(window: int = 50) -> None:
        with Session(engine) as session:
            dataset = session.get(Dataset, dataset_id)
            assert dataset is not None
            ours = dataset_stats(session, dataset, window, False, kept)
            afresh = dataset_stats(session, dataset, window, False)
        assert rounded(ours) == rounded(afresh)
        with Session(engine) as session:
            rows = session.exec(select(func.count()).where(col(Instruction.dataset_id) == dataset_id)).one()
        assert ours["accepted_count"] + ours["rejected_count"] + ours["seed_count"] == rows

    check()  # an empty dataset
    add(30, seeds=3, instances=4)
    check()
    for rows in (1, 7, 25, 60):  # past the diversity windows (40 rows) and the curve's windows
        add(rows, instances=rows % 3)
        check()
    check()
    assert (kept.misses, kept.advances, kept.hits) == (1, 5, 1)
    check(window=7)  # another window: its curve counted at the same marks, then brought forward too
    add(11)
    check(window=7)
    check(window=50)

    with Session(engine) as session:  # a vector back-filled for a row in the window
        newest = session.exec(
            Instruction.__table__.select()
            .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted))
            .where(col(Instruction.embedding).is_(None), col(Instruction.origin) != "seed")
            .order_by(col(Instruction.id).desc())
        ).first()
        assert newest is not None
        vector = np.full(8, 8**-0.5, dtype=np.float32)
        session.exec(
            update(Instruction).where(col(Instruction.id) == newest.id).values(embedding=vector.tobytes())
        )
        session.commit()
    check()

    with Session(engine) as session:  # a replay rewrites decisions and bumps decisions_version
        session.exec(
            update(Instruction)
            .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.origin) != "seed")
            .values(accepted=False, rule="rouge_l")
        )
        stored = session.get(Dataset, dataset_id)
        assert stored is not None
        stored.decisions_version += 1
        session.add(stored)
        session.commit()
    misses = kept.misses
    check()
    assert kept.misses == misses + 1
    engine.dispose()


def test_a_row_committed_below_the_mark_is_counted(database_url):
    """PostgreSQL draws ids before commit, so a row can appear under an id below the newest counted; the
    rows up to the mark then no longer number what was counted, and the stats are counted afresh."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: its ids become visible in order")
    engine = make_engine(database_url)
    create_tables(engine)
    rng = random.Random(9)
    with Session(engine) as session:
        dataset = Dataset(name="late")
        session.add(dataset)
        session.flush()
        job = Job(dataset_id=dataset.id, target=1, max_requests=1)
        session.add(job)
        session.commit()
        dataset_id, job_id = int(dataset.id or 0), int(job.id or 0)
    with engine.begin() as connection:
        connection.execute(insert(Instruction), [candidate(rng, dataset_id, job_id) for _ in range(20)])
    late = candidate(rng, dataset_id, job_id)
    with engine.begin() as connection:  # the id the slow transaction drew, before the others
        late_id = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('instruction', 'id'))"
        ).scalar()
        connection.execute(insert(Instruction), [candidate(rng, dataset_id, job_id) for _ in range(5)])
    kept = KeptStats()
    with Session(engine) as session:
        stored = session.get(Dataset, dataset_id)
        assert stored is not None
        before = kept.stats(session, dataset_id, dataset_version(session, stored), 50)
    with engine.begin() as connection:
        connection.execute(insert(Instruction), [{**late, "id": late_id, "accepted": True}])
    with Session(engine) as session:
        stored = session.get(Dataset, dataset_id)
        assert stored is not None
        after = kept.stats(session, dataset_id, dataset_version(session, stored), 50)
        afresh = dataset_stats(session, stored, 50, False)
    assert after["accepted_count"] == before["accepted_count"] + 1
    assert rounded(after) == rounded(afresh)
    engine.dispose()
