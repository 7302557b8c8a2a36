"""The in-process vLLM backend against a stand-in engine with vLLM's call shapes; the real types when
vLLM is importable (skipped loudly otherwise)."""

from __future__ import annotations

import asyncio
import enum
import importlib.util
import threading
from types import SimpleNamespace

import pytest

from generators.backends import create_backend
from generators.backends.base import SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.vllm_backend import VLLMBackend
from generators.prompts import build_prompt

PROMPT = build_prompt(["Name three primary colours.", "Translate 'good morning' into Spanish."])


class RequestOutputKind(enum.Enum):
    CUMULATIVE = 0
    DELTA = 1
    FINAL_ONLY = 2


class StandInEngine:
    """Records what the backend asks of it; ``hold`` keeps requests unfinished until released."""

    def __init__(self, args) -> None:
        self.args = args
        self.requests: list[tuple[str, object, str]] = []
        self.aborted: list[str] = []
        self.shutdowns = 0
        self.hold = threading.Event()
        self.hold.set()

    @classmethod
    def from_engine_args(cls, args):
        return cls(args)

    async def get_tokenizer(self):
        return SimpleNamespace(
            chat_template="{{ messages }}",
            apply_chat_template=lambda messages, tokenize, **how: (
                ("<new>" if how.get("add_generation_prompt") else "<chat>")
                + "|".join(m["content"] for m in messages)
            ),
        )

    async def generate(self, prompt, sampling_params, request_id):
        self.requests.append((prompt, sampling_params, request_id))
        while not self.hold.is_set():
            await asyncio.sleep(0.005)
        n = sampling_params.kwargs["n"]
        outputs = [
            SimpleNamespace(index=i, text=f" Task {i}.", token_ids=[1] * (i + 2), finish_reason="stop")
            for i in reversed(range(n))
        ]
        yield SimpleNamespace(finished=True, outputs=outputs, prompt_token_ids=[0] * 11)

    async def abort(self, request_id):
        self.aborted.append(request_id)

    def shutdown(self):
        self.shutdowns += 1


class StandInSamplingParams:
    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs


def stand_in_vllm():
    return SimpleNamespace(
        AsyncEngineArgs=lambda **kw: kw,
        AsyncLLMEngine=StandInEngine,
        SamplingParams=StandInSamplingParams,
        sampling_params=SimpleNamespace(
            RequestOutputKind=RequestOutputKind,
            StructuredOutputsParams=lambda json: {"json": json},
        ),
    )


def loaded_backend(**kwargs) -> VLLMBackend:
    backend = VLLMBackend(
        "org/model", engine_args={"max_model_len": 4096}, vllm_module=stand_in_vllm(), **kwargs
    )
    backend.load()
    return backend


def test_load_builds_the_engine_from_its_args_and_unload_shuts_it_down():
    backend = loaded_backend()
    engine = backend._engine
    assert engine.args == {"model": "org/model", "max_model_len": 4096}
    assert backend.uses_chat_template
    backend.unload()
    assert engine.shutdowns == 1 and backend._engine is None and backend._loop is None


def test_sampling_params_are_explicit_and_max_tokens_always_set():
    backend = loaded_backend()
    try:
        kwargs = backend.sampling_kwargs(
            SamplingParams(n=4, max_tokens=300, temperature=0.9, top_p=0.5, seed=2)
        )
        assert kwargs == {
            "n": 4,
            "max_tokens": 300,
            "temperature": 0.9,
            "top_p": 0.5,
            "stop": [],
            "seed": 2,
            "output_kind": RequestOutputKind.FINAL_ONLY,
        }
        schema = {"type": "object"}
        structured = backend.sampling_kwargs(SamplingParams(json_schema=schema))
        assert structured["structured_outputs"] == {"json": schema}
    finally:
        backend.unload()


def test_generate_returns_every_sample_in_order_with_token_counts():
    backend = loaded_backend()
    try:
        result = backend.generate(PROMPT, SamplingParams(n=3, max_tokens=50))
        prompt, params, request_id = backend._engine.requests[0]
        assert prompt.startswith("<chat>") and prompt.endswith("|3.")
        assert params.kwargs["max_tokens"] == 50 and request_id.startswith("si-")
        assert [c.text for c in result.completions] == [" Task 0.", " Task 1.", " Task 2."]
        assert [c.completion_tokens for c in result.completions] == [2, 3, 4]
        assert result.prompt_tokens == 11 and result.model_id == "org/model"
        assert backend._engine.aborted == []
    finally:
        backend.unload()


def test_structured_output_starts_a_fresh_assistant_turn():
    backend = loaded_backend()
    try:
        backend.generate(PROMPT, SamplingParams(n=1, json_schema={"type": "object"}))
        prompt, params, _ = backend._engine.requests[0]
        assert prompt.startswith("<new>") and not prompt.endswith("|3.")
        assert params.kwargs["structured_outputs"] == {"json": {"type": "object"}}
    finally:
        backend.unload()


def test_without_chat_template_the_plain_list_is_sent():
    backend = loaded_backend(use_chat_template=False)
    try:
        backend.generate(PROMPT, SamplingParams(n=1))
        assert backend._engine.requests[0][0] == PROMPT.text
    finally:
        backend.unload()


def test_many_requests_in_flight_and_a_cancelled_one_is_aborted_in_the_engine():
    backend = loaded_backend()
    engine = backend._engine
    engine.hold.clear()
    dispatcher = RequestDispatcher(backend, max_in_flight=8).start()
    try:
        futures = [dispatcher.submit(PROMPT, SamplingParams(n=2)) for _ in range(6)]
        done = threading.Event()
        for _ in range(3000):
            if len(engine.requests) == 6:
                break
            done.wait(0.01)
        assert len(engine.requests) == 6  # all six reached the engine before any finished
        futures[0].cancel()
        for _ in range(3000):
            if engine.aborted:
                break
            done.wait(0.01)
        assert engine.aborted == [engine.requests[0][2]]
        engine.hold.set()
        assert all(len(f.result(30).completions) == 2 for f in futures[1:])
    finally:
        dispatcher.close()
        backend.unload()


def test_missing_vllm_says_how_to_get_it(monkeypatch):
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    backend = create_backend("vllm", model_path="org/model")
    with pytest.raises(RuntimeError, match="`vllm` extra"):
        backend.load()
    with pytest.raises(ValueError, match="SI_MODEL_PATH"):
        VLLMBackend("")


def test_request_building_against_vllms_own_types():
    if importlib.util.find_spec("vllm") is None:
        pytest.skip(
            "vllm is not installed: request building checked against stand-ins only (see README, GPU)"
        )
    import vllm
    from vllm.sampling_params import RequestOutputKind as RealKind

    backend = VLLMBackend("org/model", vllm_module=vllm)
    built = backend.sampling_params(
        SamplingParams(n=3, max_tokens=200, temperature=0.7, top_p=0.9, stop=("\n\n",))
    )
    assert isinstance(built, vllm.SamplingParams)
    assert (built.n, built.max_tokens, built.temperature, built.top_p) == (3, 200, 0.7, 0.9)
    assert built.stop == ["\n\n"] and built.output_kind == RealKind.FINAL_ONLY
    structured = backend.sampling_params(SamplingParams(json_schema={"type": "object"}))
    assert structured.max_tokens == 256
