"""Jobs: tables and API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from app.core.limits import INT4_MAX
from app.jobs.counters import JobCounts, JobCountsJSON
from app.models.common import utcnow
from generators.strategies import DEFAULT_STRATEGY

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL_STATES = ("succeeded", "failed", "cancelled")


class AutoStop(SQLModel):
    """Stop the job (``succeeded``, with ``stop_reason``) when the share of accepted candidates among the
    last ``window`` decided falls below ``min_yield``."""

    window: int = Field(default=50, ge=5, le=100000)
    min_yield: float = Field(gt=0.0, le=1.0)


class JobCreate(SQLModel):
    target: int = Field(ge=1, le=100000, description="accepted instructions to add")
    strategy: str = Field(default=DEFAULT_STRATEGY, description="how prompts are built (see README)")
    strategy_settings: dict[str, Any] = Field(default_factory=dict, description="the strategy's own settings")
    auto_stop: AutoStop | None = None
    max_requests: int | None = Field(default=None, ge=1, le=1000000)
    seed: int | None = Field(default=None, ge=0, le=INT4_MAX, description="repeat a run exactly")
    instances_per_task: int = Field(
        default=0, ge=0, le=20, description="then classify each accepted task and generate up to K instances"
    )


class Job(SQLModel, table=True):
    # one job per tick of a schedule, however many schedulers run it
    __table_args__ = (
        Index("uq_job_schedule_fire_time", "schedule_id", "fire_time", unique=True),
        {"sqlite_autoincrement": True},  # ids are never reused (migration 0007)
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    status: str = Field(default="queued", index=True, max_length=16)
    target: int
    max_requests: int
    seed: int | None = None
    instances_per_task: int = 0
    strategy: str = Field(default=DEFAULT_STRATEGY, max_length=32)
    strategy_settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    auto_stop: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    stop_reason: str | None = Field(default=None, sa_column=Column(Text))
    requests: int = 0
    generated: int = 0
    accepted: int = 0
    rejected: int = 0
    counts: JobCounts = Field(default_factory=JobCounts, sa_column=Column(JobCountsJSON, nullable=False))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    error: str | None = None
    cancel_requested: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # the lease of the worker running it; a lease that is not renewed in time is taken over
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = None
    attempts: int = 0  # claims so far; each claim is a new fencing token for the job's writes
    # model requests sent and not yet answered, as last written by the worker running it (migration 0011)
    in_flight: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id", index=True)
    fire_time: datetime | None = None


class JobPublic(SQLModel):
    id: int
    dataset: str
    status: str
    target: int
    max_requests: int
    instances_per_task: int = 0
    strategy: str = DEFAULT_STRATEGY
    strategy_settings: dict[str, Any] = {}
    auto_stop: dict[str, Any] | None = None
    stop_reason: str | None = None
    novelty_curve: list[float] | None = Field(
        default=None, description="share accepted per window of decided candidates (the job's own view)"
    )
    requests: int
    in_flight: int = Field(
        default=0, description="model requests sent and not yet answered (0 unless the job is running)"
    )
    generated: int
    accepted: int
    rejected: int
    counts: JobCounts
    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None
    tokens_per_accepted: float | None = None
    cost_per_accepted: float | None = None
    error: str | None
    warnings: list[str] = []
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = 0
    schedule_id: int | None = None
    fire_time: datetime | None = None


class TimelineWindow(SQLModel):
    index: int
    decided: int
    accepted: int
    rejections: dict[str, int] = Field(default_factory=dict, description="rejected per rule, most first")


class JobTimeline(SQLModel):
    """A job's decisions per consecutive window of ``window`` candidates in decision order."""

    job: int
    window: int
    windows: list[TimelineWindow]
