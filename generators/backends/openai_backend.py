"""Any OpenAI-compatible server (``vllm serve``, ``transformers serve``, …) through the official ``openai``
client.

Request shapes are standard by default. Server-specific extensions are sent only to a server known to
accept them: ``extensions="auto"`` asks the server at load time (vLLM answers ``GET /version`` and lists
its models ``owned_by: "vllm"``), ``"vllm"`` or ``"none"`` says so without asking. With vLLM's
extensions, ``endpoint="chat"`` continues the assistant turn that opens the next list item
(``continue_final_message``) and ``/completions`` takes a ``response_format``. Without them the chat
request is the user turn alone (it asks for the list, numbered from the open item) and the reply is read
from its first list item on, as if it continued that item (see :func:`as_continuation`);
``endpoint="completions"`` sends the plain numbered-list text and suits base models. Every sampling
setting is sent explicitly; a ``json_schema`` on chat becomes the standard ``response_format``.

``n``: a server that returns fewer choices than asked (``transformers serve`` returns one) is asked
again, one sample per request with its own seed, until the request has its ``n`` samples; from then on
the backend sends ``n`` single-sample requests at once. The result's ``extra`` says so
(``n_made_up``: how many samples came from extra requests), and the ledger records it.

Faults: the client itself retries 429, 5xx and connection errors with exponential backoff and jitter,
honouring ``Retry-After`` (``max_retries``), and gives up on an attempt after ``timeout_s``. A 4xx that a
retry cannot fix becomes :class:`RequestRejected` with the server's own message. The async path
(:meth:`agenerate`, used by the service) runs on ``AsyncOpenAI``: cancelling the awaiting task closes the
connection (vLLM then aborts the request).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, Required, TypedDict

from generators.backends.base import (
    Completion,
    GenerationResult,
    LLMBackend,
    RequestRejected,
    SamplingParams,
)
from generators.backends.logprobs import choice_logprobs, logprob_fields
from generators.backends.server_probe import ServerProbe
from generators.prompts import Prompt

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

logger = logging.getLogger(__name__)

Extensions = Literal["auto", "vllm", "none"]


class OpenAIOptions(TypedDict, total=False):
    """The configured keyword arguments of :class:`OpenAIBackend` (what ``create_backend`` passes on)."""

    base_url: Required[str]
    model: Required[str]
    api_key: str
    endpoint: Literal["chat", "completions"]
    timeout_s: float
    max_retries: int
    extensions: Extensions


class OpenAIBackend(LLMBackend):
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        endpoint: Literal["chat", "completions"] = "chat",
        timeout_s: float = 120.0,
        max_retries: int = 3,
        extensions: Extensions = "auto",
        http_client: Any = None,
        async_http_client: Any = None,
    ) -> None:
        self.base_url = base_url
        self.model_id = model
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.extensions = extensions
        self.vllm_extensions = extensions == "vllm"
        self.ignores_n = False
        self.uses_chat_template = endpoint == "chat"
        self.probe = ServerProbe(base_url, model, api_key)
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
        if self.extensions == "auto":
            self.vllm_extensions = self.probe.is_vllm()
            logger.info(
                "model server at %s: %s",
                self.base_url,
                "vLLM, its extensions used" if self.vllm_extensions else "standard requests only",
            )
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(**self._client_options(), http_client=self._http_client)

    def server_problem(self) -> str | None:
        return self.probe.problem()

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
        body |= logprob_fields(self.endpoint, params.logprobs)
        if self.endpoint == "chat":
            body["messages"] = [dict(m) for m in prompt.messages]
            if params.json_schema is not None:  # a fresh JSON answer, not a continued list
                body["messages"] = [m for m in body["messages"] if m["role"] != "assistant"]
                body["response_format"] = json_schema_format(params.json_schema)
            elif self.vllm_extensions and prompt.messages and prompt.messages[-1]["role"] == "assistant":
                body["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
            else:  # the user turn asks for the list; the reply is read as the continuation
                body["messages"] = [m for m in body["messages"] if m["role"] != "assistant"]
        else:
            body["prompt"] = prompt.text
            if params.json_schema is not None and self.vllm_extensions:  # vLLM's structured output
                body["extra_body"] = {"response_format": json_schema_format(params.json_schema)}
        return body

    def _single_bodies(self, body: dict[str, Any], count: int, seed: int | None) -> list[dict[str, Any]]:
        """``count`` one-sample requests, each with its own seed (the server ignores ``n``)."""
        base = 0 if seed is None else seed
        return [{**body, "n": 1, "seed": (base + i + 1) % 2**31} for i in range(count)]

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        self.load()
        client = self._client
        if client is None:
            raise RuntimeError("openai backend not loaded")
        body = self.request_body(prompt, params)
        api = client.chat.completions if self.endpoint == "chat" else client.completions
        started = time.perf_counter()
        with server_rejections():
            responses = [api.create(**body)]
            missing = params.n - self._count(responses)
            for extra in self._single_bodies(body, max(missing, 0), params.seed):
                responses.append(api.create(**extra))
        return self._result(prompt, params, body, responses, time.perf_counter() - started)

    async def agenerate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        if self._async_client is None:
            from openai import AsyncOpenAI

            self._async_client = AsyncOpenAI(**self._client_options(), http_client=self._async_http_client)
        client = self._async_client
        body = self.request_body(prompt, params)
        api = client.chat.completions if self.endpoint == "chat" else client.completions
        started = time.perf_counter()
        with server_rejections():
            if self.ignores_n and params.n > 1:
                bodies = self._single_bodies(body, params.n, params.seed)
                responses = list(await asyncio.gather(*(api.create(**b) for b in bodies)))
            else:
                responses = [await api.create(**body)]
                missing = params.n - self._count(responses)
                extra = self._single_bodies(body, max(missing, 0), params.seed)
                responses += await asyncio.gather(*(api.create(**b) for b in extra))
        return self._result(prompt, params, body, responses, time.perf_counter() - started)

    def _count(self, responses: list[Any]) -> int:
        return sum(len(r.choices) for r in responses)

    def _result(
        self,
        prompt: Prompt,
        params: SamplingParams,
        body: dict[str, Any],
        responses: list[Any],
        elapsed: float,
    ) -> GenerationResult:
        chat = self.endpoint == "chat"
        choices = [c for response in responses for c in response.choices][: params.n]
        texts = [((c.message.content if chat else c.text) or "", c.finish_reason) for c in choices]
        usages = [r.usage for r in responses if r.usage]  # each request read the prompt again
        prompt_tokens = sum(u.prompt_tokens for u in usages)
        completion_tokens = sum(u.completion_tokens for u in usages)
        continued = self.endpoint == "completions" or self.vllm_extensions or params.json_schema is not None
        if not continued:
            prefix = next((m["content"] for m in prompt.messages if m["role"] == "assistant"), "")
            texts = [(as_continuation(t, prefix, prompt.kind), r) for t, r in texts]
        share = completion_tokens // max(len(texts), 1)
        completions = [
            Completion(text, reason or "stop", share, choice_logprobs(choice) if params.logprobs else None)
            for (text, reason), choice in zip(texts, choices, strict=True)
        ]
        rendered = (
            prompt.text
            if self.endpoint == "completions"
            else json.dumps(body["messages"], ensure_ascii=False)
        )
        extra: dict[str, object] = {}
        first = len(responses[0].choices)
        if len(responses) > 1:  # the server ignores n: the ledger says how the samples were made up
            if not self.ignores_n:
                logger.warning(
                    "model server at %s returned %d of %d choices: one request per sample from now on",
                    self.base_url,
                    first,
                    params.n,
                )
            self.ignores_n = True
            extra = {"n_returned": first, "server_requests": len(responses)}
        return GenerationResult(rendered, completions, prompt_tokens, self.model_id, elapsed, extra)


_ITEM = re.compile(r"(?:^|\n)[ \t]*(\d{1,3})[ \t]*[.):][ \t]*")


def as_continuation(reply: str, prefix: str, kind: str) -> str:
    """A chat reply to the user turn alone, read as the continuation of the assistant ``prefix`` it did not
    see: a repeated prefix is removed; for a task list, a preamble before the first numbered item is
    dropped (``"Sure! Here are…\\n9. A\\n10. B"`` → ``"A\\n10. B"``)."""
    text = reply.lstrip()
    if prefix and text.startswith(prefix):
        return text[len(prefix) :].lstrip(" \t")
    if kind == "tasks":
        match = _ITEM.search(text)
        if match:
            return text[match.end() :]
    return text


@contextmanager
def server_rejections() -> Iterator[None]:
    """Re-raise a 4xx that a retry cannot fix as :class:`RequestRejected`; anything else as it is."""
    try:
        yield
    except Exception as exc:
        rejected = as_rejected(exc)
        if rejected is None:
            raise
        raise rejected from exc


def as_rejected(exc: Exception) -> RequestRejected | None:
    """A 4xx that a retry cannot fix as :class:`RequestRejected` with the server's own message."""
    from openai import APIStatusError

    if isinstance(exc, APIStatusError) and 400 <= exc.status_code < 500 and exc.status_code not in (408, 429):
        return RequestRejected(exc.status_code, server_message(exc.body, exc.response.text))
    return None


def server_message(body: object, text: str) -> str:
    """The message in an error body: OpenAI's ``{"error": {"message"}}``, FastAPI's ``{"detail"}``, …"""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "msg"):
                if inner.get(key):
                    value = inner[key]
                    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if isinstance(inner, str):
            return inner
    return (text or "").strip()[:1000] or "(no message)"


def json_schema_format(schema: dict[str, Any], name: str = "answer") -> dict[str, Any]:
    """The ``response_format`` that asks for JSON valid against ``schema``."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
