from __future__ import annotations

import asyncio

import openai
import pytest

from tests.support.fake_openai_server import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "List tasks."}, {"role": "assistant", "content": "9."}]


def test_unknown_behaviours_are_refused():
    with pytest.raises(ValueError, match="unknown behaviour"):
        FakeOpenAIServer(script=["ok", "explode"])


async def test_continues_the_open_item_and_never_serves_more_than_its_capacity():
    with FakeOpenAIServer(capacity=2, latency_s=0.2) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        responses = await asyncio.gather(
            *[
                client.chat.completions.create(model="m", messages=MESSAGES, n=2, max_tokens=200)
                for _ in range(5)
            ]
        )
        await client.close()
        assert server.stats.served == 5 and server.stats.max_concurrent == 2
        assert 0.0 < server.utilisation() <= 1.0
    for response in responses:
        assert len(response.choices) == 2 and response.usage.completion_tokens > 0
        text = response.choices[0].message.content
        assert "\n10. " in text and response.choices[0].finish_reason == "stop"


async def test_length_keeps_the_list_layout_and_cuts_the_last_item():
    with FakeOpenAIServer(default="length") as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        response = await client.completions.create(model="m", prompt="Tasks:\n1. A\n2.", max_tokens=500)
        await client.close()
    choice = response.choices[0]
    assert choice.finish_reason == "length" and "\n3. " in choice.text and not choice.text.endswith(".")
