"""Prompt templates of a dataset (the ``template`` strategy): text with ``{slot}``s and value lists.

A slot's values are a list of strings, or ``{"from": "instructions" | "instance_inputs", "limit": N}``:
drawn, when a job starts, from the dataset's accepted instructions or its stored instances' inputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class StoredValues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["instructions", "instance_inputs"] = PydanticField(alias="from")
    limit: int = PydanticField(default=100, ge=1, le=1000)


class TemplateCreate(SQLModel):
    name: str = Field(max_length=64, min_length=1, regex=r"^[\w.-]+$")
    text: str = Field(min_length=1, max_length=5000)
    slots: dict[str, list[str] | StoredValues] = Field(min_length=1)


class Template(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    name: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    slots: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class TemplatePublic(SQLModel):
    id: int
    dataset: str
    name: str
    text: str
    slots: dict[str, object]
    created_at: datetime
