"""A replay applied by one process: another process's pool reloads before its next decision."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import add_seeds, create_dataset, get_dataset
from app.models import DatasetCreate, Instruction, ReplayRequest
from app.pipeline.acceptor import CandidateIn, decide_and_store
from app.pipeline.pools import PoolRegistry
from app.review import replays
from generators.tasks import Instance, Task
from tests.app.api.test_replays import C1, C2, C3, SEEDS

pytestmark = pytest.mark.both_databases


def test_a_replay_elsewhere_reloads_this_process_pool(database_url, embedder):
    engine = make_engine(database_url)
    create_tables(engine)
    settings = Settings(database_url=database_url, _env_file=None)
    here, elsewhere = PoolRegistry(engine, embedder, None), PoolRegistry(engine, embedder, None)
    with Session(engine, expire_on_commit=False) as session:
        dataset = create_dataset(session, DatasetCreate(name="two"), settings)
        session.commit()
        add_seeds(session, here, dataset, [Task(s, (Instance("", "x"),)) for s in SEEDS])
        outcomes = decide_and_store(
            session, here, here.get(dataset), [CandidateIn(t, "submitted") for t in (C1, C2, C3)]
        )
        assert [o.decision.rule for o in outcomes] == [None, None, "rouge_l"]
        session.exec(
            update(Instruction).where(col(Instruction.id) == outcomes[0].row.id).values(judge_score=1.0)
        )
        session.commit()
        stale = elsewhere.get(get_dataset(session, "two"))  # built before the replay
        assert C1 in stale.novelty.texts.values()

        replays.apply(session, here, get_dataset(session, "two"), ReplayRequest(judge_threshold=3.0))
        assert C1 in stale.novelty.texts.values()  # not reloaded until it is used to decide
        again = decide_and_store(session, elsewhere, stale, [CandidateIn(C1 + " Be brief.", "submitted")])
        assert set(stale.novelty.texts.values()) >= {C2, C3} and C1 not in stale.novelty.texts.values()
        assert stale.chain.stages[0].id == here.get(dataset).chain.stages[0].id
        assert stale.decisions_version == 1
        # decided against C3, the near-copy the replay accepted (not against C1, which it rejected)
        assert again[0].decision.rouge_neighbor_id == outcomes[2].row.id
        rows = session.exec(select(Instruction).where(Instruction.origin == "submitted")).all()
        assert len(rows) == 4
    engine.dispose()
