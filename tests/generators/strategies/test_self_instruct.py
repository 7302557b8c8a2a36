"""SelfInstructStrategy: the dataset's mix of seeds and machine tasks, from the job's random stream."""

from __future__ import annotations

import random

from generators.prompts import build_prompt, choose_examples
from generators.strategies import STRATEGIES, SelfInstructStrategy


class Source:
    def __init__(self, seeds: list[str], machine: list[str]) -> None:
        self.seeds, self.machine = seeds, machine

    def seed_texts(self) -> list[str]:
        return self.seeds

    def machine_texts(self) -> list[str]:
        return self.machine


SEEDS = [f"Seed task number {i}." for i in range(20)]
MACHINE = [f"Machine task number {i}." for i in range(5)]


def test_the_prompt_is_self_instructs_numbered_list_of_the_configured_mix():
    prompt = SelfInstructStrategy(3, 1).next_prompt(Source(SEEDS, MACHINE), random.Random(7))
    expected = build_prompt(choose_examples(SEEDS, MACHINE, random.Random(7), 3, 1))
    assert prompt == expected
    listed = [line for line in prompt.text.splitlines() if line[:1].isdigit()]
    assert sum("Machine" in line for line in listed) == 1 and prompt.first_number == 5


def test_the_default_mix_is_six_seeds_and_two_machine_tasks():
    prompt = SelfInstructStrategy().next_prompt(Source(SEEDS, MACHINE), random.Random(1))
    assert prompt.first_number == 9
    assert prompt.text.count("Machine task") == 2


def test_registered_by_id():
    assert STRATEGIES["self_instruct"] is SelfInstructStrategy
