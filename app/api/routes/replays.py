"""Replays: re-decide a dataset's stored candidates with new thresholds or rules (dry run or applied)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import DatasetDep, EngineDep, KeptStatsDep, PoolsDep, SessionDep
from app.api.pagination import CursorParam, IdPath, IdQuery, LimitParam, decode_cursor, set_next_cursor
from app.models import DecisionChangePublic, ReplayPublic, ReplayReport, ReplayRequest, stored_id
from app.review import replays

router = APIRouter(prefix="/v1/datasets/{name}", tags=["replays"])


@router.post("/replay", response_model=ReplayReport)
def dry_run(data: ReplayRequest, dataset: DatasetDep, session: SessionDep, pools: PoolsDep) -> ReplayReport:
    """Dry run: how many stored decisions the new settings would flip, and why; stores nothing."""
    return replays.dry_run(session, pools, dataset, data)


@router.post("/replays", status_code=status.HTTP_201_CREATED, response_model=ReplayReport)
def apply_replay(
    data: ReplayRequest,
    dataset: DatasetDep,
    session: SessionDep,
    pools: PoolsDep,
    kept_stats: KeptStatsDep,
    engine: EngineDep,
    response: Response,
) -> ReplayReport:
    """Re-decide and store the new decisions (the old ones kept in the decision history), atomically;
    the dataset's stats are counted again in the background, for its next view."""
    replay, report = replays.apply(session, pools, dataset, data)
    kept_stats.prime_later(engine, [stored_id(dataset)])
    response.headers["Location"] = f"/v1/datasets/{dataset.name}/replays/{replay.id}"
    return report


@router.get("/replays", response_model=list[ReplayPublic])
def list_replays(dataset: DatasetDep, session: SessionDep) -> list[ReplayPublic]:
    """The dataset's applied replays, oldest first."""
    return [replays.replay_public(r, dataset) for r in replays.list_replays(session, dataset)]


@router.get("/replays/{replay_id}", response_model=ReplayPublic)
def read_replay(replay_id: IdPath, dataset: DatasetDep, session: SessionDep) -> ReplayPublic:
    """One applied replay: its settings, reason and counts."""
    return replays.replay_public(replays.get_replay(session, dataset, replay_id), dataset)


@router.get("/decision-changes", response_model=list[DecisionChangePublic])
def decision_changes(
    dataset: DatasetDep,
    session: SessionDep,
    response: Response,
    replay: IdQuery = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> list[DecisionChangePublic]:
    """The decision history (old and new decision, replay, reason), optionally of one replay; more in
    ``X-Next-Cursor``."""
    if replay is not None:
        replays.get_replay(session, dataset, replay)
    after = decode_cursor(cursor) if cursor is not None else 0
    rows = replays.changes(session, dataset, replay, after, limit + 1)
    set_next_cursor(response, [stored_id(r) for r in rows], limit)
    return [DecisionChangePublic.model_validate(r) for r in rows[:limit]]
