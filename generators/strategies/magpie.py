"""Magpie: an aligned chat model writes the user turn itself.

The prompt is the model's chat template rendered up to where the user's text would start, sent as a raw
completion (no chat template applied on top); what the model writes is taken as one instruction. Only
models whose template is known here qualify (:func:`chat_prefix_for`); others are refused when the job is
created.
"""

from __future__ import annotations

import random

from pydantic import Field

from generators.parsing import ParseResult, parse_single
from generators.prompts import Prompt
from generators.strategies.base import (
    ExampleSource,
    GenerationStrategy,
    StrategyContext,
    StrategyError,
    StrategySettings,
)

SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# model-id fragment (lower case) → the chat template up to the user turn's text
CHAT_PREFIXES = {
    "smollm2": f"<|im_start|>system\n{SMOLLM2_SYSTEM}<|im_end|>\n<|im_start|>user\n",
    "qwen2": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n",
    "llama-3": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n",
}


def chat_prefix_for(model_id: str) -> str | None:
    """The known chat-template prefix of ``model_id``, or None."""
    lowered = model_id.casefold().replace("_", "-")
    for fragment, prefix in CHAT_PREFIXES.items():
        if fragment in lowered:
            return prefix
    return None


class MagpieSettings(StrategySettings):
    system: str | None = Field(default=None, max_length=2000, description="replaces the default system turn")


class MagpieStrategy(GenerationStrategy):
    id = "magpie"
    settings_model = MagpieSettings

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> MagpieStrategy:
        assert isinstance(settings, MagpieSettings)
        prefix = context.chat_prefix
        model = context.extras.get("model_id", "this model")
        if prefix is None:
            raise StrategyError(
                f"strategy: magpie needs a chat model whose chat template is known; {model!r} has none "
                f"(known: {', '.join(CHAT_PREFIXES)})"
            )
        if settings.system is not None and prefix.startswith("<|im_start|>system\n"):
            prefix = f"<|im_start|>system\n{settings.system}<|im_end|>\n<|im_start|>user\n"
        return cls(prefix)

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        return Prompt(
            text=self.prefix,
            messages=(),
            first_number=1,
            kind="magpie",
            raw=True,
            lineage={"strategy": self.id, "chat_prefix": self.prefix},
        )

    def parse(self, prompt: Prompt, text: str | None, finish_reason: str | None) -> ParseResult:
        return parse_single(text, finish_reason)
