"""Exports of a dataset's triplets, streamed: rows are read in batches and written as they come.

Rows are the accepted instances of accepted tasks (``task_instance``), in id order, optionally preceded by
the seed tasks' own instances (``include_seeds``), or exactly the rows a snapshot recorded.

**Splits** are by task, so every instance of a task lands in the same split (no near-copies of a test
example in training): ``u = int(sha256(f"{seed}:{task_id}")[:8]) / 2**64``; ``u < test`` → ``test``,
``u < test + validation`` → ``validation``, else ``train``. The same seed, fractions and rows give the
same splits on every run and machine.

**Formats** (user turn = the instruction, then a blank line and the input when there is one):

- ``alpaca``: a JSON array of ``{instruction, input, output}``.
- ``sharegpt``: a JSON array of ``{id, conversations: [{from: human, value}, {from: gpt, value}]}``.
- ``openai``: JSONL of ``{messages: [{role: user, content}, {role: assistant, content}]}`` (chat
  fine-tuning format).
- ``parquet``: columns ``id, task_id, instruction, input, output, is_classification, origin, split``;
  one row group per batch; ``datasets.load_dataset("parquet", ...)`` reads it.
- ``jsonl``: our own rows with full provenance: the task's decision (rule, ROUGE-L and cosine scores and
  neighbours, job), the instance's decision, and the generation-ledger ids of the task and its instances.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import InvalidInput
from app.exports.parquet import parquet_chunks
from app.exports.review_filter import ReviewSelection, ReviewView
from app.models import Dataset, Instruction, Snapshot, TaskInstance, stored_id

FORMATS: dict[str, tuple[str, str]] = {  # format -> (media type, file extension)
    "alpaca": ("application/json", "json"),
    "sharegpt": ("application/json", "json"),
    "openai": ("application/x-ndjson", "jsonl"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "jsonl": ("application/x-ndjson", "jsonl"),
}
SPLITS = ("train", "validation", "test")
BATCH = 500


@dataclass(frozen=True)
class SplitSpec:
    seed: int = 0
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        if not (0 <= self.validation <= 1 and 0 <= self.test <= 1 and self.validation + self.test <= 1):
            raise InvalidInput("validation and test fractions must be between 0 and 1 and sum to at most 1")

    def split_of(self, task_id: int) -> str:
        digest = hashlib.sha256(f"{self.seed}:{task_id}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        if u < self.test:
            return "test"
        return "validation" if u < self.test + self.validation else "train"


@dataclass(frozen=True)
class ExportRow:
    id: int | None  # the task_instance id; None for a seed task's own instance
    task_id: int
    instruction: str
    input: str
    output: str
    is_classification: bool | None
    origin: str
    split: str
    provenance: dict[str, Any]

    @property
    def user_turn(self) -> str:
        return f"{self.instruction}\n\n{self.input}" if self.input else self.instruction


@dataclass(frozen=True)
class ExportSelection:
    """Which rows: everything accepted now, or a snapshot's recorded ids; and which split."""

    split: str = "all"
    splits: SplitSpec = SplitSpec()
    snapshot: Snapshot | None = None
    include_seeds: bool = False
    review: ReviewSelection = ReviewSelection()  # a snapshot's rows were selected when it was taken

    def __post_init__(self) -> None:
        if self.split not in (*SPLITS, "all"):
            raise InvalidInput(f"unknown split {self.split!r}; splits: {', '.join(SPLITS)}, all")


def iter_rows(session: Session, dataset: Dataset, selection: ExportSelection) -> Iterator[ExportRow]:
    """The selected rows, seeds first, then instances in id order, read ``BATCH`` at a time."""
    snapshot = selection.snapshot
    if snapshot is not None and snapshot.marks is not None:  # taken with high-water marks
        from app.exports.snapshots import marked_export_rows

        yield from marked_export_rows(session, dataset, snapshot, selection.splits, selection.split)
        return
    include_seeds = snapshot.include_seeds if snapshot else selection.include_seeds
    if include_seeds:
        seed_ids = snapshot.seed_instruction_ids if snapshot else None
        seeds = _batched(session, Instruction, stored_id(dataset), seed_ids, _seed_filter)
        yield from seed_rows(seeds, selection.splits, selection.split)
    instance_ids = snapshot.instance_ids if snapshot else None
    for batch in chunks(_batched(session, TaskInstance, stored_id(dataset), instance_ids, _accepted_filter)):
        tasks = {
            t.id: t
            for t in session.exec(
                select(Instruction).where(col(Instruction.id).in_({i.instruction_id for i in batch}))
            )
        }
        task_ids, instance_ids_now = [stored_id(t) for t in tasks.values()], [stored_id(i) for i in batch]
        reviews = (
            ReviewView.recorded(session, snapshot.review_ids)
            if snapshot
            else ReviewView.current(session, stored_id(dataset), task_ids, instance_ids_now)
        )
        for instance in batch:
            task = tasks[instance.instruction_id]
            if snapshot is None and not reviews.keeps(selection.review, task, instance):
                continue
            row = export_row(task, instance, *reviews.texts(task, instance), selection.splits)
            if selection.split in ("all", row.split):
                yield row


def _seed_filter(query: SelectOfScalar[Instruction]) -> SelectOfScalar[Instruction]:
    return query.where(col(Instruction.origin) == "seed")


def _accepted_filter(query: SelectOfScalar[TaskInstance]) -> SelectOfScalar[TaskInstance]:
    return query.where(col(TaskInstance.accepted).is_(True))


_Row = TypeVar("_Row", Instruction, TaskInstance)


def _batched(
    session: Session,
    table: type[_Row],
    dataset_id: int,
    ids: Sequence[int] | None,
    narrow: Callable[[SelectOfScalar[_Row]], SelectOfScalar[_Row]],
) -> Iterator[_Row]:
    """Rows of ``table`` in id order by keyset pagination; exactly ``ids`` when given (a snapshot)."""
    if ids is not None:
        for start in range(0, len(ids), BATCH):
            wanted = ids[start : start + BATCH]
            found = {stored_id(r): r for r in session.exec(select(table).where(col(table.id).in_(wanted)))}
            yield from (found[i] for i in wanted if i in found)
        return
    last = 0
    while True:
        query = select(table).where(col(table.dataset_id) == dataset_id, col(table.id) > last)
        rows = session.exec(narrow(query).order_by(col(table.id)).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        last = stored_id(rows[-1])


def seed_rows(tasks: Iterable[Instruction], splits: SplitSpec, split: str) -> Iterator[ExportRow]:
    """Each seed task's own instances as export rows, those of ``split`` (``all``: every one)."""
    for task in tasks:
        for position, pair in enumerate(task.instances or []):
            row = export_row(task, None, task.instruction, pair["input"], pair["output"], splits, position)
            if split in ("all", row.split):
                yield row


def chunks(rows: Iterable[TaskInstance]) -> Iterator[list[TaskInstance]]:
    """``rows`` in lists of ``BATCH``."""
    batch: list[TaskInstance] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def export_row(
    task: Instruction,
    instance: TaskInstance | None,
    instruction: str,
    input_text: str,
    output: str,
    splits: SplitSpec,
    seed_position: int | None = None,
) -> ExportRow:
    provenance = {
        "task": {
            "origin": task.origin,
            "rule": task.rule,
            "max_rouge_l": task.max_rouge_l,
            "rouge_neighbor_id": task.rouge_neighbor_id,
            "max_cosine": task.max_cosine,
            "cosine_neighbor_id": task.cosine_neighbor_id,
            "relevance": task.relevance,
            "judge_score": task.judge_score,
            "judge_expected": task.judge_expected,
            "job_id": task.job_id,
            "generation_id": task.generation_id,
            "strategy": task.strategy,
            "lineage": task.lineage,
        },
        "instance": {
            "origin": instance.origin if instance else "seed",
            "seed_position": seed_position,
            "accepted": True,
            "job_id": instance.job_id if instance else None,
            "generation_id": instance.generation_id if instance else None,
        },
    }
    return ExportRow(
        id=instance.id if instance else None,
        task_id=stored_id(task),
        instruction=instruction,
        input=input_text,
        output=output,
        is_classification=task.is_classification,
        origin=task.origin,
        split=splits.split_of(stored_id(task)),
        provenance=provenance,
    )


# ----------------------------------------------------------------- writers
def render(rows: Iterable[ExportRow], fmt: str) -> Iterator[bytes]:
    """The export as a stream of byte chunks."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt == "parquet":
        return parquet_chunks(rows, BATCH)
    encode = _RECORDS[fmt]
    if fmt in ("alpaca", "sharegpt"):
        return _json_array(encode(r) for r in rows)
    return (json.dumps(encode(r), ensure_ascii=False).encode() + b"\n" for r in rows)


def _alpaca(row: ExportRow) -> dict[str, Any]:
    return {"instruction": row.instruction, "input": row.input, "output": row.output}


def _sharegpt(row: ExportRow) -> dict[str, Any]:
    return {
        "id": _row_key(row),
        "conversations": [{"from": "human", "value": row.user_turn}, {"from": "gpt", "value": row.output}],
    }


def _openai(row: ExportRow) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": row.user_turn}, {"role": "assistant", "content": row.output}]
    }


def _provenance(row: ExportRow) -> dict[str, Any]:
    fields = asdict(row)
    return {**{k: v for k, v in fields.items() if k != "provenance"}, **fields["provenance"]}


_RECORDS = {"alpaca": _alpaca, "sharegpt": _sharegpt, "openai": _openai, "jsonl": _provenance}


def _row_key(row: ExportRow) -> str:
    return (
        f"instance-{row.id}"
        if row.id is not None
        else f"seed-{row.task_id}-{row.provenance['instance']['seed_position']}"
    )


def _json_array(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    yield b"["
    separator = b"\n"
    for record in records:
        yield separator + json.dumps(record, ensure_ascii=False).encode()
        separator = b",\n"
    yield b"\n]\n"


def export_filename(dataset: Dataset, fmt: str, selection: ExportSelection) -> str:
    version = f"-snapshot{selection.snapshot.id}" if selection.snapshot else ""
    split = "" if selection.split == "all" else f"-{selection.split}"
    return f"{dataset.name}{version}{split}-{fmt}.{FORMATS[fmt][1]}"
