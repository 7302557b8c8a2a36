"""The decision chain: the configured stages in order, deciding a batch of candidates in arrival order.

For each candidate the stages run in order and the first that rejects decides. When that stage judged
the candidate against the pool (a near-duplicate), a later stage that ``measures_after_rejection``
still records its scores, never changing the decision; a text-only rejection records none. An accepted
candidate joins the pool before the next one is decided, so a batch is decided exactly as if its
candidates came one by one.

:meth:`DecisionChain.decide_batch` runs each stage once per candidate: stages that look at the text alone
(``uses_pool = False``) run up front, and only the candidates that pass those before the first stage
needing a vector are embedded, in one call. That work depends on the texts alone, never on the pool's
items, so a service does it in :meth:`DecisionChain.prepare` before taking the dataset's lock and only
:meth:`DecisionChain.decide_prepared` (the pool stages, in order) under it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from filters.decision import CandidateText, Decided, Decision
from filters.novelty_pool import NoveltyPool
from filters.stages import STAGES
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict

Embed = Callable[[list[str]], np.ndarray]
# called for every decided candidate, in order; returns the pool id of an accepted one
Record = Callable[[int, Decision, "np.ndarray | None"], "int | None"]


@dataclass
class Prepared:
    """Candidates made ready for the pool stages: text-only verdicts, tokens and vectors computed."""

    candidates: Sequence[CandidateText]
    inputs: list[StageInput]
    upfront: list[dict[str, Verdict]]

    def __len__(self) -> int:
        return len(self.inputs)

    def passing(self) -> list[int]:
        """Positions of the candidates no up-front stage rejects (those worth judging)."""
        return [i for i, verdicts in enumerate(self.upfront) if not any(v.rejects for v in verdicts.values())]

    @classmethod
    def joined(cls, parts: Sequence[Prepared]) -> Prepared:
        """Several prepared batches as one, in order (positions run on from one part to the next)."""
        return cls(
            [c for part in parts for c in part.candidates],
            [i for part in parts for i in part.inputs],
            [u for part in parts for u in part.upfront],
        )

    def part(self, start: int, stop: int, candidates: Sequence[CandidateText]) -> Prepared:
        """Positions ``start:stop``, decided as ``candidates`` (the same texts, e.g. with their keys)."""
        if [c.text for c in candidates] != [i.text for i in self.inputs[start:stop]]:
            raise ValueError("candidates do not match the prepared texts")
        return Prepared(candidates, self.inputs[start:stop], self.upfront[start:stop])


def stored_scores(candidate: CandidateText) -> Mapping[str, float | None]:
    """The model-measured scores a candidate re-decided from storage carries (``stored_scores``), or none."""
    return getattr(candidate, "stored_scores", None) or {}


def parse_stages(spec: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"rouge"`` or ``"heuristics,exact"`` → validated stage ids; None (all configured) stays None."""
    if spec is None:
        return None
    parts = [p.strip() for p in spec.split(",")] if isinstance(spec, str) else list(spec)
    parts = [p for p in parts if p]
    unknown = sorted(set(parts) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown filter(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    if not parts:
        raise ValueError(f"no filters selected; choose from {', '.join(STAGES)}")
    return tuple(dict.fromkeys(parts))


class DecisionChain:
    def __init__(self, stages: Sequence[DecisionStage]) -> None:
        self.stages = tuple(stages)

    @classmethod
    def from_config(cls, config: ChainConfig) -> DecisionChain:
        unknown = [s for s in config.stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}")
        return cls([STAGES[stage_id].from_config(config) for stage_id in config.stages])

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(stage.id for stage in self.stages)

    def only(self, stage_ids: Iterable[str] | None) -> DecisionChain:
        """The same chain restricted to ``stage_ids``, in the configured order (None: all of it)."""
        if stage_ids is None:
            return self
        wanted = set(stage_ids)
        return DecisionChain([stage for stage in self.stages if stage.id in wanted])

    def runs(self, stage_id: str, pool: NoveltyPool) -> bool:
        """Whether the stage is in this chain and applies to ``pool`` (not switched off)."""
        return any(stage.id == stage_id and stage.applies(pool) for stage in self.stages)

    def needs_vectors(self, pool: NoveltyPool) -> bool:
        return any(stage.needs_vector and stage.applies(pool) for stage in self.stages)

    def decide(self, pool: NoveltyPool, text: str, vector: np.ndarray | None = None) -> Decision:
        """One candidate against the pool as it is (the pool is not changed)."""
        return self._decide(StageInput(text, vector), pool, {})

    def decide_batch(
        self,
        pool: NoveltyPool,
        candidates: Sequence[CandidateText],
        embed: Embed | None,
        record: Record,
        limit_accepted: int | None = None,
    ) -> list[Decided]:
        """Decide ``candidates`` in order, adding each accepted one to ``pool`` before the next.

        ``record(position, decision, vector)`` stores a decision and returns the accepted item's id.
        Deciding stops after ``limit_accepted`` acceptances; the rest are not decided. Accepted candidates
        that were not embedded (no vector stage ran) are embedded afterwards, in one call, so the pool's
        vector index holds every item.
        """
        prepared = self.prepare(pool, candidates, embed)
        return self.decide_prepared(pool, prepared, embed, record, limit_accepted)

    def prepare(
        self, pool: NoveltyPool, candidates: Sequence[CandidateText], embed: Embed | None
    ) -> Prepared:
        """The work of :meth:`decide_batch` that needs no pool item: run it outside the pool's lock.

        Text-only stages run, candidates reaching a pool stage are tokenised, and those reaching the first
        vector stage are embedded in one call; then the stages that need the vector but no pool item
        (relevance) run on them. ``pool`` is read only for which stages apply to it.
        """
        inputs = [StageInput(c.text, stored=stored_scores(c)) for c in candidates]
        upfront = self._upfront(inputs, pool)
        for item, verdicts in zip(inputs, upfront, strict=True):
            if not any(v.rejects for v in verdicts.values()):
                item.tokens(pool)  # the tokenizer is pure; an accepted item joins the index with them
        if embed is not None and self.needs_vectors(pool):
            wanted = [i for i in range(len(inputs)) if self._reaches_vectors(upfront[i])]
            if wanted:
                for i, vector in zip(wanted, embed([inputs[i].text for i in wanted]), strict=True):
                    inputs[i].vector = vector
        on_vectors = [s for s in self.stages if not s.uses_pool and s.needs_vector and s.applies(pool)]
        for item, verdicts in zip(inputs, upfront, strict=True):
            if item.vector is not None:
                verdicts.update({s.id: s.check(item, pool) for s in on_vectors})
        return Prepared(candidates, inputs, upfront)

    def decide_prepared(
        self,
        pool: NoveltyPool,
        prepared: Prepared,
        embed: Embed | None,
        record: Record,
        limit_accepted: int | None = None,
    ) -> list[Decided]:
        """The pool stages of :meth:`decide_batch` for candidates :meth:`prepare` made ready."""
        decided: list[Decided] = []
        accepted = 0
        inputs, upfront = prepared.inputs, prepared.upfront
        for position, (candidate, item) in enumerate(zip(prepared.candidates, inputs, strict=True)):
            if limit_accepted is not None and accepted >= limit_accepted:
                break
            decision = self._decide(item, pool, upfront[position])
            item_id = record(position, decision, item.vector)
            if decision.accepted:
                if item_id is None:
                    raise ValueError("record() must return the id of an accepted candidate")
                pool.add(item_id, candidate.origin, item.text, item.vector, item.tokens(pool))
                accepted += 1
            decided.append(Decided(decision, item.vector, item_id))
        return self._embed_late(pool, decided, inputs, embed)

    def _upfront(self, inputs: list[StageInput], pool: NoveltyPool) -> list[dict[str, Verdict]]:
        """The verdicts of the stages that look at the text alone, for every candidate."""
        textual = [
            s
            for s in self.stages
            if not (s.uses_pool or s.needs_vector or s.scored_outside) and s.applies(pool)
        ]
        return [{s.id: s.check(item, pool) for s in textual} for item in inputs]

    def _reaches_vectors(self, upfront: dict[str, Verdict]) -> bool:
        """False when a text-only stage before the first vector stage rejects the candidate anyway."""
        for stage in self.stages:
            if stage.needs_vector:
                return True
            verdict = upfront.get(stage.id)
            if verdict is not None and verdict.rejects:
                return False
        return False

    def _decide(self, item: StageInput, pool: NoveltyPool, upfront: dict[str, Verdict]) -> Decision:
        item.ahead.clear()  # nothing started against an earlier state of the pool is answered now
        if not any(verdict.rejects for verdict in upfront.values()):
            for stage in self.stages:
                if stage.applies(pool):
                    stage.start(item, pool)
        try:
            return self._run_stages(item, pool, upfront)
        finally:
            item.ahead.clear()

    def _run_stages(self, item: StageInput, pool: NoveltyPool, upfront: dict[str, Verdict]) -> Decision:
        rejected: Verdict | None = None
        measure_after = False  # a rejection against the pool: later measures are still worth storing
        scores: dict[str, Any] = {}
        for stage in self.stages:
            if not stage.applies(pool):
                continue
            if rejected is not None and not (
                measure_after
                and stage.measures_after_rejection
                and (item.vector is not None or not stage.needs_vector)
            ):
                continue
            verdict = upfront[stage.id] if stage.id in upfront else stage.check(item, pool)
            scores.update(verdict.scores)
            if rejected is None and verdict.rejects:
                rejected, measure_after = verdict, stage.uses_pool
        if rejected is None:
            return Decision(True, **scores)
        return Decision(False, rejected.rule, rejected.detail, **scores)

    def _embed_late(
        self, pool: NoveltyPool, decided: list[Decided], inputs: list[StageInput], embed: Embed | None
    ) -> list[Decided]:
        late = {
            i: d.item_id
            for i, d in enumerate(decided)
            if d.decision.accepted and d.item_id is not None and d.vector is None
        }
        if not late or embed is None or pool.vectors is None:
            return decided
        vectors = embed([inputs[i].text for i in late])
        pool.add_vectors(list(late.values()), vectors)
        for i, vector in zip(late, vectors, strict=True):
            decided[i] = replace(decided[i], vector=vector)
        return decided
