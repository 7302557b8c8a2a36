"""Snapshots: tables and API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.models.common import utcnow
from app.models.reviews import ReviewState


class SnapshotCreate(SQLModel):
    note: str = Field(default="", max_length=2000)
    include_seeds: bool = Field(default=False, description="also export the seed tasks' own instances")
    review: list[ReviewState] | None = Field(
        default=None, description="only rows in these review states (default: all but reviewer-rejected)"
    )
    min_judge_score: float | None = Field(default=None, ge=1.0, le=5.0)


class Snapshot(SQLModel, table=True):
    """A dataset version: the exact rows an export of it contains, whatever is added later.

    Taken since 0012: ``marks`` — the largest id of each table it reads and the ids at or below it that were
    not visible then, its selection and its counts (app/exports/snapshot_marks.py); the id lists stay
    empty. Taken before: ``marks`` is NULL and the id lists name every row.
    """

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    note: str = ""
    include_seeds: bool = False
    instance_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seed_instruction_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the edited reviews whose texts the rows export with (None: recorded before reviews existed)
    review_ids: list[int] | None = Field(default=None, sa_column=Column(JSON))
    marks: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class SnapshotPublic(SQLModel):
    id: int
    dataset: str
    note: str
    include_seeds: bool
    instances: int
    seed_tasks: int
    created_at: datetime
