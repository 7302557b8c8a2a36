"""Self-Instruct prompts: a numbered list of example tasks the model continues.

Base models get the paper's numbered-list continuation ("Come up with a series of tasks:" then ``1.``
… ``8.`` and an open ``9.``). Chat models get the same list as the user turn, a one-line request for the
next tasks, and an assistant turn already begun with ``9.`` so the chat template is honoured and the
reply continues the list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

T = TypeVar("T")


def template_text(name: str) -> str:
    """The text of ``generators/templates/NAME``."""
    return resources.files("generators").joinpath("templates", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Prompt:
    """What a backend needs: plain text for base models, messages for chat models."""

    text: str
    messages: tuple[dict[str, str], ...]
    first_number: int
    kind: str = "tasks"  # tasks | classification | instances_input_first | instances_output_first
    # the strategy and the parents this prompt was built from (stored with each candidate it yields)
    lineage: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    raw: bool = False  # send ``text`` as a plain completion, even to a chat model (no chat template)


def clean_instruction(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(":")


def choose_examples(
    human: Sequence[T],
    machine: Sequence[T],
    rng: random.Random,
    n_human: int,
    n_machine: int,
) -> list[T]:
    """Self-Instruct's mix: ``n_human`` seeds and up to ``n_machine`` accepted machine tasks, shuffled.

    When fewer machine tasks exist, seeds fill their places so the prompt keeps its length.
    """
    machine_pick = rng.sample(list(machine), min(n_machine, len(machine)))
    human_pick = rng.sample(list(human), min(len(human), n_human + n_machine - len(machine_pick)))
    examples = human_pick + machine_pick
    rng.shuffle(examples)
    return examples


def build_prompt(examples: Sequence[str], n_new: int = 8) -> Prompt:
    if not examples:
        raise ValueError("a prompt needs at least one example task")
    numbered = "".join(f"{i}. {clean_instruction(e)}\n" for i, e in enumerate(examples, start=1))
    header = template_text("self_instruct_header.txt")
    first = len(examples) + 1
    request = template_text("self_instruct_chat_request.txt").format(
        n_new=n_new, first=first, last=first + n_new - 1
    )
    text = f"{header}{numbered}{first}."
    messages = (
        {"role": "user", "content": f"{header}{numbered}{request}"},
        {"role": "assistant", "content": f"{first}."},
    )
    return Prompt(text=text, messages=messages, first_number=first)
