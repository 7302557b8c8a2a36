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
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from app.models import Dataset, Instruction
from filters.chain import ChainConfig, FilterChain
from filters.embedding import Embedder, from_bytes, to_bytes
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
        self._lock = threading.Lock()

    def get(self, dataset: Dataset) -> DatasetPool:
        with self._lock:
            pool = self._pools.get(dataset.id)
            if pool is None:
                pool = self._pools[dataset.id] = self._build(dataset)
            return pool

    def invalidate(self, dataset_id: int) -> None:
        """Forget a pool (after a failed commit, a deletion or a config change)."""
        with self._lock:
            self._pools.pop(dataset_id, None)

    def _build(self, dataset: Dataset) -> DatasetPool:
        started = time.perf_counter()
        dimension = self.embedder.dimension if self.embedder else None
        pool = DatasetPool(dataset, FilterChain(chain_config(dataset), dimension))
        with Session(self.engine) as session:
            rows = session.exec(
                select(Instruction)
                .where(Instruction.dataset_id == dataset.id)
                .where(or_(Instruction.origin == "seed", col(Instruction.accepted)))
                .order_by(Instruction.id)
            ).all()
            self._embed_missing(session, rows)
            for row in rows:
                vector = from_bytes(row.embedding, dimension) if dimension and row.embedding else None
                pool.add(row, vector)
        logger.info(
            "built pool of dataset %s: %d items in %.2fs",
            dataset.name,
            len(rows),
            time.perf_counter() - started,
        )
        return pool

    def _embed_missing(self, session: Session, rows: list[Instruction]) -> None:
        missing = [row for row in rows if row.embedding is None]
        if not missing or self.embedder is None:
            return
        vectors = self.embedder.embed([row.instruction for row in missing])
        for row, vector in zip(missing, vectors, strict=True):
            row.embedding = to_bytes(vector)
            session.add(row)
        session.commit()
        logger.info("embedded %d stored rows that had no vector", len(missing))
