"""Any OpenAI-compatible server, first of all ``vllm serve MODEL``, through the official ``openai`` client.

``endpoint="chat"`` sends the prompt's messages to ``/chat/completions``; the assistant turn that opens
the next list item is continued with vLLM's ``continue_final_message`` extension (servers without it
ignore unknown fields or should use ``endpoint="completions"``, which sends the plain numbered-list text
to ``/completions`` and suits base models). The client retries 429, 5xx and connection errors with
exponential backoff (``max_retries``) and gives up on a call after ``timeout_s``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Literal

from generators.backends.base import Completion, GenerationResult, LLMBackend, SamplingParams
from generators.prompts import Prompt

logger = logging.getLogger(__name__)


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
    ) -> None:
        self.base_url = base_url
        self.model_id = model
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.uses_chat_template = endpoint == "chat"
        self._http_client = http_client
        self._client = None

    def load(self) -> None:
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                timeout=self.timeout_s,
                max_retries=self.max_retries,
                http_client=self._http_client,
            )

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

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
            body["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
        else:
            body["prompt"] = prompt.text
        return body

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        self.load()
        body = self.request_body(prompt, params)
        started = time.perf_counter()
        if self.endpoint == "chat":
            response = self._client.chat.completions.create(**body)
            texts = [(c.message.content or "", c.finish_reason) for c in response.choices]
        else:
            response = self._client.completions.create(**body)
            texts = [(c.text or "", c.finish_reason) for c in response.choices]
        elapsed = time.perf_counter() - started
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
