"""Templates with named slots: ``"Translate {sentence} into {language}."`` × each slot's value list.

``mode``: ``expand`` walks every template's full cartesian product in order (templates in the given
order, values in list order), deterministic, and is exhausted after the last row; ``sample`` draws a
template and one value per slot from the job's random stream. With ``phrase`` the filled template is sent
to the model, which rewrites it as one natural instruction; without, the filled text is the candidate.
A candidate's lineage names the template and the slot values it was filled with.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from generators.parsing import ParseResult, parse_completion, parse_single
from generators.prompts import Prompt, template_text
from generators.strategies.base import (
    ExampleSource,
    GenerationStrategy,
    StrategyContext,
    StrategyError,
    StrategyExhausted,
    StrategySettings,
    TemplateSpec,
)

MAX_VALUES_PER_SLOT = 1000


def template_slots(text: str) -> list[str]:
    """The slot names of a template, in order of first use (``{{`` and ``}}`` are literal braces)."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise StrategyError(f"template text: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() and not name.replace("_", "").isalnum():
            raise StrategyError(f"template text: slot {{{name}}} is not a plain name")
        if spec or conversion:
            raise StrategyError(f"template text: slot {{{name}}} may not carry a format spec")
        if name not in names:
            names.append(name)
    return names


def check_template(text: str, slots: Mapping[str, Sequence[str]]) -> None:
    """Raise :class:`StrategyError` naming the problem: a slot without values, an empty value list…"""
    used = template_slots(text)
    if not used:
        raise StrategyError("template text: it has no {slot}")
    for name in used:
        if name not in slots:
            raise StrategyError(f"template text: unknown template slot '{name}' (no value list given)")
    for name, values in slots.items():
        if name not in used:
            raise StrategyError(f"slots.{name}: unknown template slot '{name}' (not in the text)")
        if not values:
            raise StrategyError(f"slots.{name}: empty value list")
        if len(values) > MAX_VALUES_PER_SLOT:
            raise StrategyError(f"slots.{name}: more than {MAX_VALUES_PER_SLOT} values")
        if any(not v.strip() for v in values):
            raise StrategyError(f"slots.{name}: a value is empty")


def fill(template: TemplateSpec, values: Mapping[str, str]) -> str:
    return " ".join(template.text.format(**values).split())


class TemplateSettings(StrategySettings):
    templates: list[str] | None = Field(default=None, min_length=1, description="names; default all")
    mode: Literal["expand", "sample"] = "expand"
    phrase: bool = False


class TemplateStrategy(GenerationStrategy):
    id = "template"
    settings_model = TemplateSettings

    def __init__(self, templates: Sequence[TemplateSpec], settings: TemplateSettings, start: int = 0) -> None:
        self.templates = list(templates)
        self.settings = settings
        self.calls_model = settings.phrase
        self._position = start

    @classmethod
    def build(cls, settings: StrategySettings, context: StrategyContext) -> TemplateStrategy:
        assert isinstance(settings, TemplateSettings)
        by_name = {t.name: t for t in context.templates}
        if not by_name:
            raise StrategyError("strategy_settings.templates: the dataset has no templates")
        names = settings.templates or list(by_name)
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise StrategyError(f"strategy_settings.templates: unknown template {unknown[0]!r}")
        chosen = [by_name[n] for n in names]
        for template in chosen:
            try:
                check_template(template.text, template.slots)
            except StrategyError as exc:
                raise StrategyError(f"template {template.name!r}: {exc}") from None
        return cls(chosen, settings, int(context.extras.get("requests_done", 0)))

    def next_prompt(self, source: ExampleSource, rng: random.Random) -> Prompt:
        template, values = self._sample(rng) if self.settings.mode == "sample" else self._next_expansion()
        text = fill(template, values)
        lineage = {
            "strategy": self.id,
            "template_id": template.id,
            "template": template.name,
            "slots": dict(values),
        }
        if not self.settings.phrase:
            return Prompt(text=text, messages=(), first_number=1, kind="direct", lineage=lineage)
        request = template_text("template_phrase.txt").format(task=text)
        return Prompt(
            text=request,
            messages=({"role": "user", "content": request},),
            first_number=1,
            kind="template_phrase",
            lineage=lineage,
        )

    def parse(self, prompt: Prompt, text: str | None, finish_reason: str | None) -> ParseResult:
        if prompt.kind == "direct":
            return parse_single(text)
        return parse_single(text, finish_reason) if self.settings.phrase else parse_completion(text)

    def _next_expansion(self) -> tuple[TemplateSpec, dict[str, str]]:
        position = self._position
        for template in self.templates:
            names = template_slots(template.text)
            size = 1
            for name in names:
                size *= len(template.slots[name])
            if position < size:
                self._position += 1
                product = itertools.product(*(template.slots[n] for n in names))
                row = next(itertools.islice(product, position, None))
                return template, dict(zip(names, row, strict=True))
            position -= size
        raise StrategyExhausted("every template expansion was proposed")

    def _sample(self, rng: random.Random) -> tuple[TemplateSpec, dict[str, str]]:
        template = rng.choice(self.templates)
        return template, {n: rng.choice(list(template.slots[n])) for n in template_slots(template.text)}
