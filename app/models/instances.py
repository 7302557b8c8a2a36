"""Instances: tables and API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.models.common import utcnow

INSTANCE_ORIGINS = ("generated", "ingested")


class TaskInstance(SQLModel, table=True):
    """Every (input, output) generated or imported for an accepted task, with its filter decision.

    Accepted rows are the dataset's triplets (with the task's instruction); rejected rows keep their
    rule id. Seed tasks keep their human-written instances on the instruction row instead.
    """

    __tablename__ = "task_instance"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    instruction_id: int = Field(foreign_key="instruction.id", index=True)
    origin: str = Field(max_length=16)  # generated | ingested
    input: str = Field(sa_column=Column(Text, nullable=False))
    output: str = Field(sa_column=Column(Text, nullable=False))
    accepted: bool = Field(index=True)
    rule: str | None = Field(default=None, index=True, max_length=64)
    detail: str | None = None
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    generation_id: int | None = Field(default=None, foreign_key="generation.id")
    judge_score: float | None = None  # the judge's overall score of the triplet, 1-5
    judge_expected: float | None = None  # the expected score over the score tokens' probabilities
    judge: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # the judge's whole verdict
    created_at: datetime = Field(default_factory=utcnow)


class InstanceJobCreate(SQLModel):
    instances_per_task: int | None = Field(
        default=None, ge=1, le=20, description="default SI_INSTANCES_PER_TASK"
    )


class TaskInstancePublic(SQLModel):
    id: int
    instruction_id: int
    origin: str
    input: str
    output: str
    accepted: bool
    rule: str | None
    detail: str | None
    job_id: int | None
    generation_id: int | None
    judge_score: float | None = None
    judge_expected: float | None = None
    judge: dict[str, Any] | None = None
    created_at: datetime


class TaskInstancePage(SQLModel):
    items: list[TaskInstancePublic]
    next_cursor: str | None
