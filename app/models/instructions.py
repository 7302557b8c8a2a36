"""Instructions: tables and API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import utcnow
from app.models.decisions import DecisionFields

INSTANCE_STAGE_PENDING = "pending"
INSTANCE_STAGE_DONE = "done"
INSTANCE_STAGES = (INSTANCE_STAGE_PENDING, INSTANCE_STAGE_DONE)


def initial_instance_stage(origin: str, accepted: bool) -> str | None:
    """``instance_stage`` of a new row: ``pending`` for an accepted non-seed task, else None."""
    return INSTANCE_STAGE_PENDING if accepted and origin != "seed" else None


SCORED_COLUMNS = ("relevance", "judge_score", "judge_expected", "max_cosine", "max_rouge_l")


def score_index_columns(name: str) -> tuple[str, ...]:
    """A score's index: its histogram by range counts; ``judge_expected``'s also holds ``judge_score``, so
    the review queue (lowest judge confidence first) sorts ids without visiting the rows."""
    return ("dataset_id", "accepted", name, "origin", *(("judge_score",) if name == "judge_expected" else ()))


# What ``GET …/stats`` reads, each from one index without visiting the rows (app/datasets/score_stats.py):
# counts per origin, decision, rule, job, strategy and recipe in one ordered pass; each score's histogram
# by range counts per bin; the novelty curve and a job's timeline in arrival order. Migration 0011.
STATS_INDEXES = (
    Index("ix_instruction_tally", "dataset_id", "origin", "accepted", "rule", "job_id", "strategy", "recipe"),
    Index("ix_instruction_arrival", "dataset_id", "id", "origin", "accepted"),
    Index("ix_instruction_job_arrival", "job_id", "id", "origin", "accepted", "rule"),  # timeline, curve
    *(Index(f"ix_instruction_{name}", *score_index_columns(name)) for name in SCORED_COLUMNS),
)


class Instruction(DecisionFields, table=True):
    """One instruction a dataset has seen, with its decision.

    ``instance_stage`` says where a task stands in the stage after acceptance (classification and
    instances, app/pipeline/instance_stage.py): ``pending`` — accepted, not through the stage yet (every
    accepted non-seed row starts so, see :func:`initial_instance_stage`); ``done`` — through the stage, or
    imported with its own instances; None — not part of the stage (seeds, which bring their instances,
    and rejected candidates). ``instances`` holds the accepted instances and says nothing about the stage.
    """

    __table_args__ = (
        UniqueConstraint("dataset_id", "origin_key"),
        *STATS_INDEXES,
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    origin: str = Field(max_length=16)  # seed | generated | submitted | ingested
    origin_key: str | None = Field(default=None, max_length=128)  # idempotency key of the source
    instruction: str = Field(sa_column=Column(Text, nullable=False))
    name: str | None = None
    instances: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    is_classification: bool | None = None
    instance_stage: str | None = Field(default=None, index=True, max_length=16)  # pending | done | None
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    generation_id: int | None = Field(default=None, foreign_key="generation.id")
    strategy: str | None = Field(default=None, max_length=32)  # how the prompt was built
    lineage: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # the prompt's parents
    # the lineage keys naming how the prompt was built (generators/strategies/recipe.py), for the stats
    recipe: str | None = Field(default=None, max_length=256)
    # the judge's whole verdict: criteria scores, rationale, judge model, its ledger row (issue: quality)
    judge: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class InstructionPublic(DecisionFields):
    id: int
    dataset: str
    origin: str
    instruction: str
    instances: list[dict[str, str]] | None = None
    is_classification: bool | None = None
    instance_stage: str | None = None
    job_id: int | None = None
    generation_id: int | None = None
    strategy: str | None = None
    lineage: dict[str, Any] | None = None
    judge: dict[str, Any] | None = None  # the judge's whole verdict (scores, error, its ledger row)
    created_at: datetime


class InstructionPage(SQLModel):
    items: list[InstructionPublic]
    next_cursor: str | None


MAX_INSTRUCTION_CHARS = 10_000  # one instruction: a seed, a candidate or a /similar query


class InstanceIn(SQLModel):
    input: str = Field(default="", max_length=20000)
    output: str = Field(min_length=1, max_length=20000)


class SeedIn(SQLModel):
    instruction: str = Field(min_length=1, max_length=MAX_INSTRUCTION_CHARS)
    instances: list[InstanceIn] = Field(min_length=1, max_length=100)
    is_classification: bool = False
    name: str | None = Field(default=None, max_length=200)


class SeedUpload(SQLModel):
    tasks: list[SeedIn] = Field(min_length=1, max_length=10000)


class SeedUploadResult(SQLModel):
    added: int
    skipped_duplicates: int
    seed_count: int


class CandidateSubmit(SQLModel):
    instructions: list[Annotated[str, StringConstraints(max_length=MAX_INSTRUCTION_CHARS)]] = Field(
        min_length=1,
        max_length=1000,
        schema_extra={"examples": [["Suggest three names for a bakery that sells only sourdough bread."]]},
    )


class DecisionPublic(DecisionFields):
    instruction: str
    id: int | None = Field(description="the stored row (rejected candidates are stored too)")


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
