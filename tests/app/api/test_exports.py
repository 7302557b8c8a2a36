"""Exports through the HTTP app, each read back by its reference reader; splits; snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.helpers import all_instances, start_job, wait_for_job
from tests.conftest import assert_error


async def _dataset_with_triplets(client, target: int = 10, seed: int = 5) -> list[dict]:
    job = await wait_for_job(client, await start_job(client, target=target, seed=seed, instances_per_task=4))
    assert job["status"] == "succeeded", job
    accepted = await all_instances(client)
    assert len(accepted) >= 10
    return accepted


async def _export(client, **params) -> bytes:
    response = await client.get("/v1/datasets/default/export", params=params)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def _load(builder: str, path: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    import datasets

    return datasets.load_dataset(
        builder, data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
    )


async def test_each_format_loads_in_its_reference_reader(client, tmp_path: Path) -> None:
    accepted = await _dataset_with_triplets(client)
    tasks = {
        t["id"]: t for t in (await client.get("/v1/datasets/default/instructions?limit=1000")).json()["items"]
    }
    expected = [(tasks[r["instruction_id"]]["instruction"], r["input"], r["output"]) for r in accepted]

    parquet = tmp_path / "data.parquet"
    parquet.write_bytes(await _export(client, format="parquet"))
    table = _load("parquet", parquet, tmp_path)
    assert table.num_rows == len(accepted)
    assert set(table.column_names) >= {"id", "task_id", "instruction", "input", "output", "split"}
    assert [(r["instruction"], r["input"], r["output"]) for r in table] == expected
    assert table["id"] == [r["id"] for r in accepted]

    own = tmp_path / "data.jsonl"
    own.write_bytes(await _export(client, format="jsonl"))
    rows = _load("json", own, tmp_path)
    assert rows.num_rows == len(accepted)
    ledger_ids = {
        g["id"]
        for j in (await client.get("/v1/jobs")).json()
        for g in (await client.get(f"/v1/jobs/{j['id']}/generations")).json()
    }
    for row, source in zip(rows, accepted, strict=True):
        assert row["id"] == source["id"] and row["instance"]["generation_id"] == source["generation_id"]
        assert row["instance"]["generation_id"] in ledger_ids and row["task"]["generation_id"] in ledger_ids
        assert row["task"]["max_rouge_l"] is not None and row["task"]["max_cosine"] is not None
        assert row["split"] in ("train", "validation", "test")

    openai_lines = (await _export(client, format="openai")).decode().splitlines()
    assert len(openai_lines) == len(accepted)
    for line, (instruction, input_text, output) in zip(openai_lines, expected, strict=True):
        record = json.loads(line)
        assert set(record) == {"messages"}
        roles = [m["role"] for m in record["messages"]]
        assert roles == ["user", "assistant"]
        assert all(
            isinstance(m["content"], str) and m["content"] and set(m) == {"role", "content"}
            for m in record["messages"]
        )
        user = f"{instruction}\n\n{input_text}" if input_text else instruction
        assert record["messages"][0]["content"] == user
        assert record["messages"][1]["content"] == output

    alpaca = json.loads(await _export(client, format="alpaca"))
    assert [(r["instruction"], r["input"], r["output"]) for r in alpaca] == expected

    sharegpt = json.loads(await _export(client, format="sharegpt"))
    assert len(sharegpt) == len(expected)
    for record, (instruction, input_text, output) in zip(sharegpt, expected, strict=True):
        human, gpt = record["conversations"]
        assert human == {
            "from": "human",
            "value": f"{instruction}\n\n{input_text}" if input_text else instruction,
        }
        assert gpt == {"from": "gpt", "value": output}


async def test_splits_are_by_task_deterministic_and_cover_everything(client) -> None:
    accepted = await _dataset_with_triplets(client, target=20, seed=2)
    params = {"format": "jsonl", "seed": 7, "validation": 0.2, "test": 0.2}
    parts = {}
    for split in ("train", "validation", "test"):
        body = await _export(client, split=split, **params)
        parts[split] = [json.loads(line) for line in body.decode().splitlines()]
        assert all(r["split"] == split for r in parts[split])
    assert all(parts.values()), {k: len(v) for k, v in parts.items()}
    ids = [r["id"] for part in parts.values() for r in part]
    assert sorted(ids) == sorted(r["id"] for r in accepted)
    task_splits = {}
    for split, rows in parts.items():
        for row in rows:
            assert task_splits.setdefault(row["task_id"], split) == split  # a task never straddles splits
    again = await _export(client, split="test", **params)
    assert [json.loads(line)["id"] for line in again.decode().splitlines()] == [
        r["id"] for r in parts["test"]
    ]
    other = await _export(client, split="test", **{**params, "seed": 8})
    assert [json.loads(line)["id"] for line in other.decode().splitlines()] != [
        r["id"] for r in parts["test"]
    ]


async def test_a_snapshot_export_is_reproduced_after_more_rows_arrive(client) -> None:
    await _dataset_with_triplets(client, target=6, seed=1)
    created = await client.post("/v1/datasets/default/snapshots", json={"note": "v1", "include_seeds": True})
    assert created.status_code == 201, created.text
    snapshot = created.json()
    assert created.headers["location"] == f"/v1/datasets/default/snapshots/{snapshot['id']}"
    assert snapshot["seed_tasks"] > 0 and snapshot["instances"] > 0
    before = await _export(client, format="alpaca", snapshot=snapshot["id"])

    await _dataset_with_triplets(client, target=6, seed=9)
    assert await _export(client, format="alpaca", snapshot=snapshot["id"]) == before
    now = json.loads(await _export(client, format="alpaca", include_seeds=True))
    assert len(now) > len(json.loads(before))
    listed = (await client.get("/v1/datasets/default/snapshots")).json()
    assert [s["id"] for s in listed] == [snapshot["id"]]


@pytest.mark.parametrize(
    ("params", "status", "code", "mentions"),
    [
        ({"format": "csv"}, 422, "validation_error", "format"),
        ({"split": "dev"}, 422, "validation_error", "split"),
        ({"snapshot": 999}, 404, "not_found", "snapshot 999"),
        ({"validation": 0.7, "test": 0.7}, 422, "invalid_input", "fractions"),
    ],
)
async def test_bad_export_requests(client, params: dict, status: int, code: str, mentions: str) -> None:
    assert_error(await client.get("/v1/datasets/default/export", params=params), status, code, mentions)


async def test_export_of_unknown_dataset_is_404(client) -> None:
    assert_error(await client.get("/v1/datasets/nope/export"), 404, "not_found", "nope")
    assert_error(await client.post("/v1/datasets/nope/snapshots"), 404, "not_found", "nope")
