"""How a job's yield evolves: the novelty curve (share accepted per window of decided candidates) and the
auto-stop rule (stop when the share over the last ``window`` candidates falls below ``min_yield``)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import Instruction

DEFAULT_CURVE_WINDOW = 50


def accepted_flags(
    session: Session, *, job_id: int | None = None, dataset_id: int | None = None
) -> list[bool]:
    """Decisions of generated candidates in arrival (id) order, of one job or one dataset."""
    query = (
        select(Instruction.accepted).where(col(Instruction.origin) != "seed").order_by(col(Instruction.id))
    )
    if job_id is not None:
        query = query.where(col(Instruction.job_id) == job_id)
    if dataset_id is not None:
        query = query.where(col(Instruction.dataset_id) == dataset_id)
    return [bool(a) for a in session.exec(query).all()]


def novelty_curve(flags: list[bool], window: int = DEFAULT_CURVE_WINDOW) -> list[float]:
    """Share accepted in each consecutive window of ``window`` candidates (the last one may be shorter)."""
    return [
        round(sum(flags[start : start + window]) / len(flags[start : start + window]), 4)
        for start in range(0, len(flags), window)
    ]


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
