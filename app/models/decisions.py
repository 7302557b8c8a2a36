"""The fields of a decision, declared once: stored on every instruction row and returned by the API.

They are :class:`filters.decision.Decision`'s fields under the same names (a test holds the two together).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class DecisionFields(SQLModel):
    accepted: bool = Field(index=True)
    rule: str | None = Field(default=None, index=True, max_length=64, description="the rejecting rule id")
    detail: str | None = None
    max_rouge_l: float | None = None
    rouge_neighbor_id: int | None = None
    max_cosine: float | None = None
    cosine_neighbor_id: int | None = None
    relevance: float | None = Field(default=None, description="cosine similarity to the dataset's domain")
    judge_score: float | None = Field(default=None, description="the judge's overall score, 1-5")
    judge_expected: float | None = Field(
        default=None, description="the expected overall score over the score tokens' probabilities"
    )
