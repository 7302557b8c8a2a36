"""The decision-stage interface: an id, the rule ids it rejects with, the fields it records, ``check``.

A stage looks at one candidate (its text, tokens, vector) and the pool and returns a :class:`Verdict`:
the rule that rejects it (or None) and the scores it measured, named after fields of
:class:`filters.decision.Decision`. Stages are built from a :class:`ChainConfig`; the chain
(filters/chain.py) runs them in the configured order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from filters.heuristics import HeuristicConfig, preset
from filters.novelty_pool import NoveltyPool
from filters.rouge import DEFAULT_THRESHOLD as DEFAULT_ROUGE_THRESHOLD

# measured on the shipped seed sets (benchmarks/embedding_threshold.py; README "Embedding threshold")
DEFAULT_EMBEDDING_THRESHOLD = 0.85
# the quality rules (filters/quality_rules.py) look at the text alone, so they run before the novelty stages
QUALITY_RULE_STAGES: tuple[str, ...] = ("prompt_echo", "statement", "cut_off", "leftover_template")
# the judge last: a candidate the pool rejects keeps the novelty rule as its reason
DEFAULT_STAGE_ORDER: tuple[str, ...] = (
    "heuristics",
    *QUALITY_RULE_STAGES,
    "relevance",
    "exact",
    "rouge",
    "embedding",
    "judge",
)
# measured on the user-oriented Self-Instruct tasks grouped by domain (benchmarks/relevance_threshold.py)
DEFAULT_RELEVANCE_THRESHOLD = 0.25
DEFAULT_JUDGE_THRESHOLD = 3.0  # overall score 1-5: keep what the judge calls at least acceptable


@dataclass(frozen=True)
class ChainConfig:
    """A dataset's decision settings: which stages run in which order, and their parameters."""

    heuristics: HeuristicConfig = field(default_factory=preset)
    stages: tuple[str, ...] = DEFAULT_STAGE_ORDER
    rouge_threshold: float = DEFAULT_ROUGE_THRESHOLD
    embedding_threshold: float = DEFAULT_EMBEDDING_THRESHOLD
    disabled_rules: frozenset[str] = frozenset()  # rule ids switched off (the heuristics' are in there too)
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    judge_threshold: float = DEFAULT_JUDGE_THRESHOLD
    # the domain description's vector then the seeds' (None: no domain, the relevance stage is off)
    relevance_reference: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass
class StageInput:
    """One candidate as the stages see it; tokens are computed once, by the first stage that asks."""

    text: str
    vector: np.ndarray | None = None
    # what a model measured when the candidate was first decided (relevance, judge scores), named after
    # Decision fields: a re-decision from storage (replay) carries them, and a stage that measures with a
    # model reads them instead of calling it again
    stored: Mapping[str, float | None] = field(default_factory=dict)
    _tokens: list[str] | None = None
    # answers a stage started for this candidate before the chain ran (DecisionStage.start), by stage id;
    # the chain clears them before each decision, so an answer never outlives the pool state it read
    ahead: dict[str, Callable[[], object]] = field(default_factory=dict)

    def tokens(self, pool: NoveltyPool) -> list[str]:
        if self._tokens is None:
            self._tokens = pool.rouge.tokenize(self.text)
        return self._tokens


@dataclass(frozen=True)
class Verdict:
    rule: str | None = None
    detail: str | None = None
    scores: Mapping[str, float | int | None] = field(default_factory=dict)

    @property
    def rejects(self) -> bool:
        return self.rule is not None


PASS = Verdict()


class DecisionStage(ABC):
    id: ClassVar[str]
    rule_ids: ClassVar[tuple[str, ...]]
    records: ClassVar[tuple[str, ...]] = ()  # the Decision fields its verdicts fill
    uses_pool: ClassVar[bool] = True  # False: the verdict depends on the text alone (decided up front)
    needs_vector: ClassVar[bool] = False
    # still measured (never deciding) after an earlier stage rejected, when the input has what it needs
    measures_after_rejection: ClassVar[bool] = False
    # True: its score is computed outside the chain (``StageInput.stored``) after :meth:`prepare`,
    # so it is checked when deciding, never up front
    scored_outside: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_config(cls, config: ChainConfig) -> DecisionStage: ...

    def applies(self, pool: NoveltyPool) -> bool:
        """False when this pool cannot run the stage (no vector index for the embedding stage)."""
        return True

    def start(self, candidate: StageInput, pool: NoveltyPool) -> None:
        """Begin, on a helper thread, work that :meth:`check` will need (into ``candidate.ahead``), while
        the stages before it run. The chain calls it before deciding unless a text-only stage already
        rejected the candidate; work for a check that then does not run is wasted, never wrong."""
        return None

    @abstractmethod
    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict: ...


class ThresholdStage(DecisionStage):
    """A stage that rejects when a similarity is strictly above the dataset's threshold for it."""

    threshold_setting: ClassVar[str]  # the ChainConfig field holding the threshold

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    @classmethod
    def from_config(cls, config: ChainConfig) -> ThresholdStage:
        return cls(getattr(config, cls.threshold_setting))

    def exceeds(self, score: float | None, neighbor: int | None, label: str) -> str | None:
        """The rejection detail when ``score`` is above the threshold, else None."""
        if score is None or not score > self.threshold:
            return None
        return f"{label} {score:.3f} > {self.threshold} with item {neighbor}"


class TextRuleStage(DecisionStage):
    """A stage whose rules look at the text alone; the dataset's ``disabled_rules`` switch them off."""

    uses_pool = False

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self.disabled = disabled

    @classmethod
    def from_config(cls, config: ChainConfig) -> TextRuleStage:
        return cls(config.disabled_rules)

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        failed = self.failure(candidate.text)
        return Verdict(*failed) if failed else PASS

    @abstractmethod
    def failure(self, text: str) -> tuple[str, str] | None:
        """``(rule_id, detail)`` of the first enabled rule the text fails, or None."""
