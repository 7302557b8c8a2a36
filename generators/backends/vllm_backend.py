"""vLLM's in-process async engine (``vllm.AsyncLLMEngine``) on the GPU of this process.

``vllm`` is imported in :meth:`VLLMBackend.load`, so this module imports anywhere; install it in its own
environment (see README, "GPU"). The engine lives on an event loop in a thread of its own, whoever
calls: :meth:`agenerate` from the service's dispatcher loop and :meth:`generate` from a plain thread
both hand their request to that loop, where vLLM's continuous batching serves every request in flight
together. :meth:`unload` (called in the app lifespan's ``finally``) shuts the engine down.

``SamplingParams`` are built explicitly: vLLM's own default ``max_tokens=16`` would silently truncate
every completion. ``n`` samples share one prompt (one prefill). A request whose awaiting task is
cancelled is aborted in the engine, so work nobody wants stops using the GPU.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import threading
import time
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from generators.backends.base import Completion, GenerationResult, LLMBackend, SamplingParams
from generators.prompts import Prompt

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class VLLMBackend(LLMBackend):
    def __init__(
        self,
        model: str,
        engine_args: dict[str, Any] | None = None,
        use_chat_template: bool | None = None,
        vllm_module: Any = None,
    ) -> None:
        if not model:
            raise ValueError("the vllm backend needs a model (SI_MODEL_PATH: a Hugging Face id or folder)")
        self.model_id = model
        self.engine_args = dict(engine_args or {})
        self._use_chat_template = use_chat_template
        self._vllm = vllm_module
        self._engine: Any = None
        self._tokenizer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle
    def load(self) -> None:
        if self._engine is not None:
            return
        if self._vllm is None:
            try:
                self._vllm = importlib.import_module("vllm")
            except ImportError as exc:
                raise RuntimeError(
                    "SI_BACKEND=vllm needs the vllm package and a CUDA GPU: install the `vllm` extra "
                    "in its own environment (see README, GPU)"
                ) from exc
        started = time.perf_counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vllm-engine-loop", daemon=True)
        self._thread.start()
        try:
            self._run(self._start_engine()).result()
        except BaseException:
            self._stop_loop()
            raise
        logger.info(
            "vLLM engine for %s ready in %.1fs (chat template: %s)",
            self.model_id,
            time.perf_counter() - started,
            self.uses_chat_template,
        )

    async def _start_engine(self) -> None:
        vllm = self._vllm
        args = vllm.AsyncEngineArgs(model=self.model_id, **self.engine_args)
        self._engine = vllm.AsyncLLMEngine.from_engine_args(args)
        tokenizer = self._engine.get_tokenizer()
        self._tokenizer = await tokenizer if asyncio.iscoroutine(tokenizer) else tokenizer
        has_template = bool(getattr(self._tokenizer, "chat_template", None))
        self.uses_chat_template = has_template if self._use_chat_template is None else self._use_chat_template

    def unload(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                shutdown = getattr(engine, "shutdown", None) or engine.shutdown_background_loop
                shutdown()
            finally:
                self._stop_loop()
                logger.info("vLLM engine for %s shut down", self.model_id)

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(30)
            self._loop = self._thread = None

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        if self._loop is None:
            raise RuntimeError("vllm backend not loaded")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # -------------------------------------------------------------- requests
    def render(self, prompt: Prompt, structured: bool = False) -> str:
        """The exact text the engine gets: the chat template continuing the assistant turn, or the list.
        A structured (JSON) answer starts a fresh assistant turn instead of continuing the list."""
        if not self.uses_chat_template or prompt.raw:
            return prompt.text
        if structured or not prompt.messages or prompt.messages[-1]["role"] != "assistant":
            messages = [m for m in prompt.messages if m["role"] != "assistant"]
            return self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self._tokenizer.apply_chat_template(
            list(prompt.messages), tokenize=False, continue_final_message=True
        )

    def sampling_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        """Keyword arguments of ``vllm.SamplingParams``: every setting explicit, ``max_tokens`` always."""
        kwargs: dict[str, Any] = {
            "n": params.n,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop": list(params.stop),
            "seed": params.seed,
        }
        module = self._vllm.sampling_params
        kind = getattr(module, "RequestOutputKind", None)
        if kind is not None:  # only the finished request comes back, not every decoding step
            kwargs["output_kind"] = kind.FINAL_ONLY
        if params.json_schema is not None:
            if hasattr(module, "StructuredOutputsParams"):
                kwargs["structured_outputs"] = module.StructuredOutputsParams(json=params.json_schema)
            else:  # vLLM before 0.11
                kwargs["guided_decoding"] = module.GuidedDecodingParams(json=params.json_schema)
        return kwargs

    def sampling_params(self, params: SamplingParams) -> Any:
        return self._vllm.SamplingParams(**self.sampling_kwargs(params))

    async def _generate_on_engine(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        text = self.render(prompt, structured=params.json_schema is not None)
        request_id = f"si-{uuid.uuid4().hex}"
        started = time.perf_counter()
        final = None
        try:
            async for output in self._engine.generate(text, self.sampling_params(params), request_id):
                final = output
        finally:
            if final is None or not final.finished:
                await self._engine.abort(request_id)
        if final is None:
            raise RuntimeError(f"vLLM returned nothing for request {request_id}")
        completions = [
            Completion(o.text, o.finish_reason or "stop", len(o.token_ids))
            for o in sorted(final.outputs, key=lambda o: o.index)
        ]
        prompt_tokens = len(final.prompt_token_ids or [])
        return GenerationResult(
            text, completions, prompt_tokens, self.model_id, time.perf_counter() - started
        )

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        self.load()
        future = self._run(self._generate_on_engine(prompt, params))
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    async def agenerate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        if self._engine is None:
            await asyncio.to_thread(self.load)
        return await asyncio.wrap_future(self._run(self._generate_on_engine(prompt, params)))
