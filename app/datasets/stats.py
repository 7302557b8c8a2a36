"""``GET /v1/datasets/{name}/stats`` assembled: counts, rejections, the strategy breakdown (one ordered
pass, app/datasets/tally.py), score histograms (app/datasets/score_stats.py), the novelty curve and
diversity (app/datasets/telemetry.py); each part counted by the database from an index.

The three independent parts (counts and histograms; the curve; diversity) run at once, each on its own
connection (the database and numpy work without holding the interpreter's lock), so the answer takes
about as long as the longest of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.datasets import score_stats, service, tally
from app.datasets.telemetry import dataset_curve, dataset_diversity

PARTS_AT_ONCE = 4
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _in_parallel(engine: Engine, part: Callable[[Session], dict[str, Any]]) -> Future[dict[str, Any]]:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(PARTS_AT_ONCE, thread_name_prefix="dataset-stats")

    def run() -> dict[str, Any]:
        with Session(engine) as session:
            return part(session)

    return _executor.submit(run)


def counted(session: Session, dataset_id: int) -> dict[str, Any]:
    """Counts, rejections, instances, score histograms and strategies."""
    groups = tally.tally(session, dataset_id)
    totals = tally.candidates_per_decision(groups)
    return {
        **tally.counts(groups),
        "rejections": tally.rejections(groups),
        "rejections_per_job": tally.rejections_per_job(groups),
        "instances": service.instance_counts(session, dataset_id),
        "scores": score_stats.score_distributions(session, dataset_id, totals=totals),
        "strategies": tally.strategies(groups),
    }


def dataset_stats(session: Session, dataset_id: int, window: int, breakdown: bool) -> dict[str, Any]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    curve = _in_parallel(engine, lambda s: dataset_curve(s, dataset_id, window))
    diversity = _in_parallel(engine, lambda s: dataset_diversity(s, dataset_id, breakdown))
    session.commit()  # ends the read transaction: the connection goes back to the pool
    result = counted(session, dataset_id)
    session.commit()  # no connection held while waiting for the parts (they need one from the same pool)
    return {**result, **curve.result(), **diversity.result()}


def job_stats(session: Session, dataset_id: int, job_id: int) -> dict[str, Any]:
    """One job's rejections per rule and score distributions."""
    return {
        "id": job_id,
        "rejections": score_stats.job_rejections(session, dataset_id, job_id),
        "scores": score_stats.score_distributions(session, dataset_id, job_id),
    }
