"""Self-Instruct prompts: numbered examples with an open final number; the example mix."""

from __future__ import annotations

import random

import pytest

from generators.parsing import parse_completion
from generators.prompts import build_prompt, choose_examples, clean_instruction
from generators.strategies.self_instruct import DEFAULT_HUMAN_EXAMPLES, DEFAULT_MACHINE_EXAMPLES

SELF_INSTRUCT_MIX = (DEFAULT_HUMAN_EXAMPLES, DEFAULT_MACHINE_EXAMPLES)

HUMAN = [f"Human seed task number {i}." for i in range(30)]
MACHINE = [f"Machine generated task number {i}." for i in range(10)]
EIGHT = [f"Example task {i}." for i in range(1, 9)]


def test_build_prompt_numbers_examples_and_leaves_the_next_number_open():
    prompt = build_prompt(EIGHT)
    lines = prompt.text.split("\n")
    assert lines[0] == "Come up with a series of tasks:"
    assert lines[1:9] == [f"{i}. Example task {i}." for i in range(1, 9)]
    assert lines[9] == "9."
    assert prompt.text.endswith("\n9.")
    assert prompt.first_number == 9


@pytest.mark.parametrize("n_examples", [1, 3, 8, 12])
def test_first_number_follows_the_examples(n_examples):
    prompt = build_prompt(EIGHT[:1] * n_examples)
    assert prompt.first_number == n_examples + 1
    assert prompt.text.endswith(f"\n{n_examples}. Example task 1.\n{n_examples + 1}.")


def test_examples_are_cleaned_to_one_line():
    prompt = build_prompt(["Summarize the  following\n text:", "  Name a colour.  "])
    assert "1. Summarize the following text\n2. Name a colour.\n3." in prompt.text
    assert clean_instruction("List items:\n") == "List items"


def test_chat_messages_are_user_then_assistant_prefill():
    prompt = build_prompt(EIGHT, n_new=8)
    assert [m["role"] for m in prompt.messages] == ["user", "assistant"]
    user, assistant = (m["content"] for m in prompt.messages)
    assert assistant == "9."
    assert user.startswith("Come up with a series of tasks:\n1. Example task 1.\n")
    assert "8. Example task 8.\n" in user
    assert "numbered 9 to 16" in user
    assert "8 new tasks" in user
    assert not user.rstrip().endswith("9.")  # the open number lives in the assistant turn


def test_chat_request_counts_follow_n_new():
    user = build_prompt(EIGHT[:3], n_new=5).messages[0]["content"]
    assert "5 new tasks" in user and "numbered 4 to 8" in user


def test_build_prompt_without_examples_raises():
    with pytest.raises(ValueError, match="at least one example"):
        build_prompt([])


def test_prompt_continuation_parses_back():
    prompt = build_prompt(EIGHT)
    completion = " Write a poem.\n10. List three fruits."
    assert prompt.first_number == 9
    assert parse_completion(completion).instructions == ["Write a poem.", "List three fruits."]


def test_choose_examples_default_mix():
    examples = choose_examples(HUMAN, MACHINE, random.Random(0), *SELF_INSTRUCT_MIX)
    assert len(examples) == 8
    assert len(set(examples)) == 8
    assert sum(e in HUMAN for e in examples) == 6
    assert sum(e in MACHINE for e in examples) == 2


@pytest.mark.parametrize(("n_machine_available", "expected_machine"), [(0, 0), (1, 1), (2, 2), (5, 2)])
def test_seeds_fill_missing_machine_tasks(n_machine_available, expected_machine):
    examples = choose_examples(HUMAN, MACHINE[:n_machine_available], random.Random(1), *SELF_INSTRUCT_MIX)
    assert len(examples) == 8
    assert len(set(examples)) == 8
    assert sum(e in MACHINE for e in examples) == expected_machine
    assert sum(e in HUMAN for e in examples) == 8 - expected_machine


def test_too_few_seeds_uses_all_of_them():
    examples = choose_examples(HUMAN[:3], [], random.Random(2), *SELF_INSTRUCT_MIX)
    assert sorted(examples) == sorted(HUMAN[:3])


def test_custom_counts():
    examples = choose_examples(HUMAN, MACHINE, random.Random(3), n_human=3, n_machine=4)
    assert sum(e in HUMAN for e in examples) == 3
    assert sum(e in MACHINE for e in examples) == 4


def test_choose_examples_is_deterministic_for_a_seed():
    first = choose_examples(HUMAN, MACHINE, random.Random(42), *SELF_INSTRUCT_MIX)
    second = choose_examples(HUMAN, MACHINE, random.Random(42), *SELF_INSTRUCT_MIX)
    assert first == second
    others = {
        tuple(choose_examples(HUMAN, MACHINE, random.Random(seed), *SELF_INSTRUCT_MIX)) for seed in range(10)
    }
    assert len(others) > 1  # the seed matters


def test_choose_examples_shuffles_machine_tasks_among_seeds():
    positions = set()
    for seed in range(30):
        examples = choose_examples(HUMAN, MACHINE, random.Random(seed), *SELF_INSTRUCT_MIX)
        positions.update(i for i, e in enumerate(examples) if e in MACHINE)
    assert len(positions) > 2  # machine tasks are not always at the end
