"""Generation backends behind one interface; :func:`create_backend` picks one by name."""

from __future__ import annotations

from pathlib import Path

from generators.backends.base import (
    Completion,
    GenerationResult,
    LLMBackend,
    SamplingParams,
)
from generators.backends.openai_backend import OpenAIOptions

BACKENDS = ("transformers", "openai", "vllm", "fake")


def create_backend(
    name: str,
    model_path: str | None = None,
    device: str | None = None,
    openai_options: OpenAIOptions | None = None,
    vllm_engine_args: dict[str, object] | None = None,
    model_cache_dir: str | Path | None = None,
) -> LLMBackend:
    """Build (but do not load) the named backend; ``openai_options`` configures ``"openai"``;
    ``model_cache_dir`` is where ``"transformers"`` keeps a GGUF model once de-quantised."""
    if name == "transformers":
        from generators.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model_path=model_path, device=device, cache_dir=model_cache_dir)
    if name == "openai":
        from generators.backends.openai_backend import OpenAIBackend

        if openai_options is None:
            raise ValueError("the openai backend needs openai_options (at least base_url and model)")
        return OpenAIBackend(**openai_options)
    if name == "vllm":
        from generators.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model_path or "", engine_args=vllm_engine_args)
    if name == "fake":
        from generators.backends.fake import FakeBackend

        return FakeBackend()
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "Completion",
    "GenerationResult",
    "LLMBackend",
    "OpenAIOptions",
    "SamplingParams",
    "create_backend",
]
