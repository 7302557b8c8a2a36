"""Registered generation strategies by id."""

from __future__ import annotations

from generators.strategies.base import (
    Example,
    ExampleSource,
    GenerationStrategy,
    ItemSource,
    StrategyContext,
    StrategyError,
    StrategyExhausted,
    StrategySettings,
    TemplateSpec,
)
from generators.strategies.evol import EvolStrategy
from generators.strategies.magpie import MagpieStrategy
from generators.strategies.retrieval import RetrievalStrategy
from generators.strategies.self_instruct import SelfInstructStrategy
from generators.strategies.template import TemplateStrategy

STRATEGIES: dict[str, type[GenerationStrategy]] = {
    s.id: s for s in (SelfInstructStrategy, TemplateStrategy, RetrievalStrategy, EvolStrategy, MagpieStrategy)
}
DEFAULT_STRATEGY = SelfInstructStrategy.id

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "EvolStrategy",
    "Example",
    "ExampleSource",
    "GenerationStrategy",
    "ItemSource",
    "MagpieStrategy",
    "RetrievalStrategy",
    "SelfInstructStrategy",
    "StrategyContext",
    "StrategyError",
    "StrategyExhausted",
    "StrategySettings",
    "TemplateSpec",
    "TemplateStrategy",
]
