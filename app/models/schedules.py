"""Schedules: tables and API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from app.core.limits import INT4_MAX
from app.models.common import utcnow


class ScheduleBase(SQLModel):
    cron: str = Field(max_length=128, description="5 fields, or 6 with seconds last (croniter)")
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone the cron is read in")
    target: int = Field(ge=1, le=100000, description="accepted instructions each run adds")
    max_requests: int | None = Field(default=None, ge=1, le=1000000)
    seed: int | None = Field(default=None, ge=0, le=INT4_MAX, description="repeat a run exactly")


class Schedule(ScheduleBase, table=True):
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (migration 0007)

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
        from app.jobs.cron import check_cron

        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from app.jobs.cron import check_zone

        return check_zone(value)


class SchedulePublic(ScheduleBase):
    id: int
    dataset: str
    paused: bool
    next_fire_at: datetime | None
    last_fire_at: datetime | None
