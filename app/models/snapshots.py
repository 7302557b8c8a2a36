"""Snapshots: tables and API schemas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class SnapshotCreate(SQLModel):
    note: str = Field(default="", max_length=2000)
    include_seeds: bool = Field(default=False, description="also export the seed tasks' own instances")


class Snapshot(SQLModel, table=True):
    """A dataset version: the exact rows an export of it contains, whatever is added later."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    note: str = ""
    include_seeds: bool = False
    instance_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seed_instruction_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SnapshotPublic(SQLModel):
    id: int
    dataset: str
    note: str
    include_seeds: bool
    instances: int
    seed_tasks: int
    created_at: datetime
