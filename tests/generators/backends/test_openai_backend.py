"""The OpenAI-compatible backend through the real ``openai`` client against a scripted transport."""

from __future__ import annotations

import json

import httpx
import pytest

from generators.backends.base import SamplingParams
from generators.backends.openai_backend import OpenAIBackend
from generators.prompts import build_prompt

EXAMPLES = ["Name three primary colours.", "Translate 'good morning' into Spanish."]


def chat_response(texts: list[tuple[str, str]]) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": f}
            for i, (t, f) in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 30, "total_tokens": 70},
    }


def make_backend(handler, endpoint="chat", max_retries=0, extensions="none") -> OpenAIBackend:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return OpenAIBackend(
        "http://vllm.test/v1",
        "m",
        endpoint=endpoint,
        max_retries=max_retries,
        extensions=extensions,
        http_client=client,
    )


def test_a_standard_chat_request_asks_for_the_list_and_reads_the_reply_as_its_continuation():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        reply = "Sure! Here are new tasks:\n3. A new task.\n4. Another task."
        return httpx.Response(200, json=chat_response([(reply, "stop"), ("3. Second sample.", "stop")]))

    result = make_backend(handler).generate(build_prompt(EXAMPLES), SamplingParams(n=2))
    body = seen[0]
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert "numbered 3 to 10" in body["messages"][0]["content"]
    assert "continue_final_message" not in body and "add_generation_prompt" not in body
    assert [c.text for c in result.completions] == ["A new task.\n4. Another task.", "Second sample."]


def test_chat_request_is_explicit_and_continues_the_list():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        return httpx.Response(
            200, json=chat_response([(" A new task.\n4. Another task.", "stop"), (" Cut", "length")])
        )

    params = SamplingParams(n=2, max_tokens=128, temperature=0.5, top_p=0.9, stop=("\n\n",), seed=3)
    result = make_backend(handler, extensions="vllm").generate(build_prompt(EXAMPLES), params)
    path, body = seen[0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "m" and body["n"] == 2 and body["max_tokens"] == 128
    assert (
        body["temperature"] == 0.5 and body["top_p"] == 0.9 and body["stop"] == ["\n\n"] and body["seed"] == 3
    )
    assert body["messages"][-1] == {"role": "assistant", "content": "3."}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert [c.finish_reason for c in result.completions] == ["stop", "length"]
    assert result.completions[0].text.startswith(" A new task.")
    assert result.prompt_tokens == 40 and sum(c.completion_tokens for c in result.completions) == 30


def test_completions_endpoint_sends_the_numbered_list():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "id": "c",
                "object": "text_completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "text": " Task.", "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
            },
        )

    result = make_backend(handler, endpoint="completions").generate(
        build_prompt(EXAMPLES), SamplingParams(n=1)
    )
    assert seen[0]["prompt"].endswith("\n3.") and "messages" not in seen[0]
    assert result.completions[0].text == " Task."


def test_server_errors_are_retried_by_the_client_then_raised():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        return httpx.Response(200, json=chat_response([(" Fine task here.", "stop")]))

    result = make_backend(handler, max_retries=2).generate(build_prompt(EXAMPLES), SamplingParams(n=1))
    assert len(calls) == 3 and result.completions[0].text == "Fine task here."

    def always_500(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "engine dead"}})

    import openai

    with pytest.raises(openai.InternalServerError):
        make_backend(always_500, max_retries=0).generate(build_prompt(EXAMPLES), SamplingParams(n=1))


def _check_against_openai_schema(body: dict, endpoint: str) -> None:
    """Every keyword is one the client's ``create`` takes, and the typed request params validate."""
    import inspect

    from openai.resources.chat.completions import AsyncCompletions as AsyncChat
    from openai.resources.completions import AsyncCompletions
    from openai.types import completion_create_params
    from openai.types.chat import completion_create_params as chat_create_params
    from pydantic import TypeAdapter

    create = AsyncChat.create if endpoint == "chat" else AsyncCompletions.create
    typed = (
        chat_create_params.CompletionCreateParamsNonStreaming
        if endpoint == "chat"
        else completion_create_params.CompletionCreateParamsNonStreaming
    )
    assert set(body) <= set(inspect.signature(create).parameters), set(body) - set(
        inspect.signature(create).parameters
    )
    fields = typed.__required_keys__ | typed.__optional_keys__
    request = {k: v for k, v in body.items() if k != "extra_body"}
    assert set(request) <= fields, set(request) - fields
    TypeAdapter(typed).validate_python(request)


@pytest.mark.parametrize("extensions", ["vllm", "none"])
@pytest.mark.parametrize("endpoint", ["chat", "completions"])
@pytest.mark.parametrize("schema", [None, {"type": "object", "properties": {"input": {"type": "string"}}}])
def test_request_body_matches_the_openai_request_schema(endpoint, schema, extensions):
    backend = OpenAIBackend("http://vllm.test/v1", "m", endpoint=endpoint, extensions=extensions)
    params = SamplingParams(
        n=3, max_tokens=64, temperature=0.2, top_p=0.8, stop=("\n\n",), seed=7, json_schema=schema
    )
    body = backend.request_body(build_prompt(EXAMPLES), params)
    _check_against_openai_schema(body, endpoint)
    assert (body["n"], body["max_tokens"], body["seed"], body["stop"]) == (3, 64, 7, ["\n\n"])
    if schema is not None and endpoint == "chat":
        assert body["response_format"]["json_schema"]["schema"] == schema
        assert all(m["role"] != "assistant" for m in body["messages"])
    if schema is not None and endpoint == "completions" and extensions == "vllm":
        assert body["extra_body"]["response_format"]["type"] == "json_schema"
    if extensions == "none":  # standard fields only: a strict server takes them
        assert "extra_body" not in body


def test_a_bad_request_body_fails_the_schema_check():
    body = OpenAIBackend("http://vllm.test/v1", "m").request_body(build_prompt(EXAMPLES), SamplingParams())
    with pytest.raises(AssertionError):
        _check_against_openai_schema({**body, "max_new_tokens": 5}, "chat")
    with pytest.raises(ValueError):
        _check_against_openai_schema({**body, "n": "two"}, "chat")


async def test_async_path_uses_the_async_client_and_closes_it():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=chat_response([(" Async task.", "stop")]))

    backend = OpenAIBackend(
        "http://vllm.test/v1",
        "m",
        max_retries=0,
        async_http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    result = await backend.agenerate(build_prompt(EXAMPLES), SamplingParams(n=1, max_tokens=9))
    assert result.completions[0].text == "Async task." and seen[0]["max_tokens"] == 9
    await backend.aclose()
    assert backend._async_client is None


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_asking_for_logprobs_is_a_standard_field(endpoint):
    backend = OpenAIBackend("http://vllm.test/v1", "m", endpoint=endpoint, extensions="none")
    body = backend.request_body(build_prompt(EXAMPLES), SamplingParams(n=1, logprobs=5))
    _check_against_openai_schema(body, endpoint)
    assert body["logprobs"] == (True if endpoint == "chat" else 5)
    assert body.get("top_logprobs") == (5 if endpoint == "chat" else None)
    assert "logprobs" not in backend.request_body(build_prompt(EXAMPLES), SamplingParams(n=1))


def test_logprobs_are_read_from_chat_and_completion_choices_and_garbage_is_none():
    from types import SimpleNamespace as NS

    from generators.backends.logprobs import choice_logprobs

    alternatives = [NS(token="4", logprob=-0.1), NS(token="3", logprob=-2.0)]
    chat = NS(logprobs=NS(content=[NS(token="4", logprob=-0.1, top_logprobs=alternatives)]))
    (token,) = choice_logprobs(chat) or ()
    assert token.token == "4" and token.top == {"4": -0.1, "3": -2.0}
    completion = NS(logprobs=NS(content=None, tokens=["4"], top_logprobs=[{"4": -0.1, "5": -3.0}]))
    assert (choice_logprobs(completion) or ())[0].top == {"4": -0.1, "5": -3.0}
    assert choice_logprobs(NS(logprobs=None)) is None
    broken = [NS(token="4", logprob=-0.1, top_logprobs=[NS(token="4", logprob="x")])]
    assert choice_logprobs(NS(logprobs=NS(content=broken))) is None
