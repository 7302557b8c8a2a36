"""Seed and candidate file readers: shipped seeds, public seed sets, and errors that name file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators.tasks import (
    Instance,
    TaskFileError,
    load_candidate_file,
    load_import_file,
    load_seed_file,
    parse_import,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = PROJECT_ROOT / "seed_tasks"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

GOOD_ROW = {
    "id": "seed_task_0",
    "name": "colours",
    "instruction": "Name three primary colours.",
    "instances": [{"input": "", "output": "Red, yellow and blue."}],
    "is_classification": False,
}


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"public data set {path} is absent (expected ../shared/data beside the project)")
    return path


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


# ---- shipped and public seed sets ---------------------------------------------------------------------


def test_english_seed_file():
    tasks = load_seed_file(SEED_DIR / "en_seed_tasks.jsonl")
    assert len(tasks) >= 100
    assert sum(t.is_classification for t in tasks) >= 20
    assert sum(all(not i.input.strip() for i in t.instances) for t in tasks) >= 30
    assert all(t.instances and all(i.output.strip() for i in t.instances) for t in tasks)
    assert len({t.instruction for t in tasks}) == len(tasks)  # no duplicate seeds


def test_chinese_seed_file():
    tasks = load_seed_file(SEED_DIR / "zh_seed_tasks.jsonl")
    assert len(tasks) >= 30
    assert all(has_cjk(t.instruction) for t in tasks)


@pytest.mark.parametrize(
    ("name", "rows", "chinese"),
    [
        ("self_instruct_seed_tasks.jsonl", 175, False),
        ("belle_zh_seed_tasks.jsonl", 175, True),
        ("self_instruct_user_oriented.jsonl", 252, False),
    ],
)
def test_public_seed_sets_load(name, rows, chinese):
    tasks = load_seed_file(shared_file(name))
    assert len(tasks) == rows
    assert all(t.instruction and t.instances for t in tasks)
    assert (sum(has_cjk(t.instruction) for t in tasks) > rows // 2) is chinese


def test_self_instruct_seed_fields():
    tasks = load_seed_file(shared_file("self_instruct_seed_tasks.jsonl"))
    assert sum(t.is_classification for t in tasks) == 26
    assert tasks[0].external_id == "seed_task_0"
    assert tasks[0].name == "breakfast_suggestion"


def test_user_oriented_keeps_unknown_fields_in_extra():
    tasks = load_seed_file(shared_file("self_instruct_user_oriented.jsonl"))
    assert all("motivation_app" in t.extra for t in tasks)
    assert all(t.name is None and t.is_classification is False for t in tasks)


# ---- errors name file:line: reason --------------------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(**changes) -> str:
    record = {**GOOD_ROW, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...})


BAD_ROWS = {
    "invalid_json": ('{"instruction": "Name a colour.", ', "invalid JSON"),
    "not_an_object": ('["Name a colour."]', "expected a JSON object"),
    "missing_instruction": (row(instruction=...), "missing string field 'instruction'"),
    "instruction_not_a_string": (row(instruction=42), "missing string field 'instruction'"),
    "empty_instruction": (row(instruction="   "), "'instruction' is empty"),
    "missing_instances": (row(instances=...), "missing list field 'instances'"),
    "instances_not_a_list": (row(instances={"input": "", "output": "x"}), "'instances' must be a list"),
    "instances_empty": (row(instances=[]), "'instances' is empty"),
    "instance_not_an_object": (row(instances=["x"]), "instances[0] must be an object"),
    "empty_output": (row(instances=[{"input": "", "output": "  "}]), "instances[0].output is empty"),
    "missing_output": (row(instances=[{"input": ""}]), "instances[0].output must be a string"),
    "second_output_empty": (
        row(instances=[{"input": "", "output": "ok"}, {"input": "", "output": ""}]),
        "instances[1].output is empty",
    ),
    "input_not_a_string": (
        row(instances=[{"input": 3, "output": "x"}]),
        "instances[0].input must be a string",
    ),
    "is_classification_not_bool": (row(is_classification="yes"), "'is_classification' must be true or false"),
    "name_not_a_string": (row(name=5), "'name' must be a string"),
    "id_not_scalar": (row(id=[1]), "'id' must be a string or an integer"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_row_names_file_line_and_reason(tmp_path, case):
    bad, reason = BAD_ROWS[case]
    path = write_lines(tmp_path / "seeds.jsonl", [row(), "", bad, row()])  # the bad row is on line 3
    with pytest.raises(TaskFileError) as caught:
        load_seed_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3:"), message
    assert reason in message


def test_task_file_error_is_a_value_error():
    assert issubclass(TaskFileError, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(TaskFileError, match=r":0: file not found"):
        load_seed_file(tmp_path / "nope.jsonl")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"instruction": "Caf\xe9 au lait"}\n')
    with pytest.raises(TaskFileError, match=r":0: not UTF-8"):
        load_seed_file(path)


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_seed_file(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaskFileError, match=r":1: no tasks"):
        load_seed_file(path)


def test_seed_row_defaults_and_extra(tmp_path):
    path = write_lines(
        tmp_path / "seeds.jsonl",
        [json.dumps({"instruction": "  Name a colour. ", "instances": [{"output": "Red"}], "id": 7, "x": 1})],
    )
    (task,) = load_seed_file(path)
    assert task.instruction == "Name a colour."
    assert task.instances == (Instance("", "Red"),)
    assert task.is_classification is False and task.name is None
    assert task.external_id == "7"
    assert task.extra == {"x": 1}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separator_inside_a_string_is_valid_jsonl(tmp_path, separator):
    record = {**GOOD_ROW, "instruction": f"Name three{separator}primary colours."}
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (task,) = load_seed_file(path)
    assert task.instruction == record["instruction"]


# ---- candidate files ----------------------------------------------------------------------------------


def test_candidate_jsonl_with_only_instructions(tmp_path):
    path = write_lines(
        tmp_path / "candidates.jsonl",
        [
            json.dumps({"instruction": "Name a colour."}),
            "",
            json.dumps({"instruction": "List three fruits."}),
        ],
    )
    tasks = load_candidate_file(path)
    assert [t.instruction for t in tasks] == ["Name a colour.", "List three fruits."]
    assert all(t.instances == () for t in tasks)


def test_candidate_jsonl_accepts_seed_rows(tmp_path):
    path = write_lines(tmp_path / "candidates.jsonl", [row()])
    (task,) = load_candidate_file(path)
    assert task.instances == (Instance("", "Red, yellow and blue."),)


def test_candidate_jsonl_errors_name_the_line(tmp_path):
    path = write_lines(tmp_path / "candidates.jsonl", [json.dumps({"instruction": "ok"}), '{"text": "x"}'])
    with pytest.raises(TaskFileError, match=r"candidates\.jsonl:2: missing string field 'instruction'"):
        load_candidate_file(path)


def test_candidate_alpaca_array(tmp_path):
    rows = [
        {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well."},
        {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
        {"instruction": "Name a colour."},
    ]
    path = tmp_path / "alpaca.json"
    path.write_text("  \n" + json.dumps(rows, indent=2), encoding="utf-8")
    tasks = load_candidate_file(path)
    assert [t.instruction for t in tasks] == [r["instruction"] for r in rows]
    assert tasks[0].instances == (Instance("", "Eat well."),)
    assert tasks[1].instances == (Instance("Good morning", "Bonjour"),)
    assert tasks[2].instances == ()
    assert all(t.extra == {} for t in tasks)


def test_candidate_alpaca_bad_item_is_named(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([{"instruction": "ok"}, {"instruction": ""}]), encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"alpaca\.json:1: item 1: 'instruction' is empty"):
        load_candidate_file(path)


def test_candidate_alpaca_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text('[\n  {"instruction": "ok"},\n  {"instruction": }\n]', encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"alpaca\.json:3: invalid JSON"):
        load_candidate_file(path)


def test_import_sharegpt_takes_the_first_exchange(tmp_path):
    rows = [
        {"conversations": [{"from": "human", "value": "Name a prime."}, {"from": "gpt", "value": "7"}]},
        {
            "id": "b",
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "Capital of Peru?"},
                {"from": "gpt", "value": "Lima"},
                {"from": "human", "value": "And Chile?"},
                {"from": "gpt", "value": "Santiago"},
            ],
        },
        {"messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi!"}]},
    ]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    tasks = load_import_file(path, "sharegpt")
    assert [(t.instruction, t.instances) for t in tasks] == [
        ("Name a prime.", (Instance("", "7"),)),
        ("Capital of Peru?", (Instance("", "Lima"),)),
        ("Say hi.", (Instance("", "Hi!"),)),
    ]
    assert tasks[1].extra == {"later_turns": 2}


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        (
            "sharegpt",
            '[\n {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]},\n'
            ' {"conversations": [{"from": "gpt", "value": "b"}]}\n]',
            r"x:3: item 1: a conversation must start with a human turn",
        ),
        ("sharegpt", '[\n {"conversations": "hi"}\n]', r"x:2: item 0: missing list field 'conversations'"),
        (
            "alpaca",
            '[\n{"instruction": "a", "output": "b"},\n\n{"instruction": "c"}]',
            r"x:4: item 1: .*'output'",
        ),
        ("alpaca", '[{"instruction": "a", "output": "b"}\n{"instruction": "c"}]', r"x:2: invalid JSON"),
        ("alpaca", '{"instruction": "a", "output": "b"}', r"x:1: expected a JSON array"),
        ("alpaca", "[]", r"x:1: no tasks"),
        ("alpaca", '[{"instruction": "a", "output": "b"}] [', r"x:1: invalid JSON"),
        (
            "self-instruct",
            '{"instruction": "a", "instances": [{"input": "", "output": "b"}]}\n{"instruction": "c"}',
            r"x:2: missing list field 'instances'",
        ),
        ("csv", "a,b", r"x:0: unknown format 'csv'"),
    ],
)
def test_import_errors_name_file_and_line(fmt, text, message):
    with pytest.raises(TaskFileError, match=message):
        parse_import(text, "x", fmt)


def test_import_alpaca_rows_become_one_instance_each():
    text = json.dumps([{"instruction": "Add.", "input": "2 3", "output": "5"}])
    (task,) = parse_import(text, "x", "alpaca")
    assert task.instruction == "Add." and task.instances == (Instance("2 3", "5"),)
