"""The judge's prompts and the tolerant reading of its answers, on well-formed and malformed text."""

from __future__ import annotations

import math

import pytest

from generators.backends.base import Completion, TokenLogprobs
from generators.judging import (
    ANSWER_PREFIX,
    JUDGE_SCHEMA,
    expected_overall,
    instance_prompt,
    instruction_prompt,
    judged,
    parse_judgment,
)


def test_the_prompt_names_the_task_the_domain_and_every_criterion():
    prompt = instruction_prompt("Give three tips for sleeping well.", "Health and sleep.")
    assert prompt.kind == "judge" and prompt.messages[0]["role"] == "user"
    assert prompt.messages[-1] == {"role": "assistant", "content": ANSWER_PREFIX}  # the answer is begun
    assert prompt.text.endswith(ANSWER_PREFIX)
    for word in ("Give three tips for sleeping well.", "Health and sleep.", *JUDGE_SCHEMA["required"]):
        assert word in prompt.text
    assert "no domain was given" in instruction_prompt("Name a river.").text
    triplet = instance_prompt("Add the numbers.", "", "5")
    assert (
        triplet.kind == "judge_instance" and "Input: (none)" in triplet.text and "Output: 5" in triplet.text
    )


@pytest.mark.parametrize(
    ("text", "overall", "clarity"),
    [
        ('{"clarity": 4, "completeness": 3, "feasibility": 5, "relevance": 4, "overall": 4}', 4, 4),
        ('Sure!\n```json\n{"Clarity": 2, "Overall": 3}\n```', 3, 2),
        ('{"clarity": "5", "overall": "5"}', 5, 5),
        ('{"overall": 4.0}', 4, None),
        ("Clarity: 3\nCompleteness = 2\nOverall: 2/5", 2, 3),
        ('{"clarity": 4, "completeness": 3, "overall": 4', 4, 4),  # cut at the stop string
        ('{not json} then "overall": 1', 1, None),
    ],
)
def test_readable_answers(text, overall, clarity):
    judgment = parse_judgment(text)
    assert judgment.overall == overall and judgment.error is None
    assert judgment.scores.get("clarity") == clarity


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "empty answer"),
        ("   ", "empty answer"),
        ("This task is great, I would keep it.", "no overall score"),
        ('{"clarity": 4}', "no overall score"),
        ('{"overall": 7, "clarity": 9}', "overall score out of range"),
        ('{"overall": 0}', "overall score out of range"),
        ('{"overall": 3.5}', "overall score out of range"),
        ('{"overall": null}', "overall score out of range"),
        ("[1, 2, 3]", "no overall score"),
        ("{{{{", "no overall score"),
    ],
)
def test_unreadable_answers_give_no_score_and_say_why(text, error):
    judgment = parse_judgment(text)
    assert judgment.overall is None and judgment.error == error
    assert all(1 <= v <= 5 for v in judgment.scores.values())


def tokens(*pieces: tuple[str, dict[str, float]]) -> tuple[TokenLogprobs, ...]:
    return tuple(TokenLogprobs(text, {k: math.log(p) for k, p in top.items()}) for text, top in pieces)


def test_the_expected_score_weighs_the_score_tokens_at_the_overall_position():
    answer = tokens(
        ('{"clarity": ', {'{"clarity": ': 1.0}),
        ("5", {"5": 0.9, "4": 0.1}),  # not the overall score: ignored
        (', "overall": ', {', "overall": ': 1.0}),
        ("4", {"4": 0.5, " 3": 0.25, "five": 0.05, "5": 0.2}),
        ("}", {"}": 1.0}),
    )
    expected = (4 * 0.5 + 3 * 0.25 + 5 * 0.2) / 0.95
    assert expected_overall(answer) == pytest.approx(expected)


def test_no_overall_or_no_score_tokens_give_no_expected_score():
    assert expected_overall(tokens(('{"clarity": ', {}), ("4", {"4": 1.0}))) is None
    assert expected_overall(tokens(('"overall": ', {}), ("4", {"four": 1.0}))) is None
    assert expected_overall(()) is None


def test_a_continued_answer_and_a_fresh_one_are_both_read():
    continued = judged(Completion(' 4, "completeness": 2, "overall": 3', "stop", 9))
    fresh = judged(Completion('{"clarity": 2, "overall": 5}', "stop", 9))  # structured output
    assert (continued.scores["clarity"], continued.overall) == (4, 3)
    assert (fresh.scores["clarity"], fresh.overall) == (2, 5)


def test_a_completion_with_logprobs_is_judged_with_both_scores():
    answer = tokens(('{"overall": ', {}), ("2", {"2": 0.5, "1": 0.5}), ("}", {}))
    judgment = judged(Completion('{"overall": 2}', "stop", 3, answer))
    assert judgment.overall == 2 and judgment.expected == pytest.approx(1.5)
    assert judged(Completion('{"overall": 2}', "stop", 3)).expected is None
    assert judged(Completion("garbage", "stop", 1, answer)).expected is None
