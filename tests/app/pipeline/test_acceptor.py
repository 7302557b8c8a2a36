"""Deciding and storing candidates: one model call, only for candidates the embedding stage can see."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import create_dataset, ensure_default_dataset, get_dataset
from app.models import DatasetCreate, Instruction
from app.pipeline.acceptor import CandidateIn, decide_and_store
from app.pipeline.pools import PoolRegistry


def test_heuristic_failures_are_never_embedded(tmp_path, embedder):
    url = f"sqlite:///{tmp_path}/acceptance.db"
    engine = make_engine(url)
    create_tables(engine)
    settings = Settings(database_url=url, _env_file=None)
    registry = PoolRegistry(engine, embedder, None)
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, settings)
        pool = registry.get(get_dataset(session, "default"))
        before = embedder.texts_embedded
        candidates = [
            CandidateIn("Plan a weekend of indoor activities for two bored teenagers.", "submitted"),
            CandidateIn("Draw a picture of your favourite animal.", "submitted"),  # needs images
            CandidateIn("Hi", "submitted"),  # too short
            CandidateIn("Write a short poem about the smell of rain on hot pavement.", "submitted"),
        ]
        outcomes = decide_and_store(session, registry, pool, candidates)
        assert embedder.texts_embedded == before + 2
    assert [o.decision.accepted for o in outcomes] == [True, False, False, True]
    assert outcomes[0].decision.max_cosine is not None and outcomes[1].decision.max_cosine is None
    with Session(engine) as session:
        rows = session.exec(select(Instruction).where(Instruction.origin == "submitted")).all()
    assert [row.embedding is not None for row in rows] == [True, False, False, True]
    engine.dispose()


def test_candidates_are_embedded_before_the_dataset_lock_is_taken(tmp_path, embedder):
    """The embedder runs while the pool's lock is free, so other acceptors decide meanwhile."""
    url = f"sqlite:///{tmp_path}/acceptance.db"
    engine = make_engine(url)
    create_tables(engine)
    registry = PoolRegistry(engine, embedder, None)
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, Settings(database_url=url, _env_file=None))
        pool = registry.get(get_dataset(session, "default"))
        lock_free_while_embedding: list[bool] = []
        inner_embed = embedder.embed

        def embed(texts: list[str]) -> np.ndarray:
            def try_the_lock() -> None:
                free = pool.lock.acquire(blocking=False)
                if free:
                    pool.lock.release()
                lock_free_while_embedding.append(free)

            thread = threading.Thread(target=try_the_lock)
            thread.start()
            thread.join()
            return inner_embed(texts)

        embedder.embed = embed  # type: ignore[method-assign]
        text = "Plan a weekend of indoor activities for two bored teenagers."
        [outcome] = decide_and_store(session, registry, pool, [CandidateIn(text, "submitted")])
    assert outcome.decision.accepted
    assert lock_free_while_embedding == [True]
    engine.dispose()


@pytest.mark.both_databases
def test_a_batch_gets_its_ids_first_and_is_stored_in_one_statement(database_url, embedder):
    """Ids are allocated before deciding: a near copy names the stored id of the candidate it copies from
    the same batch, the pool holds the stored ids, and two datasets' batches never share an id."""
    engine = make_engine(database_url)
    create_tables(engine)
    settings = Settings(database_url=database_url, _env_file=None)
    registry = PoolRegistry(engine, embedder, None)
    statements: list[str] = []

    def count_instruction_inserts(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO INSTRUCTION"):
            statements.append(statement)

    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, settings)
        other = create_dataset(session, DatasetCreate(name="other"), settings)
        session.commit()
        pool, other_pool = registry.get(get_dataset(session, "default")), registry.get(other)
        first = "Plan a weekend of indoor activities for two bored teenagers in a small flat."
        candidates = [
            CandidateIn(first, "submitted"),
            CandidateIn("Hi", "submitted"),
            CandidateIn(first.replace("small", "tiny"), "submitted"),  # a near copy of the first
            CandidateIn("Write a short poem about the smell of rain on hot pavement.", "submitted"),
        ]
        event.listen(engine, "before_cursor_execute", count_instruction_inserts)
        outcomes = decide_and_store(session, registry, pool, candidates)
        event.remove(engine, "before_cursor_execute", count_instruction_inserts)
        others = decide_and_store(session, registry, other_pool, candidates[:1])
    assert len(statements) == 1
    assert [o.decision.rule for o in outcomes] == [None, "too_short", "rouge_l", None]
    ids = [o.row.id for o in outcomes]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert outcomes[2].decision.rouge_neighbor_id == ids[0]
    assert {ids[0], ids[3]} <= set(pool.novelty.texts) and ids[1] not in pool.novelty.texts
    assert others[0].row.id not in ids
    with Session(engine) as session:
        stored = {r.id: r for r in session.exec(select(Instruction).where(Instruction.origin == "submitted"))}
    assert stored[ids[2]].rouge_neighbor_id == ids[0] and stored[ids[0]].instruction == first
    assert stored[ids[0]].embedding is not None and stored[ids[1]].embedding is None
    engine.dispose()
