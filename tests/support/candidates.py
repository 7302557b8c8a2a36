"""A candidate as the decision chain takes it (``filters.decision.CandidateText``), for filter tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    text: str
    origin: str = "generated"
