"""Registered decision stages by id. A new stage is one class in its own module, listed here."""

from __future__ import annotations

from filters.stages.base import DecisionStage
from filters.stages.embedding import EmbeddingStage
from filters.stages.exact import ExactStage
from filters.stages.heuristics import HeuristicsStage
from filters.stages.rouge import RougeStage

STAGES: dict[str, type[DecisionStage]] = {
    stage.id: stage for stage in (HeuristicsStage, ExactStage, RougeStage, EmbeddingStage)
}
