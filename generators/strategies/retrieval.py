"""Retrieval-steered Self-Instruct: the prompt's examples are stored instructions nearest to a query.

The query is ``query`` or, without one, the dataset's domain description. Nearest means what
``/similar`` answers (the same search, injected by the service as a :data:`NearestExamples`), over this
dataset's pool or ``source_dataset``'s. Each prompt shows ``n_examples`` drawn from the ``k`` nearest,
so prompts vary while staying in the domain; the lineage names the retrieved ids and those shown.
"""

from __future__ import annotations

import random

from pydantic import Field, model_validator

from generators.prompts import Prompt, build_prompt
from generators.strategies.base import (
    ExampleSource,
    GenerationStrategy,
    NearestExamples,
    StrategyContext,
    StrategyError,
    StrategyExhausted,
    StrategySettings,
    with_lineage,
)


class RetrievalSettings(StrategySettings):
    query: str | None = Field(default=None, min_length=1, max_length=2000)
    source_dataset: str | None = Field(default=None, min_length=1, max_length=64)
    k: int = Field(default=16, ge=1, le=100, description="nearest instructions retrieved")
    n_examples: int = Field(default=8, ge=1, le=20, description="of them shown in one prompt")

    @model_validator(mode="after")
    def _fits(self) -> RetrievalSettings:
        if self.n_examples > self.k:
            raise ValueError("n_examples must not exceed k")
        return self


class RetrievalStrategy(GenerationStrategy):
    id = "retrieval"
    settings_model = RetrievalSettings

    def __init__(self, query: str, nearest: NearestExamples, settings: RetrievalSettings) -> None:
        self.query = query
        self.nearest = nearest
        self.settings = settings

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> RetrievalStrategy:
        assert isinstance(settings, RetrievalSettings)
        query = settings.query or str(context.extras.get("domain_description") or "").strip()
        if not query:
            raise StrategyError(
                "strategy_settings.query: give a query, or describe the dataset's domain (description)"
            )
        if context.nearest is None:
            raise StrategyError("strategy_settings: retrieval needs the embedding model")
        return cls(query, context.nearest, settings)

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        retrieved = self.nearest(self.query, self.settings.k)
        if not retrieved:
            raise StrategyExhausted("the retrieval search found no instructions")
        shown = rng.sample(retrieved, min(self.settings.n_examples, len(retrieved)))
        return with_lineage(
            build_prompt([e.text for e in shown]),
            self.id,
            query=self.query,
            source_dataset=self.settings.source_dataset,
            retrieved_ids=[e.id for e in retrieved],
            example_ids=[e.id for e in shown],
        )
