"""Classification and instance prompts and their tolerant parsers."""

from __future__ import annotations

import pytest

from generators.instances import (
    build_classification_prompt,
    build_instance_prompt,
    instance_stop_sequences,
    parse_classification,
    parse_instances,
    prompt_example_texts,
)
from generators.tasks import Instance


def test_classification_prompt_ends_with_the_open_answer() -> None:
    prompt = build_classification_prompt("Tell whether the   review is positive:")
    assert prompt.text.endswith("Task: Tell whether the review is positive\nClassification:")
    assert prompt.text.count("Classification: Yes") >= 3 and prompt.text.count("Classification: No") >= 3
    assert prompt.messages[-1] == {"role": "assistant", "content": "Classification:"}
    assert prompt.kind == "classification"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Yes", True),
        ("no.\nTask: x", False),
        ("  YES, it is", True),
        ("Maybe", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_classification(text: str | None, expected: bool | None) -> None:
    answer, dropped = parse_classification(text)
    assert answer is expected
    assert (dropped is None) == (expected is not None)
    if dropped is not None:
        assert dropped.reason == "unclear_answer"


def test_instance_prompts_are_output_first_for_classification_only() -> None:
    clf = build_instance_prompt("Is the number even?", True, 4)
    gen = build_instance_prompt("Write a haiku about rain.", False, 4)
    assert (
        clf.text.endswith("Task: Is the number even?\nClass label:") and clf.kind == "instances_output_first"
    )
    assert (
        gen.text.endswith("Task: Write a haiku about rain.\nExample 1\n")
        and gen.kind == "instances_input_first"
    )
    assert "up to 4 new examples" in gen.messages[0]["content"]
    assert instance_stop_sequences(4) == ("Task:", "Example 5")


def test_input_first_examples_with_and_without_input() -> None:
    text = (
        "Input: 3 and 4\nOutput: 7\n\nExample 2\nInput: <noinput>\nOutput: 0\n"
        "Example 3:\nOutput: Nothing to add.\nExample 4\nInput: missing the answer\n"
    )
    parsed = parse_instances(text, "stop", False, 5)
    assert parsed.instances == [Instance("3 and 4", "7"), Instance("", "0"), Instance("", "Nothing to add.")]
    assert [d.reason for d in parsed.dropped] == ["no_output"]


def test_input_first_keeps_only_the_first_pair_of_an_example_and_stops_at_a_new_task() -> None:
    text = (
        "Input: a\nOutput: b\nInput: c\nOutput: d\nExample 2\nInput: e\nOutput: f\n"
        "Task: Invent a task.\nExample 1"
    )
    parsed = parse_instances(text, "stop", False, 5)
    assert parsed.instances == [Instance("a", "b"), Instance("e", "f")]


def test_output_first_labels_and_inputs() -> None:
    text = (
        " Positive\nInput: Loved it.\nClass label: Negative\nInput: Awful.\n"
        "Class label: Neutral\nClass label:\n"
    )
    parsed = parse_instances(text, "stop", True, 5)
    assert parsed.instances == [
        Instance("Loved it.", "Positive"),
        Instance("Awful.", "Negative"),
        Instance("", "Neutral"),
    ]


def test_length_cut_drops_the_last_example_and_k_caps_the_rest() -> None:
    text = "Input: 1\nOutput: one\nExample 2\nInput: 2\nOutput: two\nExample 3\nInput: 3\nOutput: thr"
    cut = parse_instances(text, "length", False, 5)
    assert [i.output for i in cut.instances] == ["one", "two"]
    assert [d.reason for d in cut.dropped] == ["truncated"]
    capped = parse_instances(text, "stop", False, 1)
    assert [i.output for i in capped.instances] == ["one"]
    assert [d.reason for d in capped.dropped] == ["beyond_limit", "beyond_limit"]


@pytest.mark.parametrize("text", ["", "   \n", None])
def test_empty_completion_never_raises(text: str | None) -> None:
    parsed = parse_instances(text, "stop", False, 3)
    assert parsed.instances == [] and parsed.dropped[0].reason == "empty_completion"


def test_garbage_never_raises() -> None:
    parsed = parse_instances("1. Something unrelated\n2. More", "stop", False, 3)
    assert parsed.instances == [] and [d.reason for d in parsed.dropped] == ["no_output"]


def test_a_second_output_line_is_cut_off_as_an_extra_pair() -> None:
    # what SmolLM2-135M wrote for a rewriting task: "Output:" where "Input:" belonged
    text = "Output: The kitchen was busy.\nOutput: It was busy.\n\nExample 2\nOutput: Fine.\n\nExample 3"
    parsed = parse_instances(text, "stop", False, 4)
    assert parsed.instances == [Instance("", "The kitchen was busy."), Instance("", "Fine.")]
    assert [d.reason for d in parsed.dropped] == ["extra_pair"]
    clf = parse_instances(" Positive\nInput: Nice staff.\nOutput: Nice staff.\n", "stop", True, 4)
    assert clf.instances == [Instance("Nice staff.", "Positive")]
    assert [d.reason for d in clf.dropped] == ["extra_pair"]


def test_prompt_example_texts_are_the_templates_examples() -> None:
    texts = prompt_example_texts()
    assert "A wonderful meal was cooked by the chef." in texts and "Positive" in texts
    assert not any(t.startswith(("Task", "Example")) for t in texts)
