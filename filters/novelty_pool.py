"""A dataset's novelty pool in memory: seeds plus everything accepted, as the decision stages see it.

One item, one id (the stored row's id): its text, origin (``seed`` or how it was proposed), its tokens in
the ROUGE-L index, its normalised text in the exact-duplicate keys and its vector in the FAISS index. The
pool is pure data: no database, no lock (its owner serialises writers), no decision logic (filters/stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filters.exact_vectors import DEFAULT_CODEC, ExactVectors
from filters.index import VectorIndex
from filters.rouge import DEFAULT_THRESHOLD, RougeNoveltyIndex


def normalize_for_exact(text: str) -> str:
    """Whitespace runs to one space, ends stripped, case folded (``str.split`` and ``\\s`` agree on what
    whitespace is)."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class PoolHit:
    id: int
    text: str
    origin: str
    score: float


class NoveltyPool:
    def __init__(
        self,
        rouge_threshold: float = DEFAULT_THRESHOLD,
        dimension: int | None = None,
        vectors: VectorIndex | None = None,
        codec: str = DEFAULT_CODEC,
        vectors_dir: Path | None = None,
    ) -> None:
        """``vectors_dir``: where a compact index keeps its float32 vectors (default: the system's temp)."""
        self.rouge = RougeNoveltyIndex(rouge_threshold)
        self.exact: dict[str, int] = {}
        if vectors is None and dimension:
            exact = ExactVectors(dimension, tail_dir=vectors_dir) if codec != "float32" else None
            vectors = VectorIndex(dimension, codec=codec, exact=exact)
        self.vectors = vectors
        self.texts: dict[int, str] = {}
        self.origins: dict[int, str] = {}
        self.seed_ids: list[int] = []
        self.machine_ids: list[int] = []
        self.last_id = 0  # the largest id in the pool: a catch-up reads stored rows after it

    def __len__(self) -> int:
        return len(self.texts)

    def add(
        self,
        item_id: int,
        origin: str,
        text: str,
        vector: np.ndarray | None = None,
        tokens: list[str] | None = None,
    ) -> None:
        """Put a seed or an accepted candidate into every index of the pool."""
        self.rouge.add(item_id, tokens if tokens is not None else self.rouge.tokenize(text))
        if vector is not None:
            self.add_vectors([item_id], vector)
        self._remember(item_id, origin, text)

    def add_many(
        self, ids: list[int], origins: list[str], texts: list[str], vectors: np.ndarray | None = None
    ) -> None:
        """Bulk :meth:`add` (one ranking pass for the ROUGE index, one FAISS add)."""
        tokenize = self.rouge.tokenize
        self.rouge.add_many((item_id, tokenize(text)) for item_id, text in zip(ids, texts, strict=True))
        if vectors is not None:
            self.add_vectors(ids, vectors)
        for item_id, origin, text in zip(ids, origins, texts, strict=True):
            self._remember(item_id, origin, text)

    def add_vectors(self, ids: list[int], vectors: np.ndarray) -> None:
        """Vectors of items already in the pool (or joining it now); ignored by a pool without an index."""
        if self.vectors is not None:
            self.vectors.add(ids, vectors)

    def _remember(self, item_id: int, origin: str, text: str) -> None:
        self.exact.setdefault(normalize_for_exact(text), item_id)
        self.last_id = max(self.last_id, item_id)
        self.texts[item_id] = text
        self.origins[item_id] = origin
        (self.seed_ids if origin == "seed" else self.machine_ids).append(item_id)

    def exact_twin(self, text: str) -> int | None:
        """The id of the item with the same normalised text, if any."""
        return self.exact.get(normalize_for_exact(text))

    def seed_texts(self) -> list[str]:
        return [self.texts[i] for i in self.seed_ids]

    def machine_texts(self) -> list[str]:
        return [self.texts[i] for i in self.machine_ids]

    @property
    def searchable(self) -> bool:
        return self.vectors is not None

    @property
    def building(self) -> bool:
        """True while the HNSW graph is built in the background (searches are exact meanwhile)."""
        return self.vectors is not None and self.vectors.building

    def search(self, queries: np.ndarray, ks: list[int]) -> list[list[PoolHit]]:
        """The ``ks[i]`` items nearest to ``queries[i]`` by inner product, best first."""
        if self.vectors is None:
            raise ValueError("this pool holds no vectors")
        scores, ids = self.vectors.search(queries, max(ks))
        return [
            [
                PoolHit(int(i), self.texts[int(i)], self.origins[int(i)], float(s))
                for s, i in zip(row_scores[:k], row_ids[:k], strict=True)
                if i >= 0
            ]
            for row_scores, row_ids, k in zip(scores, ids, ks, strict=True)
        ]
