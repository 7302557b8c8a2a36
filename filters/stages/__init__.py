"""Registered decision stages by id. A new stage is one class in its own module, listed here."""

from __future__ import annotations

from filters.stages.base import DecisionStage
from filters.stages.cut_off import CutOffStage
from filters.stages.embedding import EmbeddingStage
from filters.stages.exact import ExactStage
from filters.stages.heuristics import HeuristicsStage
from filters.stages.judge import JudgeStage
from filters.stages.leftover_template import LeftoverTemplateStage
from filters.stages.prompt_echo import PromptEchoStage
from filters.stages.relevance import RelevanceStage
from filters.stages.rouge import RougeStage
from filters.stages.statement import StatementStage

STAGES: dict[str, type[DecisionStage]] = {
    stage.id: stage
    for stage in (
        HeuristicsStage,
        PromptEchoStage,
        StatementStage,
        CutOffStage,
        LeftoverTemplateStage,
        RelevanceStage,
        ExactStage,
        RougeStage,
        EmbeddingStage,
        JudgeStage,
    )
}
RULE_IDS: tuple[str, ...] = tuple(dict.fromkeys(rule for stage in STAGES.values() for rule in stage.rule_ids))
"""Every rule id a dataset may switch off (``disabled_rules``)."""
