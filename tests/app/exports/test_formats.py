"""Export writers stream in chunks and stay valid; splits follow the documented hash rule."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest

from app.core.errors import InvalidInput
from app.exports import formats as exports
from app.exports.parquet import PARQUET_COLUMNS


def _rows(n: int) -> list[exports.ExportRow]:
    return [
        exports.ExportRow(
            id=i,
            task_id=i // 2,
            instruction=f"Task {i // 2}",
            input="" if i % 3 else f"input {i}",
            output=f"output {i}",
            is_classification=None if i % 5 == 0 else bool(i % 2),
            origin="generated",
            split=exports.SplitSpec().split_of(i // 2),
            provenance={"task": {}, "instance": {"seed_position": None}},
        )
        for i in range(n)
    ]


def test_parquet_is_written_one_row_group_per_batch(monkeypatch) -> None:
    monkeypatch.setattr(exports, "BATCH", 4)
    chunks = list(exports.render(iter(_rows(10)), "parquet"))
    assert len([c for c in chunks if c]) >= 3  # bytes leave before the last row is read
    table = pq.read_table(io.BytesIO(b"".join(chunks)))
    assert table.num_rows == 10 and pq.ParquetFile(io.BytesIO(b"".join(chunks))).num_row_groups == 3
    assert table.column("output").to_pylist() == [f"output {i}" for i in range(10)]
    assert table.column("is_classification").to_pylist()[:2] == [None, True]


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt"])
def test_json_arrays_are_valid_when_empty_and_when_streamed(fmt: str) -> None:
    assert json.loads(b"".join(exports.render(iter([]), fmt))) == []
    chunks = list(exports.render(iter(_rows(3)), fmt))
    assert len(chunks) == 5 and len(json.loads(b"".join(chunks))) == 3


def test_empty_parquet_still_has_the_schema() -> None:
    table = pq.read_table(io.BytesIO(b"".join(exports.render(iter([]), "parquet"))))
    assert table.num_rows == 0 and table.column_names == list(PARQUET_COLUMNS)


def test_split_rule_is_the_documented_hash() -> None:
    spec = exports.SplitSpec(seed=3, validation=0.25, test=0.25)
    for task_id in range(200):
        u = int.from_bytes(hashlib.sha256(f"3:{task_id}".encode()).digest()[:8], "big") / 2**64
        expected = "test" if u < 0.25 else "validation" if u < 0.5 else "train"
        assert spec.split_of(task_id) == expected
    counts = {s: sum(spec.split_of(t) == s for t in range(2000)) for s in exports.SPLITS}
    shares = dict(zip(exports.SPLITS, (0.5, 0.25, 0.25), strict=True))
    assert all(abs(counts[s] / 2000 - share) < 0.05 for s, share in shares.items())


def test_bad_split_settings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="fractions"):
        exports.SplitSpec(validation=0.6, test=0.6)
    with pytest.raises(InvalidInput, match="unknown split"):
        exports.ExportSelection(split="dev")
    with pytest.raises(InvalidInput, match="unknown format"):
        exports.render(iter([]), "csv")
