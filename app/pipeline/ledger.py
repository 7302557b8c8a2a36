"""The generation ledger: one row per completion a model returned, with what its parser dropped and why.

Task completions (a job's Self-Instruct requests) become candidates keyed
``job:<id>:<request>:<sample>:<item>``, unique per dataset, so a request replayed by a worker that lost its
lease cannot store its candidates twice. The instance stage writes its rows through :func:`ledger_row` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.core.limits import CLEANED_NOTE
from app.models import Generation, Job
from app.pipeline.acceptor import CandidateIn, Outcome
from generators.backends.base import GenerationResult
from generators.parsing import Dropped, ParseResult, parse_completion

DROPPED_TEXT_CHARS = 500  # how much of a dropped item the ledger keeps


def dropped_entries(dropped: Iterable[Dropped | None]) -> list[dict[str, str]]:
    return [{"text": d.text[:DROPPED_TEXT_CHARS], "reason": d.reason} for d in dropped if d is not None]


def ledger_row(
    dataset_id: int,
    job_id: int | None,
    result: GenerationResult,
    params: dict[str, Any],
    sample_index: int = 0,
    dropped: Iterable[Dropped | None] = (),
    cost: float | None = None,
) -> Generation:
    """The ledger row of completion ``sample_index`` of ``result`` (its params note how many characters
    the text rule changed in it, app/core/limits.py)."""
    completion = result.completions[sample_index]
    cleaned = result.extra.get(CLEANED_NOTE)
    params = {k: v for k, v in params.items() if k != CLEANED_NOTE}
    if isinstance(cleaned, list) and cleaned[sample_index]:
        params[CLEANED_NOTE] = cleaned[sample_index]
    return Generation(
        dataset_id=dataset_id,
        job_id=job_id,
        model_id=result.model_id,
        prompt=result.prompt_text,
        params=params,
        sample_index=sample_index,
        completion=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        seconds=result.seconds,
        parse_dropped=dropped_entries(dropped),
        cost=cost,
    )


@dataclass(frozen=True)
class LedgerEntry:
    generation: Generation
    instructions: list[str]  # what the parser kept, in completion order
    key: str  # the candidates' idempotency key prefix


def record_task_completions(
    session: Session,
    job: Job,
    result: GenerationResult,
    params: dict[str, Any],
    costs: Sequence[float | None],
    parsed_completions: Sequence[ParseResult] | None = None,
    parse: Callable[[str | None, str | None], ParseResult] = parse_completion,
) -> tuple[list[LedgerEntry], list[CandidateIn]]:
    """Ledger rows (flushed, for their ids) and the parsed candidates of one task request of ``job``.

    ``parsed_completions``: :func:`parse_task_completions` of ``result``, when the caller parsed it already;
    ``parse`` reads one completion (its text and finish reason) otherwise: the job's strategy says how.
    """
    entries: list[LedgerEntry] = []
    candidates: list[CandidateIn] = []
    if parsed_completions is None:
        parsed_completions = parse_task_completions(result, parse)
    generations = [
        ledger_row(job.dataset_id, job.id, result, params, index, parsed.dropped, costs[index])
        for index, parsed in enumerate(parsed_completions)
    ]
    session.add_all(generations)
    session.flush()  # one INSERT for the request's rows, for their ids
    for index, (parsed, generation) in enumerate(zip(parsed_completions, generations, strict=True)):
        key = f"job:{job.id}:{job.requests}:{index}"
        entries.append(LedgerEntry(generation, parsed.instructions, key))
        candidates += [
            CandidateIn(text, "generated", job.id, generation.id, f"{key}:{i}")
            for i, text in enumerate(parsed.instructions)
        ]
    return entries, candidates


def parse_task_completions(
    result: GenerationResult,
    parse: Callable[[str | None, str | None], ParseResult] = parse_completion,
) -> list[ParseResult]:
    """Each completion of ``result`` parsed into candidates by ``parse`` (pure: no session, no lock)."""
    return [parse(c.text, c.finish_reason) for c in result.completions]


def note_undecided(session: Session, entries: list[LedgerEntry], outcomes: list[Outcome]) -> int:
    """Record the parsed candidates left undecided (the target was reached) as ``target_reached``."""
    decided = {o.row.origin_key for o in outcomes}
    undecided = 0
    for entry in entries:
        skipped = [t for i, t in enumerate(entry.instructions) if f"{entry.key}:{i}" not in decided]
        if skipped:
            entry.generation.parse_dropped = entry.generation.parse_dropped + dropped_entries(
                Dropped(t, "target_reached") for t in skipped
            )
            session.add(entry.generation)
            undecided += len(skipped)
    return undecided
