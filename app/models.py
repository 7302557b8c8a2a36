"""Tables and API schemas.

One ladder per entity: ``XBase`` (shared fields) → table model ``X`` / ``XCreate`` / ``XPublic``.
``Instruction`` is every instruction a dataset has seen: its seeds (origin ``seed``, always in the pool)
and every candidate (origin ``generated``, ``submitted`` or ``ingested``) with its decision. The novelty
pool of a dataset is its seeds plus its accepted candidates; their ids are the FAISS ids.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- datasets
class DatasetBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=64)
    description: str = Field(default="", max_length=2000)
    rouge_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    embedding_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    heuristics_preset: str = Field(default="self_instruct", max_length=32)
    disabled_rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    num_human_examples: int = Field(default=6, ge=1, le=32)
    num_machine_examples: int = Field(default=2, ge=0, le=32)


class Dataset(DatasetBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class DatasetCreate(DatasetBase):
    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not re.fullmatch(NAME_PATTERN, value):
            raise ValueError("use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value

    rouge_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    embedding_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    heuristics_preset: str | None = None

    @field_validator("heuristics_preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        from filters.heuristics import PRESETS

        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown heuristics preset {value!r}; choose one of {', '.join(PRESETS)}")
        return value

    @field_validator("disabled_rules")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        from filters.heuristics import RULE_IDS

        unknown = sorted(set(value) - set(RULE_IDS))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; rules: {', '.join(RULE_IDS)}")
        return value


class DatasetPublic(DatasetBase):
    id: int
    created_at: datetime
    seed_count: int = 0
    accepted_count: int = 0
    rejected_count: int = 0


# ------------------------------------------------------------ instructions
class Instruction(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("dataset_id", "origin_key"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    origin: str = Field(max_length=16)  # seed | generated | submitted | ingested
    origin_key: str | None = Field(default=None, max_length=128)  # idempotency key of the source
    instruction: str = Field(sa_column=Column(Text, nullable=False))
    name: str | None = None
    instances: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    is_classification: bool | None = None
    accepted: bool = Field(index=True)
    rule: str | None = Field(default=None, index=True, max_length=64)
    detail: str | None = None
    max_rouge_l: float | None = None
    rouge_neighbor_id: int | None = None
    max_cosine: float | None = None
    cosine_neighbor_id: int | None = None
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    generation_id: int | None = Field(default=None, foreign_key="generation.id")
    created_at: datetime = Field(default_factory=utcnow)


class InstructionPublic(SQLModel):
    id: int
    dataset: str
    origin: str
    instruction: str
    accepted: bool
    rule: str | None
    detail: str | None
    max_rouge_l: float | None
    rouge_neighbor_id: int | None
    max_cosine: float | None
    cosine_neighbor_id: int | None
    instances: list[dict[str, str]] | None = None
    is_classification: bool | None = None
    job_id: int | None = None
    generation_id: int | None = None
    created_at: datetime


class InstructionPage(SQLModel):
    items: list[InstructionPublic]
    next_cursor: str | None


class InstanceIn(SQLModel):
    input: str = Field(default="", max_length=20000)
    output: str = Field(min_length=1, max_length=20000)


class SeedIn(SQLModel):
    instruction: str = Field(min_length=1, max_length=10000)
    instances: list[InstanceIn] = Field(min_length=1)
    is_classification: bool = False
    name: str | None = None


class SeedUpload(SQLModel):
    tasks: list[SeedIn] = Field(min_length=1, max_length=10000)


class SeedUploadResult(SQLModel):
    added: int
    skipped_duplicates: int
    seed_count: int


class CandidateSubmit(SQLModel):
    instructions: list[str] = Field(min_length=1, max_length=1000)


class DecisionPublic(SQLModel):
    instruction: str
    accepted: bool
    reason: str | None
    detail: str | None
    max_rouge_l: float | None
    rouge_neighbor_id: int | None
    max_cosine: float | None
    cosine_neighbor_id: int | None
    id: int | None


class CandidateResult(SQLModel):
    decisions: list[DecisionPublic]
    accepted: int
    rejected: int


class SimilarItem(SQLModel):
    id: int
    instruction: str
    origin: str
    score: float


class SimilarResult(SQLModel):
    query: str
    items: list[SimilarItem]


# -------------------------------------------------------------- generation
class Generation(SQLModel, table=True):
    """The generation ledger: one row per completion the model returned."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    model_id: str
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sample_index: int = 0
    completion: str = Field(sa_column=Column(Text, nullable=False))
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None
    seconds: float
    parse_dropped: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class GenerationPublic(SQLModel):
    id: int
    job_id: int | None
    model_id: str
    prompt: str
    params: dict[str, Any]
    sample_index: int
    completion: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None
    seconds: float
    parse_dropped: list[dict[str, str]]
    created_at: datetime


# -------------------------------------------------------------------- jobs
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL_STATES = ("succeeded", "failed", "cancelled")


class JobCreate(SQLModel):
    target: int = Field(ge=1, le=100000, description="accepted instructions to add")
    max_requests: int | None = Field(default=None, ge=1, le=1000000)
    seed: int | None = None
    instances_per_task: int = Field(
        default=0, ge=0, le=20, description="then classify each accepted task and generate up to K instances"
    )


class Job(SQLModel, table=True):
    # one job per tick of a schedule, however many schedulers run it
    __table_args__ = (Index("uq_job_schedule_fire_time", "schedule_id", "fire_time", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    status: str = Field(default="queued", index=True, max_length=16)
    target: int
    max_requests: int
    seed: int | None = None
    instances_per_task: int = 0
    requests: int = 0
    generated: int = 0
    accepted: int = 0
    rejected: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
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
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id", index=True)
    fire_time: datetime | None = None


class JobPublic(SQLModel):
    id: int
    dataset: str
    status: str
    target: int
    max_requests: int
    instances_per_task: int = 0
    requests: int
    generated: int
    accepted: int
    rejected: int
    counts: dict[str, int]
    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None
    tokens_per_accepted: float | None = None
    cost_per_accepted: float | None = None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = 0
    schedule_id: int | None = None
    fire_time: datetime | None = None


# --------------------------------------------------------------- schedules
class ScheduleBase(SQLModel):
    cron: str = Field(max_length=128, description="5 fields, or 6 with seconds last (croniter)")
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone the cron is read in")
    target: int = Field(ge=1, le=100000, description="accepted instructions each run adds")
    max_requests: int | None = Field(default=None, ge=1, le=1000000)
    seed: int | None = None


class Schedule(ScheduleBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    paused: bool = False
    next_fire_at: datetime | None = Field(default=None, index=True)
    last_fire_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ScheduleCreate(ScheduleBase):
    dataset: str = Field(max_length=64)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from app.services.cron import check_cron

        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from app.services.cron import check_zone

        return check_zone(value)


class SchedulePublic(ScheduleBase):
    id: int
    dataset: str
    paused: bool
    next_fire_at: datetime | None
    last_fire_at: datetime | None


# --------------------------------------------------------------- instances
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
    created_at: datetime


class TaskInstancePage(SQLModel):
    items: list[TaskInstancePublic]
    next_cursor: str | None


# --------------------------------------------------------------- snapshots
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
