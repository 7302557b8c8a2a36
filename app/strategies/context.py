"""Building a job's strategy: its settings validated, its context lent by the service.

:func:`build_strategy` is called twice with the same arguments: when the job is created (so bad
settings are a 4xx naming the field and nothing is stored) and when a worker runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.core.settings import Settings
from app.models import Dataset, Instruction, TaskInstance, Template
from app.pipeline.pools import PoolRegistry
from app.retrieval.similarity import similar
from filters.novelty_pool import NoveltyPool
from generators.backends.base import LLMBackend
from generators.backends.openai_backend import OpenAIBackend
from generators.strategies import (
    STRATEGIES,
    Example,
    GenerationStrategy,
    StrategyContext,
    StrategyError,
    TemplateSpec,
)
from generators.strategies.base import settings_error
from generators.strategies.magpie import chat_prefix_for

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"


class PoolItems:
    """A dataset's novelty pool as a strategy sees it: texts, and texts with their stored ids."""

    def __init__(self, novelty: NoveltyPool) -> None:
        self.novelty = novelty

    def seed_texts(self) -> list[str]:
        return self.novelty.seed_texts()

    def machine_texts(self) -> list[str]:
        return self.novelty.machine_texts()

    def seed_items(self) -> list[Example]:
        return [Example(i, self.novelty.texts[i]) for i in self.novelty.seed_ids]

    def machine_items(self) -> list[Example]:
        return [Example(i, self.novelty.texts[i]) for i in self.novelty.machine_ids]


def stored_values(session: Session, dataset_id: int, source: str, limit: int) -> list[str]:
    """Slot values drawn from the dataset: accepted instructions or stored instances' inputs, in id order."""
    if source == "instructions":
        query = (
            select(Instruction.instruction)
            .where(col(Instruction.dataset_id) == dataset_id, col(Instruction.accepted))
            .order_by(col(Instruction.id))
        )
    else:
        query = (
            select(TaskInstance.input)
            .where(col(TaskInstance.dataset_id) == dataset_id, col(TaskInstance.accepted))
            .where(col(TaskInstance.input) != "")
            .order_by(col(TaskInstance.id))
        )
    values = list(dict.fromkeys(v.strip() for v in session.exec(query.limit(limit * 4)).all() if v.strip()))
    return values[:limit]


def template_specs(session: Session, dataset_id: int) -> list[TemplateSpec]:
    rows = session.exec(
        select(Template).where(col(Template.dataset_id) == dataset_id).order_by(col(Template.id))
    )
    specs = []
    for row in rows:
        slots: dict[str, list[str]] = {}
        for name, spec in row.slots.items():
            if isinstance(spec, dict):
                slots[name] = stored_values(
                    session, dataset_id, str(spec["from"]), int(spec.get("limit", 100))
                )
            else:
                slots[name] = [str(v) for v in spec]  # type: ignore[attr-defined]
        specs.append(TemplateSpec(id=int(row.id or 0), name=row.name, text=row.text, slots=slots))
    return specs


def model_name(backend: LLMBackend, settings: Settings) -> str:
    """The model's id, also before it has loaded (the configured path's name)."""
    loaded = backend.model_id
    if loaded not in ("", "unknown"):
        return loaded
    if settings.model_path:
        return Path(settings.model_path).stem or settings.model_path
    return DEFAULT_MODEL_NAME if settings.backend == "transformers" else loaded


def raw_chat_prefix(backend: LLMBackend, settings: Settings) -> str | None:
    """The model's chat template up to the user turn, when known and the backend can send raw text."""
    if isinstance(backend, OpenAIBackend) and backend.endpoint == "chat":
        return None  # a chat endpoint applies its own template: no raw completion
    return chat_prefix_for(model_name(backend, settings))


def build_strategy(
    session: Session,
    registry: PoolRegistry,
    backend: LLMBackend,
    settings: Settings,
    dataset: Dataset,
    name: str,
    raw_settings: dict[str, Any],
    requests_done: int = 0,
) -> GenerationStrategy:
    """The job's strategy; raises :class:`StrategyError` naming the problem."""
    cls = STRATEGIES.get(name)
    if cls is None:
        raise StrategyError(f"strategy: unknown strategy {name!r}; strategies: {', '.join(STRATEGIES)}")
    try:
        strategy_settings = cls.settings_model.model_validate(raw_settings)
    except ValidationError as exc:
        raise StrategyError(f"strategy_settings.{settings_error(exc)}") from None
    nearest = None
    if registry.embedder is not None:
        source = dataset
        wanted = getattr(strategy_settings, "source_dataset", None)
        if wanted is not None:
            found = session.exec(select(Dataset).where(Dataset.name == wanted)).first()
            if found is None:
                raise StrategyError(f"strategy_settings.source_dataset: dataset {wanted!r} does not exist")
            source = found

        def nearest(query: str, k: int) -> list[Example]:
            pool = registry.get(source)
            return [Example(item.id, item.instruction) for item in similar(registry, pool, query, k)]

    context = StrategyContext(
        nearest=nearest,
        embed=registry.embedder.embed if registry.embedder is not None else None,
        templates=template_specs(session, int(dataset.id or 0)) if name == "template" else (),
        chat_prefix=raw_chat_prefix(backend, settings),
        extras={
            "n_human": dataset.num_human_examples,
            "n_machine": dataset.num_machine_examples,
            "domain_description": dataset.description,
            "model_id": model_name(backend, settings),
            "requests_done": requests_done,
        },
    )
    return cls.build(strategy_settings, context)
