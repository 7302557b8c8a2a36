"""Generation: tables and API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class Generation(SQLModel, table=True):
    """The generation ledger: one row per completion the model returned.

    A request's prompt is stored once, in its first row; the request's other rows have no ``prompt`` and
    name that row in ``prompt_in`` (:func:`app.pipeline.ledger.generations_public` puts it back).
    """

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    model_id: str
    prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prompt_in: int | None = Field(default=None, foreign_key="generation.id", index=True)
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
