"""Task records and the readers for the files users bring: seed sets and candidate lists.

Seed files are Self-Instruct JSONL: ``id, name, instruction, instances[{input, output}],
is_classification``. ``name``, ``id`` and ``is_classification`` may be missing (the user-oriented set
has ``motivation_app`` instead); anything else malformed stops the load with ``file:line: reason``.
Candidate files may be JSONL objects with an ``instruction`` key (seed rows included) or an Alpaca JSON
array of ``{instruction, input, output}`` objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
        return _parse_json_array(text, str(path), lambda r: task_from_record(r, require_instances=False))
    return parse_jsonl(text.split("\n"), str(path), require_instances=False)


IMPORT_FORMATS = ("alpaca", "sharegpt", "self-instruct")
_HUMAN_ROLES = ("human", "user")
_MODEL_ROLES = ("gpt", "assistant", "model")


def parse_import(text: str, source: str, fmt: str) -> list[Task]:
    """Tasks from an import file: an Alpaca JSON array, a ShareGPT JSON array or Self-Instruct JSONL.

    Every task carries at least one instance. Errors name ``source:line``; nothing is returned unless
    the whole file is valid.
    """
    if fmt == "alpaca":
        tasks = _parse_json_array(text, source, _alpaca_task)
    elif fmt == "sharegpt":
        tasks = _parse_json_array(text, source, sharegpt_task)
    elif fmt == "self-instruct":
        tasks = parse_jsonl(text.split("\n"), source, require_instances=True)
    else:
        raise TaskFileError(f"{source}:0: unknown format {fmt!r}; formats: {', '.join(IMPORT_FORMATS)}")
    if not tasks:
        raise TaskFileError(f"{source}:1: no tasks in file")
    return tasks


def load_import_file(path: str | Path, fmt: str) -> list[Task]:
    path = Path(path)
    return parse_import(_read_text(path), str(path), fmt)


def _alpaca_task(record: Any) -> Task:
    if isinstance(record, dict) and "output" not in record:
        raise ValueError("missing string field 'output'")
    return task_from_record(record, require_instances=True)


def sharegpt_task(record: Any) -> Task:
    """The first human turn is the instruction and the reply to it the output (no separate input).

    Later turns of a multi-turn conversation are not part of an instruction triplet: they are kept in
    ``extra["later_turns"]`` (counted, not stored). ``system`` turns are skipped. OpenAI-style
    ``messages`` with ``role``/``content`` are read the same way.
    """
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    turns = record.get("conversations", record.get("messages"))
    if not isinstance(turns, list):
        raise ValueError("missing list field 'conversations'")
    spoken = []
    for position, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise ValueError(f"conversations[{position}] must be an object")
        role = turn.get("from", turn.get("role"))
        value = turn.get("value", turn.get("content"))
        if not isinstance(role, str) or not isinstance(value, str):
            raise ValueError(f"conversations[{position}] needs string 'from' and 'value'")
        if role != "system":
            spoken.append((position, role, value))
    if len(spoken) < 2 or spoken[0][1] not in _HUMAN_ROLES or spoken[1][1] not in _MODEL_ROLES:
        raise ValueError("a conversation must start with a human turn followed by a gpt turn")
    (_, _, question), (answer_at, _, answer) = spoken[0], spoken[1]
    if not question.strip():
        raise ValueError("conversations[0].value is empty")
    if not answer.strip():
        raise ValueError(f"conversations[{answer_at}].value is empty")
    return Task(
        instruction=question.strip(),
        instances=(Instance("", answer.strip()),),
        extra={"later_turns": len(spoken) - 2} if len(spoken) > 2 else {},
    )


def _parse_json_array(text: str, source: str, read: Callable[[Any], Task]) -> list[Task]:
    """Decode a JSON array item by item so an error names the line the bad item starts on."""
    decoder = json.JSONDecoder()
    position, line = _skip_space(text, 0), 1
    line += text.count("\n", 0, position)
    if text[position : position + 1] != "[":
        raise TaskFileError(f"{source}:{line}: expected a JSON array")
    tasks: list[Task] = []
    cursor = _skip_space(text, position + 1)
    while cursor < len(text) and text[cursor] != "]":
        line += text.count("\n", position, cursor)
        position = cursor
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise TaskFileError(f"{source}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        try:
            tasks.append(read(record))
        except ValueError as exc:
            raise TaskFileError(f"{source}:{line}: item {len(tasks)}: {exc}") from None
        cursor = _skip_space(text, end)
        if text[cursor : cursor + 1] == ",":
            cursor = _skip_space(text, cursor + 1)
        elif text[cursor : cursor + 1] != "]":
            where = line + text.count("\n", position, cursor)
            raise TaskFileError(f"{source}:{where}: invalid JSON (expected ',' or ']')")
    if cursor >= len(text) or text[cursor + 1 :].strip():
        where = line + text.count("\n", position, min(cursor, len(text)))
        raise TaskFileError(f"{source}:{where}: invalid JSON (the array is not closed once)")
    return tasks


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFileError(f"{path}:0: file not found") from None
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}:0: not UTF-8 text ({exc.reason})") from None
