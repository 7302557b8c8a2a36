"""Replays as a service: the dry run's report, and applying a replay atomically under the dataset's lock.

Applying takes the pool's lock and the dataset's database lock (as every acceptor does, see
app/pipeline/acceptor.py), re-decides from what is stored then, writes the new decisions onto the
instruction rows, keeps each rewritten one's old and new decision in ``decision_change`` (a verdict that
changed, or only what a stage measured — a snapshot's export undoes them all), stores the replay's
settings on the dataset (so later candidates are decided as the replayed ones were) and commits — all or
nothing. The live pool is then replaced, still under its lock, by the replayed pool, so an acceptor
waiting for the lock decides against the new pool; on any failure the pool is rebuilt from the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.errors import get_in_dataset
from app.models import (
    INSTANCE_STAGE_PENDING,
    Dataset,
    DecisionChange,
    Instruction,
    Replay,
    ReplayExample,
    ReplayPublic,
    ReplayReport,
    ReplayRequest,
    ReplayTransition,
    initial_instance_stage,
    stored_id,
)
from app.pipeline.acceptor import lock_dataset
from app.pipeline.pools import PoolRegistry
from app.review.replay import ReplayOutcome, ReplaySettings, redecide
from filters.decision import DECISION_FIELDS, Decision
from filters.embedding import to_bytes


def _label(decision: Decision) -> str:
    return "accepted" if decision.accepted else (decision.rule or "rejected")


def report(
    dataset: Dataset, outcome: ReplayOutcome, examples: int, replay_id: int | None = None
) -> ReplayReport:
    """How many decisions the replay flips and why: one transition per (old, new) verdict, with examples."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in outcome.changed():
        groups[(_label(outcome.candidates[i].old), _label(outcome.new[i]))].append(i)
    transitions = [
        ReplayTransition(
            old=old,
            new=new,
            count=len(positions),
            examples=[
                ReplayExample(
                    id=outcome.candidates[i].id,
                    instruction=outcome.candidates[i].text,
                    old_rule=outcome.candidates[i].old.rule,
                    new_rule=outcome.new[i].rule,
                    detail=outcome.new[i].detail,
                )
                for i in positions[:examples]
            ],
        )
        for (old, new), positions in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
    ]
    flips = [i for i in outcome.changed() if outcome.candidates[i].old.accepted != outcome.new[i].accepted]
    newly_accepted = sum(1 for i in flips if outcome.new[i].accepted)
    return ReplayReport(
        dataset=dataset.name,
        applied=replay_id is not None,
        replay_id=replay_id,
        settings=outcome.settings.as_dict(),
        seeds=outcome.seeds,
        decided=len(outcome.candidates),
        flipped=len(flips),
        newly_accepted=newly_accepted,
        newly_rejected=len(flips) - newly_accepted,
        rule_changed=len(outcome.changed()) - len(flips),
        embedded=outcome.embedded,
        transitions=transitions,
    )


def dry_run(
    session: Session, registry: PoolRegistry, dataset: Dataset, request: ReplayRequest
) -> ReplayReport:
    """What applying ``request`` would change; stores nothing."""
    outcome = redecide(session, registry, dataset, ReplaySettings.of(dataset, request))
    session.rollback()  # only reads: end the transaction
    return report(dataset, outcome, request.examples)


def _reason(dataset: Dataset, settings: ReplaySettings, given: str) -> str:
    if given.strip():
        return given.strip()
    before = ReplaySettings.of(dataset, ReplayRequest()).as_dict()
    changes = [f"{k} {before[k]} → {v}" for k, v in settings.as_dict().items() if before[k] != v]
    return "replay: " + ("; ".join(changes) if changes else "same settings")


def _store(session: Session, dataset: Dataset, outcome: ReplayOutcome, replay: Replay) -> None:
    updates: list[dict[str, Any]] = []
    for candidate, new, decided in zip(outcome.candidates, outcome.new, outcome.decided, strict=True):
        if new == candidate.old:
            continue
        values: dict[str, Any] = {"id": candidate.id, **asdict(new)}
        stage = candidate.instance_stage
        if new.accepted and stage is None:
            stage = initial_instance_stage(candidate.origin, True)
        elif not new.accepted and stage == INSTANCE_STAGE_PENDING:
            stage = None  # the instance stage takes accepted tasks only
        values["instance_stage"] = stage
        if new.accepted and candidate.vector is None and decided.vector is not None:
            values["embedding"] = to_bytes(decided.vector)  # stored without one: it joins the pool now
        updates.append(values)
        session.add(
            DecisionChange(
                replay_id=stored_id(replay),
                dataset_id=stored_id(dataset),
                instruction_id=candidate.id,
                old_accepted=candidate.old.accepted,
                new_accepted=new.accepted,
                old_rule=candidate.old.rule,
                new_rule=new.rule,
                old={f: getattr(candidate.old, f) for f in DECISION_FIELDS},
                new=asdict(new),
                reason=replay.reason,
            )
        )
    for values in updates:
        session.exec(update(Instruction).where(col(Instruction.id) == values.pop("id")).values(**values))


def apply(
    session: Session, registry: PoolRegistry, dataset: Dataset, request: ReplayRequest
) -> tuple[Replay, ReplayReport]:
    """Re-decide and store the new decisions, atomically, as the dataset's one acceptor.

    A first pass without the lock embeds the candidates stored without a vector, so the locked pass
    (which decides from what is stored once the lock is held) calls no model.
    """
    pool = registry.get(dataset)
    embedded_now: dict[str, np.ndarray] = {}
    first = redecide(session, registry, dataset, ReplaySettings.of(dataset, request), embedded_now)
    session.rollback()  # end the reading transaction: wait for the lock holding no pooled connection
    with pool.lock:
        try:
            lock_dataset(session, stored_id(dataset))
            session.refresh(dataset)
            settings = ReplaySettings.of(dataset, request)
            outcome = redecide(session, registry, dataset, settings, embedded_now)
            outcome.embedded = first.embedded
            replay = Replay(
                dataset_id=stored_id(dataset),
                reason=_reason(dataset, settings, request.reason),
                settings=settings.as_dict(),
                decided=len(outcome.candidates),
                changed=len(outcome.changed()),
            )
            session.add(replay)
            session.flush()
            _store(session, dataset, outcome, replay)
            for name, value in settings.as_dict().items():
                setattr(dataset, name, value)
            dataset.decisions_version += 1  # other processes' pools reload (app/pipeline/pool_reload.py)
            session.add(dataset)
            session.commit()
        except BaseException:
            session.rollback()
            registry.invalidate(stored_id(dataset))
            raise
        pool.novelty, pool.chain = outcome.pool, outcome.chain
        pool.decisions_version = dataset.decisions_version
    path = registry.index_path(stored_id(dataset))
    if path is not None:
        path.unlink(missing_ok=True)  # the saved index holds the old pool's vectors
    return replay, report(dataset, outcome, request.examples, stored_id(replay))


def get_replay(session: Session, dataset: Dataset, replay_id: int) -> Replay:
    return get_in_dataset(session, Replay, replay_id, dataset, "replay")


def list_replays(session: Session, dataset: Dataset) -> list[Replay]:
    query = select(Replay).where(col(Replay.dataset_id) == dataset.id).order_by(col(Replay.id))
    return list(session.exec(query).all())


def replay_public(replay: Replay, dataset: Dataset) -> ReplayPublic:
    return ReplayPublic.model_validate(replay, update={"dataset": dataset.name})


def changes(
    session: Session, dataset: Dataset, replay_id: int | None, after: int, limit: int
) -> list[DecisionChange]:
    """The dataset's decision history in id order, of one replay or of all."""
    query = select(DecisionChange).where(
        col(DecisionChange.dataset_id) == dataset.id, col(DecisionChange.id) > after
    )
    if replay_id is not None:
        query = query.where(col(DecisionChange.replay_id) == replay_id)
    return list(session.exec(query.order_by(col(DecisionChange.id)).limit(limit)).all())
