"""vLLM on a real GPU: the in-process engine through the service's dispatcher.

Runs only where ``vllm`` imports and CUDA is available; elsewhere each test is skipped with the reason.
The model is ``SI_GPU_TEST_MODEL`` (default ``HuggingFaceTB/SmolLM2-135M-Instruct``), which must be in
the local Hugging Face cache or be a local folder: nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from generators.backends.base import SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.vllm_backend import VLLMBackend
from generators.parsing import parse_completion
from generators.prompts import build_prompt

pytestmark = pytest.mark.gpu

MODEL = os.environ.get("SI_GPU_TEST_MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct")
EXAMPLES = [
    "Name three primary colours.",
    "Translate 'good morning' into Spanish.",
    "Write a haiku about autumn rain.",
    "Explain what a binary search does.",
]


def _skip_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (GPU tests need the `vllm` extra in its own environment)"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device"
    return None


@pytest.fixture(scope="module")
def backend():
    reason = _skip_reason()
    if reason:
        pytest.skip(f"GPU test skipped: {reason}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    engine = VLLMBackend(MODEL, engine_args={"gpu_memory_utilization": 0.5, "max_model_len": 2048})
    engine.load()
    yield engine
    engine.unload()


def test_n_samples_with_explicit_max_tokens(backend):
    result = backend.generate(build_prompt(EXAMPLES), SamplingParams(n=3, max_tokens=128, seed=1))
    assert len(result.completions) == 3
    assert all(0 < c.completion_tokens <= 128 for c in result.completions)
    assert any(c.completion_tokens > 16 for c in result.completions)  # vLLM's default of 16 was not used
    assert result.prompt_tokens > 0
    assert any(parse_completion(c.text, c.finish_reason).instructions for c in result.completions)


def test_many_prompts_in_flight(backend):
    dispatcher = RequestDispatcher(backend, max_in_flight=32).start()
    try:
        futures = [
            dispatcher.submit(
                build_prompt(EXAMPLES[i % 4 :] + EXAMPLES[: i % 4]), SamplingParams(n=2, seed=i)
            )
            for i in range(64)
        ]
        results = [f.result(300) for f in futures]
    finally:
        dispatcher.close()
    assert sum(len(r.completions) for r in results) == 128


def test_structured_output_is_valid_json(backend):
    import json

    schema = {
        "type": "object",
        "properties": {"input": {"type": "string"}, "output": {"type": "string"}},
        "required": ["input", "output"],
    }
    result = backend.generate(build_prompt(EXAMPLES), SamplingParams(n=1, max_tokens=400, json_schema=schema))
    completion = result.completions[0]
    assert completion.finish_reason == "stop", completion
    assert set(json.loads(completion.text)) >= {"input", "output"}
