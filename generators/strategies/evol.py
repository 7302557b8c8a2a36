"""Evol-Instruct: rewrite a stored instruction deeper (harder) or broader (a new task of the same domain).

Each prompt takes one parent from the pool (accepted machine tasks, or seeds as well) and one of the
``operations`` chosen by the job's random stream. A failed evolution is dropped before the decision
chain, with its reason in the ledger: ``evol_unchanged`` (the same text as the parent),
``evol_copied_prompt`` (the reply repeats the request's own wording), ``evol_shorter`` (a depth
operation that made the task shorter than its parent); one the chain rejects is stored as a rejected
candidate with its rule, like any other.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import Field, field_validator

from generators.parsing import Dropped, ParseResult, parse_single
from generators.prompts import Prompt, template_text
from generators.strategies.base import (
    ExampleSource,
    GenerationStrategy,
    ItemSource,
    StrategyContext,
    StrategyExhausted,
    StrategySettings,
)

DEPTH_OPERATIONS = {
    "add_constraints": "Add one more constraint or requirement to the instruction.",
    "deepen": "Make the instruction ask about the topic in more depth and breadth.",
    "concretize": "Replace general concepts in the instruction with more specific ones.",
    "increase_reasoning": "Rewrite the instruction so that answering it needs several reasoning steps.",
    "complicate_input": "Make the input the instruction works on more complex, e.g. add data or a table.",
}
BREADTH_OPERATIONS = {
    "mutate": "Create a brand-new instruction in the same domain as this one, but rarer and different.",
}
OPERATIONS = {**DEPTH_OPERATIONS, **BREADTH_OPERATIONS}
_PROMPT_MARKERS = ("rewritten instruction", "instruction rewriter", "#given prompt#", "#rewritten prompt#")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


class EvolSettings(StrategySettings):
    operations: list[str] = Field(default_factory=lambda: list(OPERATIONS), min_length=1)
    parents: Literal["machine", "pool"] = "pool"

    @field_validator("operations")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in OPERATIONS:
                raise ValueError(f"unknown operation {name!r}; operations: {', '.join(OPERATIONS)}")
        return value


class EvolStrategy(GenerationStrategy):
    id = "evol"
    settings_model = EvolSettings

    def __init__(self, settings: EvolSettings) -> None:
        self.settings = settings

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> EvolStrategy:
        assert isinstance(settings, EvolSettings)
        return cls(settings)

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        assert hasattr(source, "machine_items"), "evol needs the pool's ids"
        items: ItemSource = source  # type: ignore[assignment]
        parents = items.machine_items()
        if self.settings.parents == "pool" or not parents:
            parents = parents + items.seed_items()
        if not parents:
            raise StrategyExhausted("no instruction to evolve")
        parent = rng.choice(parents)
        operation = rng.choice(self.settings.operations)
        request = template_text("evol_request.txt").format(
            operation=OPERATIONS[operation], instruction=parent.text
        )
        return Prompt(
            text=request,
            messages=({"role": "user", "content": request},),
            first_number=1,
            kind="evol",
            lineage={
                "strategy": self.id,
                "operation": operation,
                "direction": "depth" if operation in DEPTH_OPERATIONS else "breadth",
                "parent_id": parent.id,
                "parent": parent.text,
            },
        )

    def parse(self, prompt: Prompt, text: str | None, finish_reason: str | None) -> ParseResult:
        result = parse_single(text, finish_reason)
        lineage = prompt.lineage or {}
        parent = str(lineage.get("parent", ""))
        kept: list[str] = []
        for item in result.instructions:
            reason = evolution_failure(item, parent, str(lineage.get("operation", "")))
            if reason is None:
                kept.append(item)
            else:
                result.dropped.append(Dropped(item, reason))
        result.instructions = kept
        return result


def evolution_failure(evolved: str, parent: str, operation: str) -> str | None:
    """Why an evolution failed, or None when it is a real rewrite."""
    if _norm(evolved) == _norm(parent):
        return "evol_unchanged"
    lowered = evolved.casefold()
    if any(marker in lowered for marker in _PROMPT_MARKERS) or (
        operation in OPERATIONS and _norm(OPERATIONS[operation]) in _norm(evolved)
    ):
        return "evol_copied_prompt"
    if operation in DEPTH_OPERATIONS and len(_norm(evolved)) < len(_norm(parent)):
        return "evol_shorter"
    return None
