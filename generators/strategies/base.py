"""The generation-strategy interface: how a job asks the model for candidates.

A strategy turns what the dataset's pool holds (an :class:`ExampleSource`) and the job's random stream
into the next prompt. It never calls the model and never sees the database: the job runner sends the
prompt through the backend, parses the completion with :meth:`GenerationStrategy.parse` and hands the
candidates to the decision chain, the same for every strategy. A new strategy is one class in this
folder, listed in ``STRATEGIES``, with its settings as a pydantic model (``settings_model``) that the
service validates when a job is created.

What a strategy needs beyond the pool's texts comes through narrow protocols, injected by the service
in a :class:`StrategyContext`: the pool's items with ids (:class:`ItemSource`), a nearest-examples search
(:data:`NearestExamples`), stored templates, the model's chat template. Every prompt carries its
``lineage`` (the strategy and the parents it was built from), stored with each candidate.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from generators.parsing import ParseResult, parse_completion
from generators.prompts import Prompt


class ExampleSource(Protocol):
    """The texts a strategy may show the model: human-written seeds and accepted machine tasks."""

    def seed_texts(self) -> list[str]: ...

    def machine_texts(self) -> list[str]: ...


@dataclass(frozen=True)
class Example:
    id: int
    text: str


class ItemSource(ExampleSource, Protocol):
    """The same with the stored ids, so a prompt can name the examples it shows."""

    def seed_items(self) -> list[Example]: ...

    def machine_items(self) -> list[Example]: ...


# (query, k) → the k stored instructions nearest to the query, best first (the service's /similar search)
NearestExamples = Callable[[str, int], list[Example]]
# texts → their normalised vectors (rows), for diversity-aware example choice
EmbedTexts = Callable[[list[str]], Any]


@dataclass(frozen=True)
class TemplateSpec:
    """A stored template: text with ``{slot}`` placeholders and the values each slot takes."""

    id: int
    name: str
    text: str
    slots: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class StrategyContext:
    """What the service lends a strategy; each strategy uses only the parts it names."""

    nearest: NearestExamples | None = None
    embed: EmbedTexts | None = None
    templates: Sequence[TemplateSpec] = ()
    chat_prefix: str | None = None  # the model's chat template rendered up to the user turn's text
    extras: Mapping[str, Any] = field(default_factory=dict)


class StrategySettings(BaseModel):
    """Base of every strategy's settings: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyError(ValueError):
    """A strategy cannot run with these settings in this context; the message names the problem."""


class StrategyExhausted(Exception):
    """A strategy has nothing more to propose (e.g. every template expansion was sent)."""


def with_lineage(prompt: Prompt, strategy: str, **parents: Any) -> Prompt:
    return replace(prompt, lineage={"strategy": strategy, **parents})


class GenerationStrategy(ABC):
    id: ClassVar[str]
    settings_model: ClassVar[type[StrategySettings]] = StrategySettings
    calls_model: bool = True  # False: the prompt's text is itself the candidate
    needs_seed_tasks: ClassVar[bool] = False  # True: a dataset without seed tasks cannot run it

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> GenerationStrategy:
        """The strategy for a job; raises :class:`StrategyError` when the context cannot serve it."""
        return cls()

    @abstractmethod
    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        """The prompt of the next request; ``rng`` is the job's stream, so a resumed job continues it.

        Raises :class:`StrategyExhausted` when there is nothing more to ask."""

    def parse(self, prompt: Prompt, text: str | None, finish_reason: str | None) -> ParseResult:
        """The candidates of one completion of ``prompt`` (a numbered list unless overridden)."""
        return parse_completion(text, finish_reason)


def settings_error(exc: Exception) -> str:
    """A pydantic validation error as ``field: message; …``."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    parts = []
    for error in errors():
        where = ".".join(str(p) for p in error.get("loc", ())) or "settings"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def pick_items(items: Sequence[Example], rng: random.Random, k: int) -> list[Example]:
    return rng.sample(list(items), min(k, len(items)))
