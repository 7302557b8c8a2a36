"""Any OpenAI-compatible server, first of all ``vllm serve MODEL``, through the official ``openai`` client.

``endpoint="chat"`` sends the prompt's messages to ``/chat/completions``; the assistant turn that opens
the next list item is continued with vLLM's ``continue_final_message`` extension (servers without it
ignore unknown fields or should use ``endpoint="completions"``, which sends the plain numbered-list text
to ``/completions`` and suits base models). Every sampling setting is sent explicitly; a
``json_schema`` in the sampling parameters becomes ``response_format`` (structured output).

Faults: the client itself retries 429, 5xx and connection errors with exponential backoff and jitter,
honouring ``Retry-After`` (``max_retries``), and gives up on an attempt after ``timeout_s``. The async
path (:meth:`agenerate`, used by the service) runs on ``AsyncOpenAI``: cancelling the awaiting task
closes the connection, and vLLM aborts a request whose client has gone.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Literal, Required, TypedDict

from generators.backends.base import Completion, GenerationResult, LLMBackend, SamplingParams
from generators.prompts import Prompt

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

logger = logging.getLogger(__name__)


class OpenAIOptions(TypedDict, total=False):
    """The configured keyword arguments of :class:`OpenAIBackend` (what ``create_backend`` passes on)."""

    base_url: Required[str]
    model: Required[str]
    api_key: str
    endpoint: Literal["chat", "completions"]
    timeout_s: float
    max_retries: int


class OpenAIBackend(LLMBackend):
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        endpoint: Literal["chat", "completions"] = "chat",
        timeout_s: float = 120.0,
        max_retries: int = 3,
        http_client: Any = None,
        async_http_client: Any = None,
    ) -> None:
        self.base_url = base_url
        self.model_id = model
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.uses_chat_template = endpoint == "chat"
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._client: OpenAI | None = None
        self._async_client: AsyncOpenAI | None = None

    def _client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "timeout": self.timeout_s,
            "max_retries": self.max_retries,
        }

    def load(self) -> None:
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(**self._client_options(), http_client=self._http_client)

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._async_client is not None:
            await self._async_client.close()
            self._async_client = None

    def request_body(self, prompt: Prompt, params: SamplingParams) -> dict[str, Any]:
        """The keyword arguments of the client call (everything explicit; no server default trusted)."""
        body: dict[str, Any] = {
            "model": self.model_id,
            "n": params.n,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if self.endpoint == "chat":
            body["messages"] = [dict(m) for m in prompt.messages]
            if params.json_schema is not None:  # a fresh JSON answer, not a continued list
                body["messages"] = [m for m in body["messages"] if m["role"] != "assistant"]
                body["response_format"] = json_schema_format(params.json_schema)
            elif prompt.messages and prompt.messages[-1]["role"] == "assistant":
                body["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
        else:
            body["prompt"] = prompt.text
            if params.json_schema is not None:  # vLLM's structured output on /completions
                body["extra_body"] = {"response_format": json_schema_format(params.json_schema)}
        return body

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        self.load()
        client = self._client
        if client is None:
            raise RuntimeError("openai backend not loaded")
        body = self.request_body(prompt, params)
        started = time.perf_counter()
        api = client.chat.completions if self.endpoint == "chat" else client.completions
        response = api.create(**body)
        return self._result(prompt, body, response, time.perf_counter() - started)

    async def agenerate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        if self._async_client is None:
            from openai import AsyncOpenAI

            self._async_client = AsyncOpenAI(**self._client_options(), http_client=self._async_http_client)
        client = self._async_client
        body = self.request_body(prompt, params)
        started = time.perf_counter()
        api = client.chat.completions if self.endpoint == "chat" else client.completions
        response = await api.create(**body)
        return self._result(prompt, body, response, time.perf_counter() - started)

    def _result(
        self, prompt: Prompt, body: dict[str, Any], response: Any, elapsed: float
    ) -> GenerationResult:
        if self.endpoint == "chat":
            texts = [(c.message.content or "", c.finish_reason) for c in response.choices]
        else:
            texts = [(c.text or "", c.finish_reason) for c in response.choices]
        usage = response.usage
        completion_tokens = usage.completion_tokens if usage else 0
        share = completion_tokens // max(len(texts), 1)
        completions = [Completion(text, reason or "stop", share) for text, reason in texts]
        rendered = (
            prompt.text
            if self.endpoint == "completions"
            else json.dumps(body["messages"], ensure_ascii=False)
        )
        return GenerationResult(
            rendered, completions, usage.prompt_tokens if usage else 0, self.model_id, elapsed
        )


def json_schema_format(schema: dict[str, Any], name: str = "answer") -> dict[str, Any]:
    """The ``response_format`` that asks for JSON valid against ``schema``."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
