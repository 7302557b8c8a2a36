"""The quality rules on real candidates of the default CPU model (tests/filters/data) and on seed tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filters.quality_rules import cut_off, is_request, leftover_template, prompt_echo, statement

DATA = Path(__file__).parent / "data" / "ledger_candidates.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
CHECKS = {"prompt_echo": prompt_echo, "statement": statement, "cut_off": cut_off}
SEEDS = Path(__file__).resolve().parents[2] / "seed_tasks"


def first_failure(text: str) -> tuple[str, str] | None:
    for check in (prompt_echo, statement, cut_off, leftover_template):
        failed = check(text)
        if failed:
            return failed
    return None


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["junk"] and r["kind"] in CHECKS], ids=lambda r: r["text"][:40]
)
def test_real_junk_is_caught_by_its_rule(row: dict) -> None:
    failed = CHECKS[row["kind"]](row["text"])
    assert failed is not None, row["text"]


@pytest.mark.parametrize("row", [r for r in ROWS if not r["junk"]], ids=lambda r: r["text"][:40])
def test_real_valid_candidates_pass_every_rule(row: dict) -> None:
    assert first_failure(row["text"]) is None


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Present the list of 9 new tasks.", "prompt_echo"),
        ("List the list of tasks, numbered 9 to 16, using a different format.", "prompt_echo"),
        ("Rewrite task 9 so that it is shorter.", "prompt_echo"),
        # accepted by a real CPU-model job before these two patterns: the list's own numbering kept
        ("2. Explain the concept of compound interest.", "prompt_echo"),
        (
            "Evaluate the logical fallacy in the argument, and 10. Define weather and climate, and 11. "
            "Decide whether the statement is true.",
            "prompt_echo",
        ),
        ("This is a joke.", "statement"),
        ("The answer to this question is 12.", "statement"),
        ("The SQL query returns the following output:", "statement"),
        ("Classify the sentiment of the review as:", "ends_with_colon"),
        ('Explain what the phrase "a penny saved means.', "unclosed_quote"),
        ("Summarize the article (in two sentences.", "unclosed_quote"),
        ("Write a short poem about rain and", "dangling_word"),
        ("Write a letter to {name} about the delayed order.", "placeholder"),
        ("Translate the sentence into French. <noinput>", "placeholder"),
        ("Classify the review.<|im_end|>", "markup"),
        ("Write a haiku.\nOutput: Cold rain", "markup"),
    ],
)
def test_each_rule_names_itself_with_a_detail(text: str, rule: str) -> None:
    failed = first_failure(text)
    assert failed is not None and failed[0] == rule
    assert failed[1]


@pytest.mark.parametrize(
    "text",
    [
        "Summarize this email into a single sentence:",
        "Generate a haiku using the following word:",
        "Add things to the list.",
        "Select the oldest person from the list.",
        "How many days are between the two dates.",
        "Briefly describe two main causes of the French Revolution.",
        "Reply to the email and refuse the invitation politely.",
        "The given text must be classified as offensive or not offensive.",
        "I am planning a trip to Japan. What should I pack?",
        "Fill in the <mask> in the html document with a proper text.",
        "Explain why 1. e4 is the most popular first move in chess.",
        "Round 3.14159 to two decimal places.",
    ],
)
def test_requests_written_by_people_pass(text: str) -> None:
    assert first_failure(text) is None


def test_other_scripts_are_never_statements() -> None:
    assert statement("这是一个笑话。") is None
    assert statement("This is a joke.") is not None
    assert not is_request("This is a joke.")


def test_a_disabled_rule_lets_the_text_through() -> None:
    assert cut_off("Classify the sentiment of the review as:") is not None
    assert cut_off("Classify the sentiment of the review as:", frozenset({"ends_with_colon"})) is None
    assert cut_off('Say "hi', frozenset({"ends_with_colon"})) is not None


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.jsonl")), ids=lambda p: p.name)
def test_shipped_seed_tasks_pass(path: Path) -> None:
    texts = {
        json.loads(line)["instruction"] for line in path.read_text(encoding="utf-8").splitlines() if line
    }
    assert [t for t in texts if first_failure(t)] == []
