"""Imports of Alpaca, ShareGPT and Self-Instruct files, as seeds or as candidates through the chain.

The whole file is parsed and validated first (errors name ``file:line``), then stored in one
transaction, so a bad file stores nothing.

- ``seeds``: every task joins the seed pool with its instances (exact duplicates of pool items skipped).
- ``candidates``: every instruction is decided by the dataset's filter chain in file order (origin
  ``ingested``); the instances of an accepted task go through the instance filters and are stored in
  ``task_instance`` with their decisions, exactly like generated ones, so exports include them. Such a
  task is ``done`` with the instance stage; an accepted task imported without instances stays
  ``pending`` for it (``POST /v1/datasets/{name}/instances``, ``selfinstruct instances``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session

from app.core.errors import InvalidInput
from app.core.limits import forbidden_character
from app.datasets.service import add_seeds
from app.jobs.counters import JobCounts, accepted_and_rejections
from app.models import INSTANCE_STAGE_DONE, Dataset
from app.models.instructions import MAX_INSTRUCTION_CHARS
from app.pipeline.acceptor import CandidateIn, Outcome, accepting, decide
from app.pipeline.instance_stage import instance_row
from app.pipeline.pools import PoolRegistry
from filters.instances import filter_instances
from generators.tasks import IMPORT_FORMATS, Task, TaskFileError, parse_import

IMPORT_MODES = ("seeds", "candidates")


@dataclass
class ImportResult:
    format: str
    mode: str
    tasks: int
    accepted: int = 0
    rejected: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    instances_accepted: int = 0
    instance_rejections: dict[str, int] = field(default_factory=dict)
    skipped_duplicates: int = 0


def check_import_options(fmt: str, mode: str) -> None:
    if fmt not in IMPORT_FORMATS:
        raise InvalidInput(f"unknown import format {fmt!r}; formats: {', '.join(IMPORT_FORMATS)}")
    if mode not in IMPORT_MODES:
        raise InvalidInput(f"unknown import mode {mode!r}; modes: {', '.join(IMPORT_MODES)}")


def read_import(text: str, source: str, fmt: str, mode: str) -> list[Task]:
    """Parse and validate a whole file; raises :class:`InvalidInput` naming ``source:line``."""
    check_import_options(fmt, mode)
    for number, line in enumerate(text.splitlines(), 1):
        problem = forbidden_character(line)
        if problem:
            raise InvalidInput(f"{source}:{number}: {problem}")
    try:
        tasks = group_by_instruction(parse_import(text, source, fmt))
    except TaskFileError as exc:
        raise InvalidInput(str(exc)) from None
    except RecursionError:
        raise InvalidInput(f"{source}: the JSON nests too deep to read") from None
    for number, task in enumerate(tasks, 1):
        texts = [task.instruction, task.name or ""]
        texts += [part for instance in task.instances for part in (instance.input, instance.output)]
        problem = next((p for p in map(forbidden_character, texts) if p), None)
        if problem is None and len(task.instruction) > MAX_INSTRUCTION_CHARS:
            problem = f"instruction is longer than {MAX_INSTRUCTION_CHARS} characters"
        if problem:
            raise InvalidInput(f"{source}: task {number} ({task.instruction[:40]!r}): {problem}")
    return tasks


def group_by_instruction(tasks: Sequence[Task]) -> list[Task]:
    """One task per instruction text: rows of triplet formats (Alpaca, ShareGPT) that repeat an
    instruction with another input become instances of the first one, in file order."""
    grouped: dict[str, Task] = {}
    for task in tasks:
        first = grouped.get(task.instruction)
        grouped[task.instruction] = (
            task if first is None else replace(first, instances=first.instances + task.instances)
        )
    return list(grouped.values())


def store_import(
    session: Session, registry: PoolRegistry, dataset: Dataset, tasks: Sequence[Task], fmt: str, mode: str
) -> ImportResult:
    result = ImportResult(format=fmt, mode=mode, tasks=len(tasks))
    if mode == "seeds":
        result.accepted, result.skipped_duplicates = add_seeds(session, registry, dataset, tasks)
        return result
    counts = JobCounts()

    def store_instances(outcomes: list[Outcome]) -> None:
        for outcome, task in zip(outcomes, tasks, strict=False):
            counts.add_decision(outcome.decision.rule)
            if not outcome.decision.accepted:
                continue
            decisions = filter_instances([(i.input, i.output) for i in task.instances])
            for decision in decisions:
                session.add(instance_row(outcome.row, "ingested", decision))
                counts.add_instance_decision(decision.rule)
            outcome.row.instances = [{"input": d.input, "output": d.output} for d in decisions if d.accepted]
            if task.instances:  # a task imported with its instances does not go through the stage
                outcome.row.instance_stage = INSTANCE_STAGE_DONE
            outcome.row.is_classification = task.is_classification if fmt == "self-instruct" else None
            outcome.row.name = task.name
            session.add(outcome.row)

    pool = registry.get(dataset)
    candidates = [CandidateIn(t.instruction, "ingested") for t in tasks]
    with accepting(session, registry, pool):  # decisions and instances in one transaction
        store_instances(decide(session, registry, pool, candidates))
    result.accepted, result.rejections = accepted_and_rejections(counts.decisions)
    result.rejected = sum(result.rejections.values())
    result.instances_accepted, result.instance_rejections = accepted_and_rejections(counts.instance_decisions)
    return result
