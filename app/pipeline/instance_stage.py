"""The stage after acceptance: classify each accepted task, generate its instances, filter and store them.

One task at a time: the backend calls come first (classification unless the task already has a label,
then the output-first or input-first instance prompt), then one transaction stores the ledger rows, every
instance with its decision, the task's label and accepted instances, its ``instance_stage`` (``pending``
→ ``done``) and the job's counters. Tasks still ``pending`` are how a stopped job or a later
``selfinstruct instances`` run knows where to continue.

Counts (per job, and returned to the CLI) are the ``classification``, ``instance_decisions`` and
``instance_parse_dropped`` groups of :class:`app.jobs.counters.JobCounts`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.errors import get_or_not_found
from app.core.settings import Settings
from app.jobs.counters import JobCounts
from app.models import (
    INSTANCE_STAGE_DONE,
    INSTANCE_STAGE_PENDING,
    Dataset,
    Generation,
    Instruction,
    Job,
    TaskInstance,
    id_col,
    stored_id,
)
from app.pipeline.judge import Judge, record_judge_calls
from app.pipeline.ledger import ledger_row
from filters.instances import InstanceDecision, filter_instances
from generators.backends.base import GenerationResult, LLMBackend, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.instances import (
    build_classification_prompt,
    build_instance_prompt,
    instance_stop_sequences,
    parse_classification,
    parse_instances,
    prompt_example_texts,
)
from generators.parsing import Dropped

logger = logging.getLogger(__name__)

CLASSIFICATION_PARAMS = SamplingParams(n=1, max_tokens=4, temperature=0.0, top_p=1.0, stop=("\n",))


def pending_tasks(
    session: Session, dataset_id: int, job_id: int | None = None, limit: int | None = None
) -> list[int]:
    """Ids of the tasks whose ``instance_stage`` is ``pending``, oldest first."""
    query = select(id_col(Instruction.id)).where(
        col(Instruction.dataset_id) == dataset_id, col(Instruction.instance_stage) == INSTANCE_STAGE_PENDING
    )
    if job_id is not None:
        query = query.where(col(Instruction.job_id) == job_id)
    return list(session.exec(query.order_by(col(Instruction.id)).limit(limit)).all())


def create_instance_job(session: Session, dataset: Dataset, instances_per_task: int) -> Job:
    """A job with no instructions to generate (``target`` 0): it runs the stage for every accepted task of
    the dataset still waiting for instances, then succeeds."""
    job = Job(dataset_id=stored_id(dataset), target=0, max_requests=0, instances_per_task=instances_per_task)
    session.add(job)
    session.commit()
    return job


def instance_row(
    task: Instruction,
    origin: str,
    decision: InstanceDecision,
    job_id: int | None = None,
    generation_id: int | None = None,
) -> TaskInstance:
    """The stored form of one instance decision of ``task``."""
    return TaskInstance(
        dataset_id=task.dataset_id,
        instruction_id=stored_id(task),
        origin=origin,
        input=decision.input,
        output=decision.output,
        accepted=decision.accepted,
        rule=decision.rule,
        detail=decision.detail,
        job_id=job_id,
        generation_id=generation_id,
    )


@dataclass
class InstanceStage:
    backend: LLMBackend | RequestDispatcher  # anything with ``generate(prompt, params)``
    settings: Settings
    judge: Judge | None = None  # scores each accepted instance (its triplet); never rejects it

    def instance_params(self, k: int) -> SamplingParams:
        return SamplingParams(
            n=1,
            max_tokens=self.settings.instance_max_new_tokens,
            temperature=self.settings.instance_temperature,
            top_p=self.settings.top_p,
            stop=instance_stop_sequences(k),
        )

    def run_task(self, session: Session, instruction_id: int, k: int, job: Job | None = None) -> JobCounts:
        """Classify (if needed), generate, filter and store the instances of one task; commit."""
        task = get_or_not_found(session, Instruction, instruction_id, "instruction")
        counts = JobCounts()
        ledger: list[tuple[Generation, GenerationResult]] = []
        is_classification = task.is_classification  # the row changes only in the transaction below
        if is_classification is None:
            prompt = build_classification_prompt(task.instruction)
            result = self.backend.generate(prompt, CLASSIFICATION_PARAMS)
            answer, dropped = parse_classification(result.completions[0].text)
            is_classification = bool(answer)  # an unclear answer counts as "not classification"
            counts.add_classification(answer)
            stage = "classification"
            ledger.append(self._ledger_row(task, job, result, CLASSIFICATION_PARAMS, stage, dropped))
        params = self.instance_params(k)
        prompt = build_instance_prompt(task.instruction, is_classification, k)
        result = self.backend.generate(prompt, params)
        completion = result.completions[0]
        parsed = parse_instances(completion.text, completion.finish_reason, is_classification, k)
        generation, _ = self._ledger_row(task, job, result, params, "instances", *parsed.dropped)
        ledger.append((generation, result))
        counts.add_all("instance_parse_dropped", (d.reason for d in parsed.dropped))
        pairs = [(i.input, i.output) for i in parsed.instances]
        decisions = filter_instances(pairs, prompt_example_texts())
        kept = [d for d in decisions if d.accepted]
        judge = self.judge if self.judge and self._judged(session, task) else None
        calls = judge.judge_triplets(task.instruction, [(d.input, d.output) for d in kept]) if judge else []
        judged = dict(zip((id(d) for d in kept), calls, strict=False))
        try:
            session.refresh(task)
            if task.instance_stage != INSTANCE_STAGE_PENDING:  # another worker finished it meanwhile
                session.rollback()
                return JobCounts()
            for row, _ in ledger:
                session.add(row)
            session.flush()
            job_id = job.id if job else None
            judge_ids = iter(
                record_judge_calls(session, task.dataset_id, job_id, calls, judge.params, "instance")
                if judge and calls
                else ()
            )
            for decision in decisions:
                instance = instance_row(task, "generated", decision, job_id, generation.id)
                call = judged.get(id(decision))
                if call is not None:
                    instance.judge_score, instance.judge_expected = (
                        call.judgment.overall,
                        call.judgment.expected,
                    )
                    instance.judge = call.verdict(next(judge_ids))
                session.add(instance)
                counts.add_instance_decision(decision.rule)
            task.is_classification = is_classification
            task.instances = [{"input": d.input, "output": d.output} for d in decisions if d.accepted]
            task.instance_stage = INSTANCE_STAGE_DONE
            session.add(task)
            if job is not None:
                job.counts = job.counts.merged(counts)
                job.prompt_tokens += sum(r.prompt_tokens for _, r in ledger)
                job.completion_tokens += sum(c.completion_tokens for _, r in ledger for c in r.completions)
                session.add(job)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        logger.info("task %s: %d of %d instances accepted", task.id, len(task.instances), len(decisions))
        return counts

    def _judged(self, session: Session, task: Instruction) -> bool:
        """Whether the task's dataset keeps the judge on (``disabled_rules`` without ``judge``)."""
        dataset = session.get(Dataset, task.dataset_id)
        return dataset is not None and "judge" not in dataset.disabled_rules

    def _ledger_row(
        self,
        task: Instruction,
        job: Job | None,
        result: GenerationResult,
        params: SamplingParams,
        stage: str,
        *dropped: Dropped | None,
    ) -> tuple[Generation, GenerationResult]:
        stage_params = {**params.as_dict(), "stage": stage, "instruction_id": task.id}
        row = ledger_row(task.dataset_id, job.id if job else None, result, stage_params, dropped=dropped)
        return row, result
