"""Instance filters: each rule id with an instance it rejects, and instances every rule lets through."""

from __future__ import annotations

import pytest

from filters.instances import INSTANCE_RULE_IDS, filter_instances, instance_rule

FAILING_EXAMPLES = {
    "empty_output": ("What is 2 + 2?", "   "),
    "placeholder_output": ("Summarize the text.", "N/A"),
    "same_as_input": ("The cat sat on the mat.", "the cat sat  on the mat."),
    "cut_off": ("Translate the following sentence:", "Sure, here it is"),
    "needs_unseen_content": ("Describe this photo: https://example.com/cat.jpg", "A cat on a sofa."),
}


@pytest.mark.parametrize("rule", sorted(FAILING_EXAMPLES))
def test_each_instance_rule_rejects_its_example(rule: str) -> None:
    input_text, output = FAILING_EXAMPLES[rule]
    verdict = instance_rule(input_text, output)
    assert verdict is not None and verdict[0] == rule, verdict
    [decision] = filter_instances([(input_text, output)])
    assert not decision.accepted and decision.rule == rule and decision.detail


@pytest.mark.parametrize(
    ("input_text", "output", "rule"),
    [
        ("", "<noinput>", "placeholder_output"),
        ("", "none.", "placeholder_output"),
        ("Word: apple", "Category:", "cut_off"),
        ("", "I cannot see the image you attached.", "needs_unseen_content"),
        ("Look at the graph.", "As shown in the chart, sales grew.", "needs_unseen_content"),
        ("", "As shown in the image, the sky is blue.", "needs_unseen_content"),
        ("Open report.pdf and summarise it.", "It says revenue grew.", "needs_unseen_content"),
        ("<image>", "A dog.", "needs_unseen_content"),
        ("", "Drink water, sleep well and walk daily.", None),
        ("I love this movie!", "Positive", None),
    ],
)
def test_instance_rule_cases(input_text: str, output: str, rule: str | None) -> None:
    verdict = instance_rule(input_text, output)
    assert (verdict[0] if verdict else None) == rule


def test_conflicting_outputs_drop_every_instance_of_the_task() -> None:
    decisions = filter_instances(
        [("I love it", "Positive"), ("Terrible service", "Negative"), ("i love  it", "Negative")]
    )
    assert [d.rule for d in decisions] == ["conflicting_outputs"] * 3
    assert not any(d.accepted for d in decisions)


def test_empty_inputs_with_different_outputs_are_not_a_conflict() -> None:
    decisions = filter_instances([("", "Walk every day."), ("", "Eat more vegetables.")])
    assert all(d.accepted for d in decisions)


def test_instances_rejected_earlier_do_not_cause_a_conflict() -> None:
    decisions = filter_instances([("Great food", "Positive"), ("Great food", "N/A")])
    assert [d.rule for d in decisions] == [None, "placeholder_output"]


def test_exact_duplicates_keep_the_first() -> None:
    decisions = filter_instances([("2 + 2", "4"), ("3 + 3", "6"), ("2 + 2 ", " 4")])
    assert [d.accepted for d in decisions] == [True, True, False]
    assert decisions[2].rule == "duplicate_instance"


def test_copies_of_the_prompt_examples_are_rejected_but_short_labels_are_not() -> None:
    examples = ["The chef cooked a wonderful meal.", "A wonderful meal was cooked by the chef.", "Positive"]
    decisions = filter_instances(
        [
            ("", "the chef cooked a  wonderful meal."),
            ("The chef cooked a wonderful meal.", "Un repas merveilleux."),
            ("Fresh bread every morning!", "Positive"),
        ],
        examples,
    )
    assert [d.rule for d in decisions] == ["copied_from_prompt", "copied_from_prompt", None]
    assert filter_instances([("", "The chef cooked a wonderful meal.")])[0].accepted  # no examples given


def test_every_rule_has_a_failing_example_here() -> None:
    covered = set(FAILING_EXAMPLES) | {"conflicting_outputs", "duplicate_instance", "copied_from_prompt"}
    assert covered == set(INSTANCE_RULE_IDS)


def test_accepted_instances_are_stripped() -> None:
    [decision] = filter_instances([("  an input \n", " an output ")])
    assert decision.accepted and (decision.input, decision.output) == ("an input", "an output")
