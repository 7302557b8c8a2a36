"""Human reviews of instructions and instances: tables and API schemas.

A review row is one verdict; a target's rows are its history and the newest is its current state (no row:
``unreviewed``). An ``edited`` verdict keeps the edited text beside the original, which stays as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import model_validator
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.core.limits import INT4_MAX
from app.models.common import utcnow

REVIEW_STATES = ("unreviewed", "approved", "rejected", "edited")
ReviewState = Literal["unreviewed", "approved", "rejected", "edited"]
ReviewKind = Literal["instruction", "instance"]
MAX_EDIT_CHARS = 20_000


class Review(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    instruction_id: int | None = Field(default=None, foreign_key="instruction.id", index=True)
    instance_id: int | None = Field(default=None, foreign_key="task_instance.id", index=True)
    state: str = Field(max_length=16)
    reviewer: str = Field(max_length=64)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    edited_text: str | None = Field(default=None, sa_column=Column(Text))  # instruction, or instance output
    edited_input: str | None = Field(default=None, sa_column=Column(Text))  # an instance's input
    created_at: datetime = Field(default_factory=utcnow)


class ReviewCreate(SQLModel):
    """One verdict on one instruction or one instance of the dataset."""

    instruction_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    instance_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    state: ReviewState
    reviewer: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)
    edited_text: str | None = Field(
        default=None, max_length=MAX_EDIT_CHARS, description="edited: the instruction, or the instance output"
    )
    edited_input: str | None = Field(
        default=None, max_length=MAX_EDIT_CHARS, description="edited: an instance's input"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReviewCreate:
        if (self.instruction_id is None) == (self.instance_id is None):
            raise ValueError("give exactly one of instruction_id and instance_id")
        if self.state == "edited":
            if self.edited_text is None or not self.edited_text.strip():
                raise ValueError("an edited review needs a non-empty edited_text")
        elif self.edited_text is not None or self.edited_input is not None:
            raise ValueError(f"only an edited review carries edited text, not {self.state!r}")
        if self.edited_input is not None and self.instance_id is None:
            raise ValueError("edited_input is an instance's input; this review is of an instruction")
        return self


class ReviewPublic(SQLModel):
    id: int
    dataset: str
    kind: ReviewKind
    target_id: int
    state: ReviewState
    reviewer: str
    note: str
    edited_text: str | None
    edited_input: str | None
    created_at: datetime


class QueueItem(SQLModel):
    """A candidate waiting for (or open to) review, with what the judge and the filters said of it."""

    kind: ReviewKind
    id: int
    instruction_id: int
    instruction: str
    input: str | None = None
    output: str | None = None
    accepted: bool
    rule: str | None
    judge_score: float | None
    judge_expected: float | None
    confidence: float | None = Field(description="judge_expected, else judge_score (None: not judged)")
    review_state: ReviewState


class ReviewQueue(SQLModel):
    order: Literal["confidence", "sample"]
    items: list[QueueItem]


class Agreement(SQLModel):
    """The judge (accepts at ``threshold``) against the reviewers (approved or edited accept)."""

    dataset: str
    kind: ReviewKind
    threshold: float
    items: int = Field(description="items with a judge score and a reviewer verdict")
    accuracy: float | None
    cohen_kappa: float | None
    confusion: dict[str, dict[str, int]] = Field(
        description="confusion[judge][reviewer], each 'accept' or 'reject'"
    )
