"""The full float32 vectors of a compact index, by position, on disk instead of in the process's memory.

A compact index (float16 codes, :mod:`filters.index`) answers a search with approximate scores; the few hits
that could change the answer are re-scored from these vectors (:mod:`filters.rescoring`). They are read with
``os.pread`` — a few 1.5 KB reads per search, served by the page cache, which the kernel may reclaim — so they
cost the process no resident memory (a memory map would count every page it touched in the process's RSS).

Two files: an immutable *base* (a saved file, opened read-only; a save writes a new file and renames it, so
an open base is never changed under a reader) and a private, unlinked *tail* that takes the vectors added
since. Positions below the base's count are read from the base, the rest from the tail.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zlib
from pathlib import Path
from typing import Literal

import numpy as np

VectorCodec = Literal["fp16", "float32"]  # how a VectorIndex keeps its vectors in memory (filters/index.py)
CODECS: tuple[VectorCodec, ...] = ("fp16", "float32")
DEFAULT_CODEC: VectorCodec = "fp16"


class ExactVectors:
    """Append-only float32 vectors by position: ``append`` them, ``read`` a few back, ``save`` them all."""

    def __init__(
        self, dimension: int, base: Path | None = None, base_count: int = 0, tail_dir: Path | None = None
    ) -> None:
        """``tail_dir``: where the tail file goes (default: the base's folder, else the system's temp)."""
        self.dimension = dimension
        self.row_bytes = 4 * dimension
        self._base_fd = os.open(base, os.O_RDONLY) if base is not None else None
        self._base_count = base_count if base is not None else 0
        self._tail_dir = tail_dir or (base.parent if base is not None else None)
        self._tail_fd: int | None = None
        self._tail_count = 0

    def __len__(self) -> int:
        return self._base_count + self._tail_count

    def _tail(self) -> int:
        if self._tail_fd is None:  # created on the first append, removed from the folder at once
            if self._tail_dir is not None:
                self._tail_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self._tail_dir, prefix="vectors-", suffix=".f32") as handle:
                self._tail_fd = os.dup(handle.fileno())
        return self._tail_fd

    def append(self, vectors: np.ndarray) -> None:
        rows = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if len(rows):
            os.pwrite(self._tail(), rows.tobytes(), self._tail_count * self.row_bytes)
            self._tail_count += len(rows)

    def read(self, positions: np.ndarray) -> np.ndarray:
        """The vectors at ``positions`` (any order, repeats allowed) as an ``(n, dimension)`` array."""
        out = np.empty((len(positions), self.dimension), dtype=np.float32)
        for row, position in enumerate(positions):
            out[row] = np.frombuffer(self._read_bytes(int(position), 1), dtype=np.float32)
        return out

    def read_range(self, start: int, stop: int) -> np.ndarray:
        """The vectors at positions ``start … stop-1`` (one read per file)."""
        parts = []
        if start < self._base_count:
            count = min(stop, self._base_count) - start
            parts.append(self._read_bytes(start, count))
        if stop > self._base_count:
            first = max(start, self._base_count)
            parts.append(self._read_bytes(first, stop - first))
        data = b"".join(parts)
        return np.frombuffer(data, dtype=np.float32).reshape(-1, self.dimension).copy()

    def _read_bytes(self, position: int, count: int) -> bytes:
        if position < 0 or position + count > len(self):
            raise IndexError(f"positions {position}…{position + count - 1} beyond {len(self)} vectors")
        if position < self._base_count:
            fd, offset = self._base_fd, position
        else:
            fd, offset = self._tail_fd, position - self._base_count
        assert fd is not None
        size = count * self.row_bytes
        data = os.pread(fd, size, offset * self.row_bytes)
        if len(data) != size:
            raise OSError(f"short read of stored vectors ({len(data)} of {size} bytes)")
        return data

    def checksum(self) -> int:
        """CRC-32 of the first and the last vector: what a saved index checks its vector file against."""
        if not len(self):
            return 0
        return zlib.crc32(self._read_bytes(0, 1) + self._read_bytes(len(self) - 1, 1))

    def save(self, path: Path, chunk: int = 4096) -> None:
        """Write every vector to ``path`` (a new file, renamed into place), then read from it as the base."""
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as out:
            for start in range(0, len(self), chunk):
                out.write(self.read_range(start, min(start + chunk, len(self))).tobytes())
        os.replace(partial, path)
        count = len(self)
        self.close()
        self._base_fd, self._base_count, self._tail_dir = os.open(path, os.O_RDONLY), count, path.parent

    @classmethod
    def open(cls, path: Path, dimension: int, count: int, checksum: int) -> ExactVectors:
        """The first ``count`` vectors of a saved file (it may hold more: a later save by another process
        of the same rows); ``ValueError`` when it is missing, shorter or holds other vectors."""
        if not path.exists() or path.stat().st_size < count * 4 * dimension:
            raise ValueError(f"{path} is missing or holds fewer than {count} vectors")
        store = cls(dimension, path, count)
        if store.checksum() != checksum:
            store.close()
            raise ValueError(f"{path} holds other vectors than its index")
        return store

    def close(self) -> None:
        for fd in (self._base_fd, self._tail_fd):
            if fd is not None:
                os.close(fd)
        self._base_fd = self._tail_fd = None
        self._base_count = self._tail_count = 0

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()
