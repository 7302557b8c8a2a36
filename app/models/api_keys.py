"""API keys: stored hashed (SHA-256 of the key), with their scopes; the key itself is never stored."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlmodel import Field, SQLModel

from app.models.common import utcnow

SCOPES = ("read", "write", "admin")  # each includes the ones before it


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    prefix: str = Field(max_length=16, description="the key's first characters, to tell keys apart")
    key_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class AuthPublic(SQLModel):
    """What the caller's key may do (with keys off: everything)."""

    keys_required: bool = Field(description="whether /v1 routes need an API key")
    scope: Literal["read", "write", "admin"] = Field(description="the scope the request holds")
