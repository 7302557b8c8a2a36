"""parse_completion: numbered-list continuation → instructions; never raises, says why it dropped."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.parsing import Dropped, parse_completion


def reasons(result) -> list[str]:
    return [d.reason for d in result.dropped]


def test_continuation_first_item_has_no_number():
    # the prompt ended with "9.", so the completion starts inside item 9
    text = " Write a poem about autumn.\n10. Summarize the article in one sentence.\n11. List three fruits."
    result = parse_completion(text)
    assert result.instructions == [
        "Write a poem about autumn.",
        "Summarize the article in one sentence.",
        "List three fruits.",
    ]
    assert result.dropped == []


@pytest.mark.parametrize(
    "separator",
    ["\n10. ", "\n10.", "\n10) ", "\n10: ", "\n  10 . ", "\nTask 10: ", "\ntask 10. ", "\n\n10. "],
)
def test_number_variants(separator):
    result = parse_completion(f" Write a poem about autumn.{separator}List three fruits.")
    assert result.instructions == ["Write a poem about autumn.", "List three fruits."]


def test_mixed_number_styles():
    text = " First task here.\n10. Second task here.\n11) Third task here.\n12: Fourth task here."
    assert parse_completion(text).instructions == [
        "First task here.",
        "Second task here.",
        "Third task here.",
        "Fourth task here.",
    ]


def test_numbers_inside_a_line_do_not_split():
    result = parse_completion(" Convert 10. 5 degrees to Fahrenheit and round to 2) places.")
    assert result.instructions == ["Convert 10. 5 degrees to Fahrenheit and round to 2) places."]


def test_blank_line_cuts_the_tail_of_an_item():
    text = (
        " Write a poem about autumn.\n\nHere is the poem: leaves fall...\n10. List three fruits.\n\nApples."
    )
    assert parse_completion(text).instructions == ["Write a poem about autumn.", "List three fruits."]


def test_single_newlines_inside_an_item_are_joined():
    text = " Write a poem\n   about autumn.\n10. List three fruits."
    assert parse_completion(text).instructions == ["Write a poem about autumn.", "List three fruits."]


def test_prefixes_and_quotes_are_stripped():
    text = ' Task: Write a poem.\n10. Instruction: List three fruits.\n11. "Name a colour."'
    assert parse_completion(text).instructions == ["Write a poem.", "List three fruits.", "Name a colour."]


def test_length_finish_drops_the_last_item_as_truncated():
    text = " Write a poem about autumn.\n10. List three fruits.\n11. Explain how the heart"
    result = parse_completion(text, finish_reason="length")
    assert result.instructions == ["Write a poem about autumn.", "List three fruits."]
    assert result.dropped == [Dropped("Explain how the heart", "truncated")]


def test_stop_finish_keeps_the_last_item():
    text = " Write a poem about autumn.\n10. List three fruits."
    result = parse_completion(text, finish_reason="stop")
    assert result.instructions[-1] == "List three fruits."
    assert "truncated" not in reasons(result)


def test_length_finish_with_one_item_keeps_nothing():
    result = parse_completion(" Write a poem about", finish_reason="length")
    assert result.instructions == []
    assert reasons(result) == ["truncated"]


@pytest.mark.parametrize("text", [None, "", "   ", "\n\n\t"])
@pytest.mark.parametrize("finish_reason", [None, "stop", "length"])
def test_empty_completion_never_raises(text, finish_reason):
    result = parse_completion(text, finish_reason=finish_reason)
    assert result.instructions == []
    assert reasons(result) == ["empty_completion"]


@pytest.mark.parametrize("text", [123, b"bytes", ["a list"]])
def test_non_string_completion_is_empty(text):
    result = parse_completion(text)  # type: ignore[arg-type]
    assert result.instructions == []
    assert reasons(result) == ["empty_completion"]


def test_repeated_items_are_dropped_ignoring_case():
    text = " List three fruits.\n10. Write a poem.\n11. list three FRUITS.\n12. Write a poem."
    result = parse_completion(text)
    assert result.instructions == ["List three fruits.", "Write a poem."]
    assert result.dropped == [
        Dropped("list three FRUITS.", "repeated_in_completion"),
        Dropped("Write a poem.", "repeated_in_completion"),
    ]


def test_empty_items_are_skipped():
    text = ' Write a poem.\n10. ""\n11. List three fruits.\n12. Task:'
    result = parse_completion(text)
    assert result.instructions == ["Write a poem.", "List three fruits."]
    assert result.dropped == [Dropped('""', "empty_item"), Dropped("Task:", "empty_item")]


@pytest.mark.parametrize("empty", ["10.", "10. ", "10)"])
def test_an_empty_numbered_line_does_not_swallow_the_next_number(empty):
    result = parse_completion(f" Write a poem.\n{empty}\n11. List three fruits.")
    assert result.instructions == ["Write a poem.", "List three fruits."]


def test_not_continuing_drops_the_preamble():
    text = "Sure! Here are some tasks:\n1. Write a poem.\n2. List three fruits."
    result = parse_completion(text, continues_item=False)
    assert result.instructions == ["Write a poem.", "List three fruits."]
    assert result.dropped == [Dropped("Sure! Here are some tasks:", "not_a_list_item")]


def test_not_continuing_list_starting_at_first_line():
    result = parse_completion("9. Write a poem.\n10. List three fruits.", continues_item=False)
    assert result.instructions == ["Write a poem.", "List three fruits."]
    assert result.dropped == []


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.none(), st.text(), st.text(alphabet='0123456789.):\n \tTask"abc')),
    finish_reason=st.sampled_from([None, "stop", "length", "weird"]),
    continues_item=st.booleans(),
)
def test_never_raises_and_outputs_clean_single_lines(text, finish_reason, continues_item):
    result = parse_completion(text, finish_reason=finish_reason, continues_item=continues_item)
    keys = [item.casefold() for item in result.instructions]
    assert len(keys) == len(set(keys))
    for item in result.instructions:
        assert item
        assert item == item.strip()
        assert "\n" not in item and len(item.splitlines()) == 1
    for dropped in result.dropped:
        assert dropped.reason in {
            "empty_completion",
            "truncated",
            "empty_item",
            "repeated_in_completion",
            "not_a_list_item",
        }


words = st.lists(
    st.sampled_from(["write", "a", "poem", "list", "fruits", "explain", "why"]), min_size=1, max_size=6
)


@settings(max_examples=200, deadline=None)
@given(st.lists(words.map(" ".join), min_size=1, max_size=8, unique_by=str.casefold), st.integers(1, 120))
def test_round_trip_of_a_well_formed_continuation(instructions, first):
    text = (
        " "
        + instructions[0]
        + "".join(f"\n{first + i}. {item}" for i, item in enumerate(instructions[1:], start=1))
    )
    assert parse_completion(text).instructions == instructions
    truncated = parse_completion(text, finish_reason="length")
    assert truncated.instructions == instructions[:-1]
