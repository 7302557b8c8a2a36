"""The candidate holds template placeholders or leftover markup."""

from __future__ import annotations

from filters.quality_rules import leftover_template
from filters.stages.base import TextRuleStage


class LeftoverTemplateStage(TextRuleStage):
    id = "leftover_template"
    rule_ids = ("placeholder", "markup")

    def failure(self, text: str) -> tuple[str, str] | None:
        return leftover_template(text, self.disabled)
