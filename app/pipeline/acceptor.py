"""Deciding candidates and storing them, one acceptor per dataset at a time, across processes.

First, with no lock held, :func:`prepare`: the text-only stages, tokens and embeddings (none of them
depends on the pool's items). Then under the pool's lock (threads of this process) and the dataset's
database lock (every process; see :func:`lock_dataset`): bring the pool up to date with rows other
processes committed, decide in arrival order (each accepted candidate joins the pool before the next is
decided), insert every row with its decision, let the caller add its own rows (job counters, ledger) to
the same transaction, commit — which releases the database lock. A batch's rows get their ids before it
is decided (:func:`allocate_ids`, under the lock), so an accepted candidate joins the pool without a
round trip, and the batch is inserted in one statement at the end (:func:`insert_decided`). The thread
lock is taken before the session touches the database, so a waiting acceptor holds no pooled connection.
A caller may decide the candidates of many requests in one locked section and one transaction (the job
runner does). If anything fails the transaction rolls back and the pool is rebuilt from the database, so
nothing is half-stored and memory never disagrees with storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text, update
from sqlmodel import Session, col

from app.models import Dataset, DecisionPublic, Instruction, initial_instance_stage, utcnow
from app.pipeline.pools import DatasetPool, PoolRegistry
from filters.chain import Prepared
from filters.decision import DECISION_FIELDS, Decision
from filters.embedding import to_bytes
from generators.strategies.recipe import prompt_recipe

ACCEPTED_KEY = "si_accepted"  # session.info: candidates accepted in the open transaction


@dataclass(frozen=True)
class CandidateIn:
    text: str
    origin: str
    job_id: int | None = None
    generation_id: int | None = None
    origin_key: str | None = None
    strategy: str | None = None  # how the prompt was built (job candidates)
    lineage: dict[str, Any] | None = None  # the prompt's parents (job candidates)
    judge: dict[str, Any] | None = None  # the judge's whole verdict (judged job candidates)


@dataclass(frozen=True)
class Outcome:
    row: Instruction
    decision: Decision


# first key of pg_advisory_xact_lock(int, int) for dataset locks; the second is the dataset id
DATASET_LOCK_CLASS = 5_350_101


def lock_dataset(session: Session, dataset_id: int) -> None:
    """Hold the dataset's acceptor lock until the session's transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: a no-op write to the dataset row, which takes
    the database's write lock (SQLite has one writer at a time), so processes sharing one SQLite file
    are serialised too.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :id)"), {"space": DATASET_LOCK_CLASS, "id": dataset_id}
        )
    else:
        connection.execute(update(Dataset).where(col(Dataset.id) == dataset_id).values(name=Dataset.name))


@contextmanager
def accepting(session: Session, registry: PoolRegistry, pool: DatasetPool) -> Iterator[None]:
    """The one acceptor of ``pool``'s dataset, with the pool caught up; commits at the end (and only then
    adds what :func:`decide` accepted to ``registry.accepted_total``)."""
    with pool.lock:
        try:
            lock_dataset(session, pool.dataset_id)
            registry.catch_up(session, pool)
            yield
            session.commit()
            registry.accepted_total += session.info.pop(ACCEPTED_KEY, 0)
        except BaseException:
            session.info.pop(ACCEPTED_KEY, None)
            session.rollback()
            registry.invalidate(pool.dataset_id)
            raise


def decide_and_store(
    session: Session,
    registry: PoolRegistry,
    pool: DatasetPool,
    candidates: Sequence[CandidateIn],
    stages: Iterable[str] | None = None,
) -> list[Outcome]:
    """:func:`decide` as the dataset's one acceptor, committed; embeds before taking the lock.

    A session holding only reads ends its transaction first, so it waits for the lock without a
    pooled connection.
    """
    prepared = prepare(registry, pool, candidates, stages)
    if not (session.new or session.dirty or session.deleted):
        session.commit()
    with accepting(session, registry, pool):
        return decide(session, registry, pool, candidates, stages, prepared=prepared)


def prepare(
    registry: PoolRegistry,
    pool: DatasetPool,
    candidates: Sequence[CandidateIn],
    stages: Iterable[str] | None = None,
) -> Prepared:
    """What deciding ``candidates`` needs that no pool item changes (embeddings above all): call it
    before :func:`accepting`, so the locked section only decides and inserts."""
    embed = registry.embedder.embed if registry.embedder is not None else None
    return pool.chain.only(stages).prepare(pool.novelty, candidates, embed)


def decide(
    session: Session,
    registry: PoolRegistry,
    pool: DatasetPool,
    candidates: Sequence[CandidateIn],
    stages: Iterable[str] | None = None,
    limit_accepted: int | None = None,
    prepared: Prepared | None = None,
) -> list[Outcome]:
    """Decide and insert (not commit) ``candidates`` in order; call inside :func:`accepting`.

    ``stages`` restricts the dataset's chain to those stage ids (its order stays). ``prepared`` is
    :func:`prepare`'s result for the same candidates (made here when not given).
    """
    ids = allocate_ids(session, len(candidates))
    created = utcnow()
    rows: list[dict[str, Any]] = []

    def record(position: int, decision: Decision, vector: np.ndarray | None) -> int | None:
        candidate = candidates[position]
        row = {name: getattr(decision, name) for name in DECISION_FIELDS}
        row.update(
            id=ids[position],
            dataset_id=pool.dataset_id,
            origin=candidate.origin,
            origin_key=candidate.origin_key,
            instruction=candidate.text,
            instance_stage=initial_instance_stage(candidate.origin, decision.accepted),
            embedding=to_bytes(vector) if decision.accepted and vector is not None else None,
            job_id=candidate.job_id,
            generation_id=candidate.generation_id,
            strategy=candidate.strategy,
            lineage=candidate.lineage,
            recipe=prompt_recipe(candidate.strategy, candidate.lineage),
            judge=candidate.judge,
            created_at=created,
        )
        rows.append(row)
        if not decision.accepted:
            return None
        session.info[ACCEPTED_KEY] = session.info.get(ACCEPTED_KEY, 0) + 1  # counted once committed
        return ids[position]  # the id is the pool's key

    embed = registry.embedder.embed if registry.embedder is not None else None
    chain = pool.chain.only(stages)
    if prepared is None:
        prepared = chain.prepare(pool.novelty, candidates, embed)
    decided = chain.decide_prepared(
        pool.novelty, prepared.part(0, len(prepared), candidates), embed, record, limit_accepted
    )
    for row, result in zip(rows, decided, strict=True):
        if result.decision.accepted and row["embedding"] is None and result.vector is not None:
            row["embedding"] = to_bytes(result.vector)  # embedded after the decision (no vector stage ran)
    stored = insert_decided(session, rows)
    return [Outcome(row, result.decision) for row, result in zip(stored, decided, strict=True)]


def allocate_ids(session: Session, count: int) -> list[int]:
    """``count`` ids for new instruction rows, in increasing order; call under the dataset's lock.

    PostgreSQL: drawn from the id sequence (other datasets draw from it at the same time; ids a batch
    does not use are gaps, as after any rollback). SQLite: the ones after the largest id, which are the
    ids SQLite would give, since the dataset's lock holds the database's one write lock.
    """
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        drawn = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence('instruction', 'id')) FROM generate_series(1, :n)"),
            {"n": count},
        )
        return sorted(int(i) for (i,) in drawn)
    largest = session.execute(select(func.max(Instruction.id))).scalar() or 0
    return list(range(largest + 1, largest + 1 + count))


def insert_decided(session: Session, rows: list[dict[str, Any]]) -> list[Instruction]:
    """Insert decided rows (with their ids) in one statement; the rows as table objects, in order."""
    if not rows:
        return []
    # NULLs written out, so rows with None in different columns still share one statement; the rows come
    # back in any order (asking for the parameters' order costs SQLite a statement per row): by id here
    options = {"render_nulls": True}
    stored = {
        row.id: row
        for row in session.scalars(
            insert(Instruction).returning(Instruction), rows, execution_options=options
        )
    }
    return [stored[row["id"]] for row in rows]


def decision_public(outcome: Outcome) -> DecisionPublic:
    """The API/CLI view of a decision."""
    return DecisionPublic(instruction=outcome.row.instruction, id=outcome.row.id, **asdict(outcome.decision))
