"""FAISS inner-product index over normalised vectors, keyed by int64 ids."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Exact cosine search (``IndexFlatIP`` behind an id map) with save/load."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if len(vectors) == 0:
            return
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, ids)`` per query row; missing neighbours have id -1."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if len(self) == 0 or k <= 0:
            shape = (len(queries), max(k, 0))
            return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
        scores, ids = self._index.search(queries, k)
        return scores, ids

    def nearest(self, vector: np.ndarray) -> tuple[float | None, int | None]:
        scores, ids = self.search(vector, 1)
        if ids[0, 0] < 0:
            return None, None
        return float(scores[0, 0]), int(ids[0, 0])

    def save(self, path: str | Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> VectorIndex:
        index = faiss.read_index(str(path))
        loaded = cls(index.d)
        loaded._index = index
        return loaded
