"""The Parquet writer of exports (app/exports/formats.py), streamed in row groups."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from app.exports.formats import ExportRow

PARQUET_COLUMNS = ("id", "task_id", "instruction", "input", "output", "is_classification", "origin", "split")


class _ChunkSink(io.RawIOBase):
    """A write-only file that hands out what was written so far (Parquet's footer offsets need ``tell``)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def parquet_chunks(rows: Iterable[ExportRow], batch_size: int) -> Iterator[bytes]:
    """The rows as a Parquet file, one row group per ``batch_size`` rows, streamed as it is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("task_id", pa.int64()),
            ("instruction", pa.string()),
            ("input", pa.string()),
            ("output", pa.string()),
            ("is_classification", pa.bool_()),
            ("origin", pa.string()),
            ("split", pa.string()),
        ]
    )
    sink = _ChunkSink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema)
    batch: list[ExportRow] = []

    def flush() -> bytes:
        columns = {name: [getattr(r, name) for r in batch] for name in PARQUET_COLUMNS}
        writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        batch.clear()
        return sink.drain()

    try:
        for row in rows:
            batch.append(row)
            if len(batch) == batch_size:
                yield flush()
        if batch:
            yield flush()
    finally:
        writer.close()
    yield sink.drain()
