"""Each dataset's novelty pool in this process: its filter chain, loaded from the database, and a lock.

The pool is built from stored rows (seeds + accepted candidates, by id) with their stored embeddings, so
a restart re-embeds nothing; rows stored without an embedding are embedded once and written back.
Acceptors of one dataset take ``pool.lock`` so decisions happen one at a time in arrival order.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from app.models import Dataset, Instruction
from filters.chain import ChainConfig, FilterChain
from filters.embedding import Embedder, to_bytes
from filters.heuristics import preset

logger = logging.getLogger(__name__)


def chain_config(dataset: Dataset) -> ChainConfig:
    return ChainConfig(
        heuristics=preset(dataset.heuristics_preset, dataset.disabled_rules),
        rouge_threshold=dataset.rouge_threshold,
        embedding_threshold=dataset.embedding_threshold,
    )


class DatasetPool:
    def __init__(self, dataset: Dataset, chain: FilterChain) -> None:
        self.dataset_id = dataset.id
        self.name = dataset.name
        self.chain = chain
        self.lock = threading.RLock()
        self.texts: dict[int, str] = {}
        self.origins: dict[int, str] = {}
        self.seed_ids: list[int] = []
        self.machine_ids: list[int] = []

    def add(self, row: Instruction, embedding: np.ndarray | None) -> None:
        self.chain.add(row.id, row.instruction, embedding)
        self.texts[row.id] = row.instruction
        self.origins[row.id] = row.origin
        (self.seed_ids if row.origin == "seed" else self.machine_ids).append(row.id)

    def add_many(
        self, ids: list[int], origins: list[str], texts: list[str], embeddings: np.ndarray | None
    ) -> None:
        self.chain.add_many(ids, texts, embeddings)
        for item_id, origin, text in zip(ids, origins, texts, strict=True):
            self.texts[item_id] = text
            self.origins[item_id] = origin
            (self.seed_ids if origin == "seed" else self.machine_ids).append(item_id)

    def seed_texts(self) -> list[str]:
        return [self.texts[i] for i in self.seed_ids]

    def machine_texts(self) -> list[str]:
        return [self.texts[i] for i in self.machine_ids]


class PoolRegistry:
    """Builds pools on first use and keeps them for the life of the process."""

    def __init__(self, engine: Engine, embedder: Embedder | None) -> None:
        self.engine = engine
        self.embedder = embedder
        self._pools: dict[int, DatasetPool] = {}
        self._by_name: dict[str, DatasetPool] = {}
        self._lock = threading.Lock()

    def get(self, dataset: Dataset) -> DatasetPool:
        with self._lock:
            pool = self._pools.get(dataset.id)
            if pool is None:
                pool = self._pools[dataset.id] = self._build(dataset)
                self._by_name[dataset.name] = pool
            return pool

    def cached(self, name: str) -> DatasetPool | None:
        """The built pool of dataset ``name``, if any (no database access: the hot path of search)."""
        return self._by_name.get(name)

    def warm(self) -> None:
        """Build every dataset's pool (at start-up, so the first request does not pay for it)."""
        with Session(self.engine) as session:
            datasets = session.exec(select(Dataset).order_by(Dataset.id)).all()
        for dataset in datasets:
            self.get(dataset)

    def invalidate(self, dataset_id: int) -> None:
        """Forget a pool (after a failed commit, a deletion or a config change)."""
        with self._lock:
            pool = self._pools.pop(dataset_id, None)
            if pool is not None:
                self._by_name.pop(pool.name, None)

    def _build(self, dataset: Dataset) -> DatasetPool:
        started = time.perf_counter()
        dimension = self.embedder.dimension if self.embedder else None
        pool = DatasetPool(dataset, FilterChain(chain_config(dataset), dimension))
        columns = (Instruction.id, Instruction.origin, Instruction.instruction, Instruction.embedding)
        with Session(self.engine) as session:
            rows = session.exec(
                select(*columns)
                .where(Instruction.dataset_id == dataset.id)
                .where(or_(Instruction.origin == "seed", col(Instruction.accepted)))
                .order_by(Instruction.id)
            ).all()
            ids = [row[0] for row in rows]
            texts = [row[2] for row in rows]
            blobs = self._embed_missing(session, ids, texts, [row[3] for row in rows])
        vectors = None
        if dimension and rows:
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(rows), dimension)
        pool.add_many(ids, [row[1] for row in rows], texts, vectors)
        logger.info(
            "built pool of dataset %s: %d items in %.2fs",
            dataset.name,
            len(rows),
            time.perf_counter() - started,
        )
        return pool

    def _embed_missing(
        self, session: Session, ids: list[int], texts: list[str], blobs: list[bytes | None]
    ) -> list[bytes | None]:
        """Embed (once, and store) rows that were saved without a vector."""
        missing = [i for i, blob in enumerate(blobs) if blob is None]
        if not missing or self.embedder is None:
            return blobs
        vectors = self.embedder.embed([texts[i] for i in missing])
        blobs = list(blobs)
        for i, vector in zip(missing, vectors, strict=True):
            blobs[i] = to_bytes(vector)
            session.exec(update(Instruction).where(Instruction.id == ids[i]).values(embedding=blobs[i]))
        session.commit()
        logger.info("embedded %d stored rows that had no vector", len(missing))
        return blobs
