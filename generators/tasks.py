"""Task records and the readers for the files users bring: seed sets and candidate lists.

Seed files are Self-Instruct JSONL: ``id, name, instruction, instances[{input, output}],
is_classification``. ``name``, ``id`` and ``is_classification`` may be missing (the user-oriented set
has ``motivation_app`` instead); anything else malformed stops the load with ``file:line: reason``.
Candidate files may be JSONL objects with an ``instruction`` key (seed rows included) or an Alpaca JSON
array of ``{instruction, input, output}`` objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TaskFileError(ValueError):
    """A file of tasks could not be read; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Instance:
    input: str
    output: str


@dataclass(frozen=True)
class Task:
    instruction: str
    instances: tuple[Instance, ...] = ()
    is_classification: bool = False
    name: str | None = None
    external_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def task_from_record(record: Any, *, require_instances: bool) -> Task:
    """Validate one decoded JSON object; raise ValueError naming the problem."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    instruction = record.get("instruction")
    if not isinstance(instruction, str):
        raise ValueError("missing string field 'instruction'")
    if not instruction.strip():
        raise ValueError("'instruction' is empty")
    instances = _instances(record, require_instances)
    is_classification = record.get("is_classification", False)
    if not isinstance(is_classification, bool):
        raise ValueError("'is_classification' must be true or false")
    name = record.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError("'name' must be a string")
    external_id = record.get("id")
    if external_id is not None and not isinstance(external_id, str | int):
        raise ValueError("'id' must be a string or an integer")
    known = {"instruction", "instances", "is_classification", "name", "id", "input", "output"}
    return Task(
        instruction=instruction.strip(),
        instances=instances,
        is_classification=is_classification,
        name=name,
        external_id=None if external_id is None else str(external_id),
        extra={k: v for k, v in record.items() if k not in known},
    )


def _instances(record: dict[str, Any], required: bool) -> tuple[Instance, ...]:
    if "instances" not in record:
        if "output" in record:  # an Alpaca row
            return (_instance({"input": record.get("input", ""), "output": record["output"]}, 0),)
        if required:
            raise ValueError("missing list field 'instances'")
        return ()
    raw = record["instances"]
    if not isinstance(raw, list):
        raise ValueError("'instances' must be a list")
    if required and not raw:
        raise ValueError("'instances' is empty")
    return tuple(_instance(item, i) for i, item in enumerate(raw))


def _instance(item: Any, position: int) -> Instance:
    if not isinstance(item, dict):
        raise ValueError(f"instances[{position}] must be an object")
    values = []
    for key in ("input", "output"):
        value = item.get(key, "" if key == "input" else None)
        if not isinstance(value, str):
            raise ValueError(f"instances[{position}].{key} must be a string")
        values.append(value)
    if not values[1].strip():
        raise ValueError(f"instances[{position}].output is empty")
    return Instance(*values)


def parse_jsonl(lines: Iterator[str] | list[str], source: str, *, require_instances: bool) -> list[Task]:
    tasks = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskFileError(f"{source}:{number}: invalid JSON ({exc.msg})") from None
        try:
            tasks.append(task_from_record(record, require_instances=require_instances))
        except ValueError as exc:
            raise TaskFileError(f"{source}:{number}: {exc}") from None
    return tasks


def load_seed_file(path: str | Path) -> list[Task]:
    """Read a Self-Instruct JSONL seed file; every row needs at least one instance."""
    path = Path(path)
    text = _read_text(path)
    tasks = parse_jsonl(text.split("\n"), str(path), require_instances=True)
    if not tasks:
        raise TaskFileError(f"{path}:1: no tasks in file")
    return tasks


def load_candidate_file(path: str | Path) -> list[Task]:
    """Read instructions to ingest: JSONL objects or an Alpaca JSON array, in file order."""
    path = Path(path)
    text = _read_text(path)
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaskFileError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        tasks = []
        for position, row in enumerate(rows):
            try:
                tasks.append(task_from_record(row, require_instances=False))
            except ValueError as exc:
                raise TaskFileError(f"{path}:item {position}: {exc}") from None
        return tasks
    return parse_jsonl(text.split("\n"), str(path), require_instances=False)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFileError(f"{path}:0: file not found") from None
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}:0: not UTF-8 text ({exc.reason})") from None
