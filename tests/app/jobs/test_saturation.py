"""The novelty curve counted by the database equals the share accepted per window counted by hand."""

from __future__ import annotations

import random

import pytest
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.jobs.saturation import extend_curve, novelty_curve, shares
from app.models import Dataset, Instruction

pytestmark = pytest.mark.both_databases


def by_hand(flags: list[bool], window: int) -> list[float]:
    chunks = [flags[start : start + window] for start in range(0, len(flags), window)]
    return [round(sum(chunk) / len(chunk), 4) for chunk in chunks]


def test_the_curve_is_the_share_accepted_per_window_in_arrival_order(database_url):
    engine = make_engine(database_url)
    create_tables(engine)
    rng = random.Random(7)
    flags = [rng.random() < 0.6 - i / 250 for i in range(123)]
    with Session(engine) as session:
        dataset = Dataset(name="curve")
        other = Dataset(name="other")
        session.add_all([dataset, other])
        session.flush()
        session.add(Instruction(dataset_id=dataset.id, origin="seed", instruction="seed", accepted=True))
        for i, accepted in enumerate(flags):
            session.add(
                Instruction(dataset_id=dataset.id, origin="generated", instruction=f"t{i}", accepted=accepted)
            )
            session.add(
                Instruction(dataset_id=other.id, origin="generated", instruction=f"o{i}", accepted=True)
            )
        session.commit()
        for window in (1, 20, 50, 123, 500):
            assert novelty_curve(session, dataset_id=dataset.id, window=window) == by_hand(flags, window)
        assert novelty_curve(session, dataset_id=other.id, window=50) == [1.0, 1.0, 1.0]
        assert novelty_curve(session, job_id=12345, window=10) == []
    engine.dispose()


def test_a_curve_extended_by_later_decisions_is_the_curve_of_all_of_them():
    rng = random.Random(3)
    flags = [rng.random() < 0.4 for _ in range(137)]
    for window in (1, 7, 50):
        for cut in (0, 1, 6, 7, 50, 136, 137):
            counts = extend_curve(extend_curve([], flags[:cut], window), flags[cut:], window)
            assert shares(counts) == by_hand(flags, window)
            assert sum(total for _, total in counts) == len(flags)
