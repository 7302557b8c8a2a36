"""Registered generation strategies by id."""

from __future__ import annotations

from generators.strategies.base import ExampleSource, GenerationStrategy
from generators.strategies.self_instruct import SelfInstructStrategy

STRATEGIES: dict[str, type[GenerationStrategy]] = {SelfInstructStrategy.id: SelfInstructStrategy}

__all__ = ["STRATEGIES", "ExampleSource", "GenerationStrategy", "SelfInstructStrategy"]
