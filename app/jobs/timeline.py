"""A job's decisions over time for its dashboard page: per consecutive window of ``window`` decided
candidates (in decision order, the instruction id), how many were decided, accepted and rejected by
each rule (the last window may be partial).

Counted by the database: each row gets its window number (row number // window) and the rows are grouped
by window, decision and rule, so a long job reads one row per window and rule, not every decision.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Instruction, TimelineWindow

DEFAULT_TIMELINE_WINDOW = 20


def job_timeline(
    session: Session, job_id: int, window: int = DEFAULT_TIMELINE_WINDOW
) -> list[TimelineWindow]:
    position = func.row_number().over(order_by=col(Instruction.id)) - 1
    numbered = (
        select((position // window).label("bucket"), Instruction.accepted, Instruction.rule)
        .where(col(Instruction.job_id) == job_id, col(Instruction.origin) != "seed")
        .subquery()
    )
    query = (
        select(numbered.c.bucket, numbered.c.accepted, numbered.c.rule, func.count())
        .group_by(numbered.c.bucket, numbered.c.accepted, numbered.c.rule)
        .order_by(numbered.c.bucket)
    )
    windows: dict[int, TimelineWindow] = {}
    for bucket, accepted, rule, n in session.exec(query).all():
        entry = windows.setdefault(int(bucket), TimelineWindow(index=int(bucket), decided=0, accepted=0))
        entry.decided += n
        if accepted:
            entry.accepted += n
        else:
            entry.rejections[rule or "unknown"] = entry.rejections.get(rule or "unknown", 0) + n
    for entry in windows.values():
        entry.rejections = dict(sorted(entry.rejections.items(), key=lambda item: (-item[1], item[0])))
    return [windows[index] for index in sorted(windows)]
