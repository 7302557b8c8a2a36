"""FakeBackend: deterministic lists, scripted completions, fault injection."""

from __future__ import annotations

import pytest

from filters.heuristics import first_failing_rule, preset
from generators.backends import create_backend
from generators.backends.base import SamplingParams
from generators.backends.fake import FakeBackend
from generators.parsing import parse_completion
from generators.prompts import build_prompt

PROMPT = build_prompt([f"Example task {i}." for i in range(1, 9)])
OTHER_PROMPT = build_prompt([f"Another example {i}." for i in range(1, 9)])


def texts(backend: FakeBackend, prompt=PROMPT, **params) -> list[str]:
    return [c.text for c in backend.generate(prompt, SamplingParams(**params)).completions]


def test_same_prompt_and_seed_give_the_same_output():
    first = FakeBackend(seed=3).generate(PROMPT, SamplingParams(n=3))
    second = FakeBackend(seed=3).generate(PROMPT, SamplingParams(n=3))
    assert first.completions == second.completions


def test_seed_prompt_and_sample_index_change_the_output():
    base = texts(FakeBackend(seed=3), n=2)
    assert base[0] != base[1]  # the samples of one call differ
    assert texts(FakeBackend(seed=4), n=2) != base
    assert texts(FakeBackend(seed=3), OTHER_PROMPT, n=2) != base


def test_later_calls_differ_from_the_first():
    backend = FakeBackend(seed=3)
    assert texts(backend, n=1) != texts(backend, n=1)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_returns_n_completions(n):
    result = FakeBackend().generate(PROMPT, SamplingParams(n=n))
    assert len(result.completions) == n
    assert result.model_id == "fake"
    assert result.prompt_text == PROMPT.text
    assert result.prompt_tokens == len(PROMPT.text.split())
    assert result.seconds >= 0
    for completion in result.completions:
        assert completion.finish_reason == "stop"
        assert completion.completion_tokens == len(completion.text.split())


def test_generated_text_continues_the_prompt_numbering_and_parses():
    backend = FakeBackend(seed=1, items_per_completion=6)
    (text,) = texts(backend, n=1)
    assert not text.lstrip()[0].isdigit()  # continues the open "9."
    assert "\n10. " in text and "\n14. " in text and "\n15. " not in text
    result = parse_completion(text)
    assert len(result.instructions) + len(result.dropped) == 6
    assert all(first_failing_rule(i, preset()) is None for i in result.instructions)


def test_max_tokens_truncates_with_length_finish():
    (completion,) = FakeBackend().generate(PROMPT, SamplingParams(n=1, max_tokens=7)).completions
    assert completion.finish_reason == "length"
    assert completion.completion_tokens == 7
    assert len(completion.text.split()) == 7


def test_script_cycles_in_order_and_passes_finish_reasons():
    script = ["first", "second", ("third cut", "length")]
    backend = FakeBackend(script=script)
    calls = [backend.generate(PROMPT, SamplingParams(n=2)).completions for _ in range(3)]
    flat = [(c.text, c.finish_reason) for completions in calls for c in completions]
    assert flat == [
        ("first", "stop"),
        ("second", "stop"),
        ("third cut", "length"),
        ("first", "stop"),
        ("second", "stop"),
        ("third cut", "length"),
    ]
    assert calls[1][0].completion_tokens == 2


def test_script_ignores_the_prompt():
    backend = FakeBackend(script=[" Write a poem.\n10. List fruits."])
    assert texts(backend, n=1) == texts(backend, OTHER_PROMPT, n=1)


def test_fail_every_raises_on_every_kth_call():
    backend = FakeBackend(fail_every=3)
    outcomes = []
    for _ in range(7):
        try:
            backend.generate(PROMPT, SamplingParams(n=1))
            outcomes.append("ok")
        except RuntimeError as exc:
            assert "call" in str(exc)
            outcomes.append("fail")
    assert outcomes == ["ok", "ok", "fail", "ok", "ok", "fail", "ok"]
    assert backend.calls == 7


def test_without_fail_every_never_raises():
    backend = FakeBackend()
    for _ in range(5):
        backend.generate(PROMPT, SamplingParams(n=1))
    assert backend.calls == 5


def test_create_backend_by_name():
    assert isinstance(create_backend("fake"), FakeBackend)
    with pytest.raises(ValueError, match="nope"):
        create_backend("nope")
