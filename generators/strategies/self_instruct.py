"""Self-Instruct's bootstrap: a numbered list of seeds and accepted machine tasks the model continues."""

from __future__ import annotations

import random

from generators.prompts import Prompt, build_prompt, choose_examples
from generators.strategies.base import ExampleSource, GenerationStrategy

DEFAULT_HUMAN_EXAMPLES = 6
DEFAULT_MACHINE_EXAMPLES = 2


class SelfInstructStrategy(GenerationStrategy):
    id = "self_instruct"

    def __init__(
        self, n_human: int = DEFAULT_HUMAN_EXAMPLES, n_machine: int = DEFAULT_MACHINE_EXAMPLES
    ) -> None:
        self.n_human = n_human
        self.n_machine = n_machine

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        examples = choose_examples(
            source.seed_texts(), source.machine_texts(), rng, self.n_human, self.n_machine
        )
        return build_prompt(examples)
