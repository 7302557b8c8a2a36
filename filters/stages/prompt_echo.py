"""The candidate restates the generation request (filters/quality_rules.py ``prompt_echo``)."""

from __future__ import annotations

from filters.quality_rules import prompt_echo
from filters.stages.base import TextRuleStage


class PromptEchoStage(TextRuleStage):
    id = "prompt_echo"
    rule_ids = ("prompt_echo",)

    def failure(self, text: str) -> tuple[str, str] | None:
        return prompt_echo(text, self.disabled)
