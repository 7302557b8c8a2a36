"""Building the judge from settings: off, the generator's dispatcher, or a backend of its own."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.limits import clean_model_output
from app.core.settings import Settings
from app.pipeline.judge import Judge
from generators.backends.dispatch import RequestDispatcher
from generators.backends.fake import FakeBackend
from generators.judging import instruction_prompt


def settings(**values) -> Settings:
    return Settings(_env_file=None, backend="fake", **values)


def test_off_by_default_and_sharing_the_generators_dispatcher_when_no_backend_is_named():
    generator = RequestDispatcher(FakeBackend(), 2)
    assert Judge.from_settings(settings(), generator) is None
    judge = Judge.from_settings(settings(judge=True), generator)
    assert judge is not None and judge.dispatcher is generator
    judge.close()  # not its own: the generator's dispatcher stays open
    assert judge.judge_prompts([instruction_prompt("Name three rivers in Africa.")])[0].judgment.overall == 4
    generator.close()


def test_a_judge_backend_of_its_own_has_its_own_dispatcher():
    generator = RequestDispatcher(FakeBackend(), 2)
    judge = Judge.from_settings(settings(judge=True, judge_backend="fake", judge_logprobs=0), generator)
    assert judge is not None and judge.dispatcher is not generator and judge.model_id == "fake"
    assert judge.dispatcher.output_rule is clean_model_output  # its answers reach the ledger cleaned too
    (call,) = judge.judge_prompts([instruction_prompt("Hi")])
    assert call.judgment.overall == 2 and call.judgment.expected is None  # no log-probabilities asked
    judge.close()
    with pytest.raises(RuntimeError):
        judge.judge_prompts([instruction_prompt("Hi")])
    generator.close()


def test_an_openai_judge_talks_to_its_own_server_and_model():
    options = settings(
        judge=True, judge_backend="openai", judge_base_url="http://judge:8000/v1", judge_model="big"
    ).judge_openai_options()
    assert options is not None and (options["base_url"], options["model"], options["endpoint"]) == (
        "http://judge:8000/v1",
        "big",
        "chat",
    )


def test_an_openai_judge_needs_its_server_and_model():
    with pytest.raises(ValidationError, match="SI_JUDGE_BASE_URL"):
        settings(judge=True, judge_backend="openai")
