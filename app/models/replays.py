"""Replays (re-deciding a dataset's stored candidates) and the decision history: tables and API schemas.

The instruction row holds the current decision; every decision a replay changed is kept in
``decision_change`` with the new one, the replay and its reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.models.common import utcnow

MAX_EXAMPLES = 50


class Replay(SQLModel, table=True):
    """One applied replay: the settings it decided with and what it changed."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decided: int = 0
    changed: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class DecisionChange(SQLModel, table=True):
    """An instruction's decision before and after a replay (the history the instruction row lacks)."""

    __tablename__ = "decision_change"

    id: int | None = Field(default=None, primary_key=True)
    replay_id: int = Field(foreign_key="replay.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    instruction_id: int = Field(foreign_key="instruction.id", index=True)
    old_accepted: bool
    new_accepted: bool
    old_rule: str | None = Field(default=None, max_length=64)
    new_rule: str | None = Field(default=None, max_length=64)
    old: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    new: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ReplayRequest(SQLModel):
    """New thresholds and rules (left out: the dataset's own); nothing calls a model."""

    rouge_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    embedding_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    relevance_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    judge_threshold: float | None = Field(default=None, ge=1.0, le=5.0)
    disabled_rules: list[str] | None = Field(default=None, description="rule ids switched off (all of them)")
    reason: str = Field(default="", max_length=2000, description="kept with every changed decision")
    examples: int = Field(default=5, ge=0, le=MAX_EXAMPLES, description="examples per transition")

    @field_validator("disabled_rules")
    @classmethod
    def _known_rules(cls, value: list[str] | None) -> list[str] | None:
        from filters.stages import RULE_IDS

        known = dict.fromkeys(RULE_IDS)
        unknown = sorted(set(value or ()) - set(known))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; rules: {', '.join(known)}")
        return value


class ReplayExample(SQLModel):
    id: int
    instruction: str
    old_rule: str | None
    new_rule: str | None
    detail: str | None


class ReplayTransition(SQLModel):
    """Decisions that go from ``old`` to ``new`` (a rule id, or ``accepted``)."""

    old: str
    new: str
    count: int
    examples: list[ReplayExample]


class ReplayReport(SQLModel):
    dataset: str
    applied: bool
    replay_id: int | None = None
    settings: dict[str, Any]
    seeds: int
    decided: int = Field(description="candidates re-decided, in the order they were first decided")
    flipped: int = Field(description="accepted ↔ rejected")
    newly_accepted: int
    newly_rejected: int
    rule_changed: int = Field(description="still rejected, by another rule")
    embedded: int = Field(description="candidates with no stored vector, embedded for the replay")
    transitions: list[ReplayTransition]


class ReplayPublic(SQLModel):
    id: int
    dataset: str
    reason: str
    settings: dict[str, Any]
    decided: int
    changed: int
    created_at: datetime


class DecisionChangePublic(SQLModel):
    id: int
    replay_id: int
    instruction_id: int
    old_accepted: bool
    new_accepted: bool
    old_rule: str | None
    new_rule: str | None
    old: dict[str, Any]
    new: dict[str, Any]
    reason: str
    created_at: datetime
