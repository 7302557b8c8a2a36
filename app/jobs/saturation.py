"""How a job's yield evolves: the novelty curve (share accepted per window of decided candidates) and the
auto-stop rule (stop when the share over the last ``window`` candidates falls below ``min_yield``)."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.models import Instruction

DEFAULT_CURVE_WINDOW = 50


def novelty_curve(
    session: Session,
    *,
    job_id: int | None = None,
    dataset_id: int | None = None,
    window: int = DEFAULT_CURVE_WINDOW,
) -> list[float]:
    """Share accepted in each consecutive window of ``window`` generated candidates in arrival (id) order,
    of one job or one dataset (the last window may be shorter).

    Counted by the database (a numbered window per row, grouped), so a long job's view reads one row per
    window rather than every decision.
    """
    position = func.row_number().over(order_by=col(Instruction.id)) - 1
    numbered = select(
        (position // window).label("bucket"),
        case((col(Instruction.accepted), 1), else_=0).label("accepted"),
    ).where(col(Instruction.origin) != "seed")
    if job_id is not None:
        numbered = numbered.where(col(Instruction.job_id) == job_id)
    if dataset_id is not None:
        numbered = numbered.where(col(Instruction.dataset_id) == dataset_id)
    rows = numbered.subquery()
    query = (
        select(func.sum(rows.c.accepted), func.count())
        .select_from(rows)
        .group_by(rows.c.bucket)
        .order_by(rows.c.bucket)
    )
    return [round(int(accepted) / int(total), 4) for accepted, total in session.exec(query).all()]


def recent_yield(session: Session, job_id: int, window: int) -> float | None:
    """Share accepted among the job's last ``window`` decided candidates; None until it has that many."""
    query = (
        select(Instruction.accepted)
        .where(col(Instruction.job_id) == job_id)
        .order_by(col(Instruction.id).desc())
        .limit(window)
    )
    last = [bool(a) for a in session.exec(query).all()]
    return sum(last) / window if len(last) == window else None


def auto_stop_reason(session: Session, job_id: int, auto_stop: dict[str, object] | None) -> str | None:
    """Why the job stops now under its auto-stop rule, or None."""
    if not auto_stop:
        return None
    window, min_yield = int(str(auto_stop["window"])), float(str(auto_stop["min_yield"]))
    share = recent_yield(session, job_id, window)
    if share is None or share >= min_yield:
        return None
    return f"auto-stop: yield {share:.3f} over the last {window} candidates fell below {min_yield}"
