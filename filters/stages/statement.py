"""The candidate is a statement or bare passage, not a request (English; other scripts pass)."""

from __future__ import annotations

from filters.quality_rules import statement
from filters.stages.base import TextRuleStage


class StatementStage(TextRuleStage):
    id = "statement"
    rule_ids = ("statement",)

    def failure(self, text: str) -> tuple[str, str] | None:
        return statement(text, self.disabled)
