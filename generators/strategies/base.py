"""The generation-strategy interface: how a job asks the model for candidates.

A strategy turns what the dataset's pool holds (an :class:`ExampleSource`) and the job's random stream
into the next prompt. It never calls the model and never sees the database: the job runner sends the
prompt through the backend, parses the completion and hands the candidates to the decision chain, the
same for every strategy. A new strategy is one class in this folder, listed in ``STRATEGIES``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

from generators.prompts import Prompt


class ExampleSource(Protocol):
    """The texts a strategy may show the model: human-written seeds and accepted machine tasks."""

    def seed_texts(self) -> list[str]: ...

    def machine_texts(self) -> list[str]: ...


class GenerationStrategy(ABC):
    id: ClassVar[str]

    @abstractmethod
    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        """The prompt of the next request; ``rng`` is the job's stream, so a resumed job continues it."""
