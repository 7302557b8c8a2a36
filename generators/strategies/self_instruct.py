"""Self-Instruct's bootstrap: a numbered list of seeds and accepted machine tasks the model continues.

``example_choice``: ``uniform`` (the paper's random draw) or ``diverse``: from a random shortlist of
``shortlist_factor`` times as many candidates, examples are picked greedily farthest from those already
picked (farthest-point in the embedding space), so one prompt shows tasks unlike each other.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from generators.prompts import Prompt, build_prompt, choose_examples
from generators.strategies.base import (
    EmbedTexts,
    Example,
    ExampleSource,
    GenerationStrategy,
    StrategyContext,
    StrategyError,
    StrategySettings,
    with_lineage,
)

DEFAULT_HUMAN_EXAMPLES = 6
DEFAULT_MACHINE_EXAMPLES = 2


class SelfInstructSettings(StrategySettings):
    example_choice: Literal["uniform", "diverse"] = "uniform"
    shortlist_factor: int = Field(default=4, ge=1, le=50)


class SelfInstructStrategy(GenerationStrategy):
    id = "self_instruct"
    settings_model = SelfInstructSettings
    needs_seed_tasks = True  # its prompt shows human-written seed tasks

    def __init__(
        self,
        n_human: int = DEFAULT_HUMAN_EXAMPLES,
        n_machine: int = DEFAULT_MACHINE_EXAMPLES,
        settings: SelfInstructSettings | None = None,
        embed: EmbedTexts | None = None,
    ) -> None:
        self.n_human = n_human
        self.n_machine = n_machine
        self.settings = settings or SelfInstructSettings()
        self.embed = embed
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> SelfInstructStrategy:
        assert isinstance(settings, SelfInstructSettings)
        if settings.example_choice == "diverse" and context.embed is None:
            raise StrategyError("strategy_settings.example_choice: 'diverse' needs the embedding model")
        return cls(
            int(context.extras.get("n_human", DEFAULT_HUMAN_EXAMPLES)),
            int(context.extras.get("n_machine", DEFAULT_MACHINE_EXAMPLES)),
            settings,
            context.embed,
        )

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        items = getattr(source, "seed_items", None)
        if items is None:  # a plain text source: no ids to record
            examples = choose_examples(
                source.seed_texts(), source.machine_texts(), rng, self.n_human, self.n_machine
            )
            return with_lineage(build_prompt(examples), self.id, example_choice=self.settings.example_choice)
        seeds: list[Example] = source.seed_items()  # type: ignore[attr-defined]
        machine: list[Example] = source.machine_items()  # type: ignore[attr-defined]
        if self.settings.example_choice == "diverse" and self.embed is not None:
            chosen = self._diverse(seeds, machine, rng)
        else:
            chosen = choose_examples(seeds, machine, rng, self.n_human, self.n_machine)
        return with_lineage(
            build_prompt([e.text for e in chosen]),
            self.id,
            example_choice=self.settings.example_choice,
            example_ids=[e.id for e in chosen],
        )

    def _diverse(self, seeds: list[Example], machine: list[Example], rng: random.Random) -> list[Example]:
        n_machine = min(self.n_machine, len(machine))
        n_human = min(len(seeds), self.n_human + self.n_machine - n_machine)
        factor = self.settings.shortlist_factor
        picked: list[Example] = []
        for group, n in ((seeds, n_human), (machine, n_machine)):
            shortlist = rng.sample(group, min(len(group), n * factor))
            picked += self._farthest(shortlist, n, picked, rng)
        rng.shuffle(picked)
        return picked

    def _farthest(
        self, shortlist: list[Example], n: int, already: list[Example], rng: random.Random
    ) -> list[Example]:
        if n <= 0 or not shortlist:
            return []
        vectors = self._vectors_of([e.text for e in shortlist + already])
        cand, chosen_vectors = vectors[: len(shortlist)], list(vectors[len(shortlist) :])
        picked: list[int] = []
        if not chosen_vectors:
            first = rng.randrange(len(shortlist))
            picked.append(first)
            chosen_vectors.append(cand[first])
        while len(picked) < n:
            nearest = (cand @ np.stack(chosen_vectors).T).max(axis=1)
            nearest[picked] = np.inf
            best = int(np.argmin(nearest))
            picked.append(best)
            chosen_vectors.append(cand[best])
        return [shortlist[i] for i in picked]

    def _vectors_of(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing and self.embed is not None:
            for text, vector in zip(missing, np.asarray(self.embed(missing)), strict=True):
                self._vectors[text] = vector
        return np.stack([self._vectors[t] for t in texts])
