"""Self-Instruct's instruction heuristics: every rule, its boundaries, presets and rule order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filters.heuristics import (
    ALPACA_EXTRA_BLOCKLIST,
    MAX_WORDS,
    PRESETS,
    RULE_IDS,
    SELF_INSTRUCT_BLOCKLIST,
    first_failing_rule,
    preset,
)

SELF_INSTRUCT = preset()

# rule id -> (an instruction that fails exactly that rule first, a close variant that passes everything)
RULE_EXAMPLES: dict[str, tuple[str, str]] = {
    "too_short": ("Summarize this text.", "Summarize this short text."),
    "too_long": (" ".join(["word"] * (MAX_WORDS + 1)), " ".join(["word"] * MAX_WORDS)),
    "blocklist": ("Describe the image below in detail.", "Describe the imagery of this poem in detail."),
    "write_a_program": ("Write a program that sorts a list.", "Write a poem about sorting a list."),
    "starts_with_punctuation": ("- List three fruits that are red.", "List three fruits that are red."),
    "non_ascii_start": ("¿Cómo se dice hello en inglés?", "Como se dice hello en inglés?"),
}


def rule_of(text: str, config=SELF_INSTRUCT) -> str | None:
    failed = first_failing_rule(text, config)
    return None if failed is None else failed[0]


def words(n: int, word: str = "alpha") -> str:
    return " ".join([word] * n)


def test_examples_cover_every_rule_id():
    assert set(RULE_EXAMPLES) == set(RULE_IDS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_has_a_failing_example(rule_id):
    failing, _ = RULE_EXAMPLES[rule_id]
    failed = first_failing_rule(failing, SELF_INSTRUCT)
    assert failed is not None
    assert failed[0] == rule_id
    assert failed[1]  # a non-empty human-readable detail


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_has_a_passing_example(rule_id):
    _, passing = RULE_EXAMPLES[rule_id]
    assert first_failing_rule(passing, SELF_INSTRUCT) is None


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_disabling_a_rule_lets_its_example_through(rule_id):
    failing, _ = RULE_EXAMPLES[rule_id]
    assert rule_of(failing, preset(disabled=[rule_id])) is None
    # the other rules stay on
    others = [r for r in RULE_IDS if r != rule_id]
    assert rule_of(RULE_EXAMPLES[others[0]][0], preset(disabled=[rule_id])) == others[0]


@pytest.mark.parametrize(
    ("n_words", "expected"),
    [(1, "too_short"), (3, "too_short"), (4, None), (150, None), (151, "too_long"), (400, "too_long")],
)
def test_word_count_boundaries(n_words, expected):
    assert rule_of(words(n_words)) == expected


def test_word_count_uses_whitespace_words_after_collapsing_whitespace():
    assert rule_of("alpha\n\nbeta\t gamma") == "too_short"
    assert rule_of("  alpha\n\nbeta\t gamma   delta  ") is None


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_too_short_even_with_the_rule_disabled(text):
    assert rule_of(text) == "too_short"
    assert rule_of(text, preset(disabled=RULE_IDS)) == "too_short"


@pytest.mark.parametrize("word", SELF_INSTRUCT_BLOCKLIST)
def test_every_blocklist_word_is_rejected(word):
    text = f"Please tell me about the {word} we discussed yesterday."
    failed = first_failing_rule(text, SELF_INSTRUCT)
    assert failed is not None and failed[0] == "blocklist"
    assert repr(word) in failed[1]


@pytest.mark.parametrize(
    "text",
    [
        "Open the file and count the lines in it.",
        "Open the FILE and count the lines in it.",
        "Open the File, then count the lines.",
        "Go to the store and buy some milk.",
        "Please GO TO the next page and summarize it.",
        "Please go\n  to the next page and summarize it.",  # whitespace collapses before matching
        "Plot: explain what happens in this story.",
    ],
)
def test_blocklist_matches_whole_words_ignoring_case(text):
    assert rule_of(text) == "blocklist"


@pytest.mark.parametrize(
    "text",
    [
        "Update my profile with a short biography.",  # "file" inside "profile"
        "Explain why the filesystem needs journaling.",  # "file" inside "filesystem"
        "Describe a typical roadmap for a startup.",  # "map" inside "roadmap"
        "Explain the meaning of graphite in pencils.",  # "graph" inside "graphite"
        "Tell me where to go tomorrow evening.",  # "go to" only across "go tomorrow"
        "Describe a drawer full of old letters.",  # "draw" inside "drawer"
    ],
)
def test_blocklist_ignores_words_inside_other_words(text):
    assert rule_of(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Write a program that adds two numbers.",
        "write a program that adds two numbers.",
        "WRITE A PROGRAM that adds two numbers.",
        "Write a programme that adds two numbers.",
    ],
)
def test_write_a_program_is_checked_on_the_capitalised_text(text):
    assert rule_of(text) == "write_a_program"


def test_write_a_program_only_at_the_start():
    assert rule_of("Explain how to write a program that adds two numbers.") is None


@pytest.mark.parametrize("first", ["-", "*", "#", '"', "(", ".", "?", "'"])
def test_leading_punctuation_is_rejected(first):
    assert rule_of(f"{first} List three fruits that are red.") == "starts_with_punctuation"


@pytest.mark.parametrize(
    "text",
    ["“Quote” this sentence back to me.", "Été: describe summer in France.", "中文 please answer me now."],
)
def test_non_ascii_first_character_is_rejected(text):
    assert rule_of(text) == "non_ascii_start"


@pytest.mark.parametrize("word", ALPACA_EXTRA_BLOCKLIST)
def test_alpaca_preset_adds_its_five_words(word):
    text = f"Describe the {word} that was shown at the meeting."
    assert rule_of(text) is None
    assert rule_of(text, preset("alpaca")) == "blocklist"


def test_alpaca_preset_keeps_the_self_instruct_words():
    assert set(SELF_INSTRUCT_BLOCKLIST) <= set(preset("alpaca").blocklist)
    assert rule_of("Describe the image below in detail.", preset("alpaca")) == "blocklist"


def test_unknown_rule_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_rule"):
        preset(disabled=["too_short", "no_such_rule"])


def test_unknown_preset_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="klingon"):
        preset("klingon")


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_builds_and_accepts_a_plain_instruction(name):
    assert rule_of("Give three tips for staying healthy.", preset(name)) is None


def test_multilingual_preset_lets_chinese_through():
    text = "请写一首关于春天的诗"
    assert rule_of(text) in {"too_short", "non_ascii_start"}  # rejected by the English preset
    assert rule_of(text, preset("multilingual")) is None


def test_multilingual_preset_counts_cjk_characters_as_words():
    multilingual = preset("multilingual")
    assert rule_of("请写诗", multilingual) == "too_short"  # 3 characters = 3 words
    assert rule_of("请写首诗", multilingual) is None  # 4 characters = 4 words
    assert rule_of("请" * MAX_WORDS, multilingual) is None
    assert rule_of("请" * (MAX_WORDS + 1), multilingual) == "too_long"


def test_multilingual_preset_keeps_the_english_rules():
    multilingual = preset("multilingual")
    assert rule_of("Draw a picture of a cat.", multilingual) == "blocklist"
    assert rule_of("Write a program that adds numbers.", multilingual) == "write_a_program"
    assert rule_of("- List three fruits that are red.", multilingual) == "starts_with_punctuation"
    assert rule_of("Hi there", multilingual) == "too_short"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image please", "too_short"),  # too_short before blocklist
        (words(151, "image"), "too_long"),  # too_long before blocklist
        ("Write a program to draw a cat.", "blocklist"),  # blocklist before write_a_program
        ("- Draw a cat for me please.", "blocklist"),  # blocklist before punctuation
        ("¿Draw a cat for me please?", "blocklist"),  # blocklist before non-ASCII start
        ("- Hi", "too_short"),  # too_short before punctuation
    ],
)
def test_first_failing_rule_wins(text, expected):
    assert rule_of(text) == expected


def test_disabling_the_first_failing_rule_reveals_the_next():
    text = "Write a program to draw a cat."
    assert rule_of(text, preset(disabled=["blocklist"])) == "write_a_program"
    assert rule_of(text, preset(disabled=["blocklist", "write_a_program"])) is None


@given(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), min_size=4, max_size=MAX_WORDS))
def test_plain_lowercase_word_lists_pass(word_list):
    assert rule_of(" ".join(word_list)) is None


@given(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), min_size=1, max_size=3))
def test_short_word_lists_are_too_short(word_list):
    assert rule_of(" ".join(word_list)) == "too_short"
