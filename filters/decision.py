"""What the chain says about one candidate: accepted or the rule that rejected it, and what it measured.

:class:`Decision` is the one declaration of a decision's fields. The service stores them as columns of the
same names and returns them under the same names (``app/models/decisions.py`` checks that it matches).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Decision:
    accepted: bool
    rule: str | None = None
    detail: str | None = None
    max_rouge_l: float | None = None
    rouge_neighbor_id: int | None = None
    max_cosine: float | None = None
    cosine_neighbor_id: int | None = None
    relevance: float | None = None  # cosine to the dataset's domain (the relevance stage)
    judge_score: float | None = None  # the judge's sampled overall score, 1-5
    judge_expected: float | None = None  # the expected overall score over the score tokens' probabilities


DECISION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Decision))
# what stages may record: every field but the verdict itself
SCORE_FIELDS: tuple[str, ...] = DECISION_FIELDS[3:]


class CandidateText(Protocol):
    """Anything with the text to decide and the origin it joins the pool with (``generated`` …)."""

    @property
    def text(self) -> str: ...

    @property
    def origin(self) -> str: ...


@dataclass(frozen=True)
class Decided:
    """One candidate's decision, the vector it was embedded to (if any) and its pool id once accepted."""

    decision: Decision
    vector: np.ndarray | None
    item_id: int | None
