"""The judge on the real CPU model (SmolLM2-135M-Instruct): requests, log-probabilities, scores read."""

from __future__ import annotations

import pytest

from app.core.settings import Settings
from app.pipeline.judge import Judge
from generators.backends.dispatch import RequestDispatcher
from generators.backends.transformers_backend import TransformersBackend
from generators.judging import instruction_prompt

pytestmark = pytest.mark.slow


def test_the_small_model_judges_through_the_dispatcher():
    dispatcher = RequestDispatcher(TransformersBackend(), 1)
    judge = Judge(dispatcher, Settings(_env_file=None, judge=True), own=True)
    try:
        calls = judge.judge_prompts(
            [
                instruction_prompt("Give three tips for managing stress at work.", "Everyday advice."),
                instruction_prompt("The answer to this question is 12.", "Everyday advice."),
            ]
        )
    finally:
        judge.close()
    assert len(calls) == 2
    for call in calls:
        assert call.result is not None and call.result.model_id.startswith("SmolLM2")
        completion = call.result.completions[0]
        assert completion.text and completion.logprobs  # the sampled tokens with their alternatives
        if call.judgment.overall is not None:
            assert 1 <= call.judgment.overall <= 5
            assert call.judgment.expected is not None and 1 <= call.judgment.expected <= 5
    assert any(call.judgment.overall is not None for call in calls)
