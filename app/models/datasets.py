"""Datasets: tables and API schemas."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import field_validator
from sqlalchemy import JSON, Column, Integer, Text
from sqlmodel import Field, SQLModel

from app.models.common import NAME_PATTERN, utcnow
from filters.stages.base import DEFAULT_EMBEDDING_THRESHOLD, DEFAULT_ROUGE_THRESHOLD
from generators.strategies.self_instruct import DEFAULT_HUMAN_EXAMPLES, DEFAULT_MACHINE_EXAMPLES


class DatasetBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=64)
    description: str = Field(default="", max_length=2000)
    rouge_threshold: float = Field(default=DEFAULT_ROUGE_THRESHOLD, ge=0.0, le=1.0)
    embedding_threshold: float = Field(default=DEFAULT_EMBEDDING_THRESHOLD, ge=0.0, le=1.0)
    heuristics_preset: str = Field(default="self_instruct", max_length=32)
    disabled_rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    num_human_examples: int = Field(default=DEFAULT_HUMAN_EXAMPLES, ge=1, le=32)
    num_machine_examples: int = Field(default=DEFAULT_MACHINE_EXAMPLES, ge=0, le=32)
    domain: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    relevance_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    judge_threshold: float | None = Field(default=None, ge=1.0, le=5.0)


class Dataset(DatasetBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # bumped by every applied replay, so other processes' pools know to reload (app/pipeline/pool_reload.py)
    decisions_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow)


# DatasetBase's fields in its order, except that the thresholds and the heuristics preset may be left out
# (None: the server's settings apply); so not a subclass of DatasetBase, whose table model requires them.
class DatasetCreate(SQLModel):
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=2000)
    rouge_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    embedding_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    heuristics_preset: str | None = None
    disabled_rules: list[str] = Field(default_factory=list)
    num_human_examples: int = Field(default=DEFAULT_HUMAN_EXAMPLES, ge=1, le=32)
    num_machine_examples: int = Field(default=DEFAULT_MACHINE_EXAMPLES, ge=0, le=32)
    domain: str = Field(default="", max_length=2000)  # empty: no relevance stage
    relevance_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    judge_threshold: float | None = Field(default=None, ge=1.0, le=5.0)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not re.fullmatch(NAME_PATTERN, value):
            raise ValueError("use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value

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
        from filters.stages import RULE_IDS

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
