"""Storing a job's finished task requests: ledger rows, decisions, lineage and the job's counters.

The finished requests of one look at the window are parsed and embedded together outside the dataset's
lock, then decided in submission order in one locked section and one transaction, fenced once by the
worker's lease: a batch is stored whole or not at all. Results that came back after the target was
reached are counted as cancelled and never stored.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from sqlmodel import Session

from app.core.settings import Settings
from app.jobs.accounting import completion_cost
from app.jobs.counters import JobCounts
from app.jobs.leases import Lease, fence
from app.jobs.preparing import ReadyRequest
from app.jobs.request_sizing import cancelled_counts, request_notes
from app.models import Job
from app.pipeline.acceptor import CandidateIn, Outcome, accepting, decide, prepare
from app.pipeline.judge import Judge, JudgeCall, record_judge_calls
from app.pipeline.ledger import (
    LedgerEntry,
    note_undecided,
    parse_task_completions,
    record_task_completions,
)
from app.pipeline.pools import DatasetPool, PoolRegistry
from filters.chain import Prepared
from generators.backends.base import GenerationResult, SamplingParams
from generators.prompts import Prompt
from generators.strategies import GenerationStrategy

Finished = tuple[GenerationResult, SamplingParams, Prompt]  # a request's result, params and prompt


def store_finished(
    session: Session,
    registry: PoolRegistry,
    settings: Settings,
    job: Job,
    lease: Lease,
    pool: DatasetPool,
    results: list[Finished],
    strategy: GenerationStrategy,
    judge: Judge | None = None,
    ready: list[ReadyRequest | None] | None = None,
) -> None:
    """Store finished requests in order, in one transaction; embedding and judging happen before the lock.

    ``ready``: the requests as :mod:`app.jobs.preparing` prepared them (same order); used when every one
    is there and was prepared with ``pool``'s chain, else they are parsed and prepared here.
    """
    if ready is not None and all(r is not None and r.pool is pool for r in ready):
        parsed = [r.parsed for r in ready if r is not None]
        prepared = Prepared.joined([r.prepared for r in ready if r is not None])
    else:
        parsed = [
            parse_task_completions(result, partial(strategy.parse, prompt)) for result, _, prompt in results
        ]
        texts = [text for request in parsed for completion in request for text in completion.instructions]
        prepared = prepare(registry, pool, [CandidateIn(text, "generated") for text in texts])
    if judge is not None and not pool.chain.runs("judge", pool.novelty):
        judge = None  # not in the chain, or the dataset switched it off
    judged = judge.judge_prepared(prepared, pool.domain) if judge is not None else {}
    with accepting(session, registry, pool):
        fence(session, lease, settings.job_lease_s)  # a lost lease stops before any work
        verdicts = judge_verdicts(session, job, judged, judge)
        offset = 0
        for used, ((result, params, prompt), completions) in enumerate(zip(results, parsed, strict=True)):
            if job.accepted >= job.target:  # the rest is not wanted: counted as cancelled, never stored
                job.counts = job.counts.merged(cancelled_counts(len(results) - used))
                session.add(job)
                break
            costs = [
                completion_cost(settings, i, result.prompt_tokens, c.completion_tokens)
                for i, c in enumerate(result.completions)
            ]
            recorded = {**params.as_dict(), **result.extra, "strategy": strategy.id}
            ledger, candidates = record_task_completions(session, job, result, recorded, costs, completions)
            lineage = dict(prompt.lineage or {"strategy": strategy.id})  # how each prompt was built
            first, offset = offset, offset + len(candidates)
            candidates = [
                replace(c, strategy=strategy.id, lineage=lineage, judge=verdicts.get(position))
                for position, c in enumerate(candidates, start=first)
            ]
            own = prepared.part(first, offset, candidates)
            outcomes = decide(
                session,
                registry,
                pool,
                candidates,
                limit_accepted=job.target - job.accepted,
                prepared=own,
            )
            account_request(session, job, result, ledger, outcomes, params)


def judge_verdicts(
    session: Session, job: Job, judged: dict[int, JudgeCall], judge: Judge | None
) -> dict[int, dict[str, Any]]:
    """Every judge request in the ledger; each judged candidate's verdict by its position."""
    if judge is None or not judged:
        return {}
    ids = record_judge_calls(
        session, job.dataset_id, job.id, list(judged.values()), judge.params, "instruction"
    )
    return {position: call.verdict(i) for (position, call), i in zip(judged.items(), ids, strict=True)}


def account_request(
    session: Session,
    job: Job,
    result: GenerationResult,
    ledger: list[LedgerEntry],
    outcomes: list[Outcome],
    params: SamplingParams,
) -> None:
    counts = JobCounts()
    counts.add_all("requests", request_notes(result, params))
    for outcome in outcomes:
        counts.add_decision(outcome.decision.rule)
    for entry in ledger:
        counts.add_all("parse_dropped", (d["reason"] for d in entry.generation.parse_dropped))
    undecided = note_undecided(session, ledger, outcomes)
    if undecided:
        counts.add("parse_dropped", "target_reached", undecided)
    job.counts = job.counts.merged(counts)
    job.requests += 1
    job.generated += len(outcomes)
    job.accepted += sum(1 for o in outcomes if o.decision.accepted)
    job.rejected += sum(1 for o in outcomes if not o.decision.accepted)
    job.prompt_tokens += result.prompt_tokens
    job.completion_tokens += sum(c.completion_tokens for c in result.completions)
    costs = [e.generation.cost for e in ledger if e.generation.cost is not None]
    if costs:
        job.cost = (job.cost or 0.0) + sum(costs)
    session.add(job)
