"""The candidate is cut off: a trailing colon, an open quote or bracket, a dangling word."""

from __future__ import annotations

from filters.quality_rules import cut_off
from filters.stages.base import TextRuleStage


class CutOffStage(TextRuleStage):
    id = "cut_off"
    rule_ids = ("ends_with_colon", "unclosed_quote", "dangling_word")

    def failure(self, text: str) -> tuple[str, str] | None:
        return cut_off(text, self.disabled)
