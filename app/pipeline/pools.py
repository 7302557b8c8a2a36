"""Each dataset's novelty pool in this process: its filter chain, loaded from the database, and a lock.

The pool is built from stored rows (seeds + accepted candidates, by id) with their stored embeddings, so
a restart re-embeds nothing; rows stored without an embedding are embedded once and written back.
Acceptors of one dataset take ``pool.lock`` so decisions happen one at a time in arrival order, and
the dataset's database lock so other processes wait too; then :meth:`PoolRegistry.catch_up` adds what
other processes stored meanwhile (pool rows are only inserted under that lock, so their ids grow).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

from sqlalchemy import case
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from app.models import Dataset, Instruction, id_col, stored_id
from app.pipeline import pool_reload
from app.pipeline.chain_config import QualityThresholds, chain_config, relevance_reference
from app.pipeline.pool_lifetimes import PoolLifetimes
from app.pipeline.stored_vectors import embed_missing, load_saved_index
from filters.chain import DecisionChain
from filters.embedding import Embedder, vectors_from_bytes
from filters.exact_vectors import DEFAULT_CODEC
from filters.index import DEFAULT_ANN_MIN_SIZE, VectorIndex
from filters.index_files import vectors_path
from filters.novelty_pool import NoveltyPool
from filters.stages.base import DEFAULT_JUDGE_THRESHOLD, DEFAULT_RELEVANCE_THRESHOLD, DEFAULT_STAGE_ORDER

logger = logging.getLogger(__name__)
# Pools whose vector index holds at least this many vectors are saved to disk: from here on it is an
# HNSW graph, which takes seconds to tens of seconds to build; smaller flat indexes rebuild in a blink.
SAVE_AFTER_ADDING = DEFAULT_ANN_MIN_SIZE
CATCH_UP_IN_BULK = 256


class DatasetPool:
    """A dataset's novelty pool and decision chain in this process, and the lock its acceptors take."""

    def __init__(self, dataset: Dataset, chain: DecisionChain, novelty: NoveltyPool) -> None:
        self.dataset_id = stored_id(dataset)
        self.name = dataset.name
        self.domain = dataset.domain  # what the judge rates relevance to
        self.chain = chain
        self.novelty = novelty
        self.decisions_version = dataset.decisions_version  # see app/pipeline/pool_reload.py
        self.lock = threading.RLock()
        self.last_used = time.monotonic()

    def __len__(self) -> int:
        return len(self.novelty)


class PoolRegistry:
    """Builds pools on first use and keeps them until ``lifetimes`` says to drop them."""

    def __init__(
        self,
        engine: Engine,
        embedder: Embedder | None,
        index_dir: Path | None = None,
        stages: tuple[str, ...] = DEFAULT_STAGE_ORDER,
        thresholds: QualityThresholds = (DEFAULT_RELEVANCE_THRESHOLD, DEFAULT_JUDGE_THRESHOLD),
        lifetimes: PoolLifetimes | None = None,
        *,
        vector_codec: str = DEFAULT_CODEC,
    ) -> None:
        self.engine = engine
        self.embedder = embedder
        self.index_dir = index_dir
        self.stages = stages  # the decision chain, in order (SI_FILTER_CHAIN)
        self.thresholds = thresholds  # for datasets that set none (SI_RELEVANCE_THRESHOLD …)
        self.vector_codec = vector_codec  # SI_VECTOR_CODEC (filters/index.py)
        self._pools: dict[int, DatasetPool] = {}
        self.accepted_total = 0  # candidates this process accepted and committed (the metrics' counter)
        self._by_name: dict[str, DatasetPool] = {}
        self._lock = threading.Lock()
        self.lifetimes = lifetimes or PoolLifetimes()

    def get(self, dataset: Dataset) -> DatasetPool:
        with self._lock:
            pool = self._pools.get(stored_id(dataset))
            built = pool is None
            if pool is None:
                pool = self._pools[stored_id(dataset)] = self._build(dataset)
                self._by_name[dataset.name] = pool
            self.lifetimes.touch(pool)
        if built:  # over the budget: the least recently used others go
            self.drop(self.lifetimes.to_drop(list(self._pools.values()), keep=pool.dataset_id))
        return pool

    def cached(self, name: str) -> DatasetPool | None:
        """The built pool of dataset ``name``, if any (no database access: the hot path of search)."""
        pool = self._by_name.get(name)
        if pool is not None:
            self.lifetimes.touch(pool)
        return pool

    def drop(self, pools: list[DatasetPool]) -> list[str]:
        """Forget these pools (their large indexes saved first), except one an acceptor is using."""
        dropped = []
        for pool in pools:
            if not pool.lock.acquire(blocking=False):
                continue
            try:
                self._save_if_worth(pool)
                with self._lock:
                    if self._pools.get(pool.dataset_id) is pool:
                        del self._pools[pool.dataset_id]
                        self._by_name.pop(pool.name, None)
                        dropped.append(pool.name)
            finally:
                pool.lock.release()
        if dropped:
            logger.info("dropped the pools of %s (idle or over the budget)", ", ".join(dropped))
        return dropped

    def trim(self) -> list[str]:
        """Drop the pools idle too long and, over the budget, the least recently used; the names dropped."""
        return self.drop(self.lifetimes.to_drop(list(self._pools.values())))

    def building(self) -> list[str]:
        """Datasets whose HNSW graph is still built in the background (searched exactly meanwhile)."""
        pools = list(self._pools.values())
        return sorted(pool.name for pool in pools if pool.novelty.building)

    def warm(self) -> None:
        """Build every dataset's pool (at start-up, so the first request does not pay for it)."""
        with Session(self.engine) as session:
            datasets = session.exec(select(Dataset).order_by(col(Dataset.id))).all()
        for dataset in datasets:
            self.get(dataset)

    def invalidate(self, dataset_id: int) -> None:
        """Forget a pool (after a failed commit, a deletion or a config change)."""
        with self._lock:
            pool = self._pools.pop(dataset_id, None)
            if pool is not None:
                self._by_name.pop(pool.name, None)

    def forget(self, dataset_id: int) -> None:
        """Drop a deleted dataset's pool and its saved index."""
        self.invalidate(dataset_id)
        path = self.index_path(dataset_id)
        if path is not None:
            path.unlink(missing_ok=True)
            vectors_path(path).unlink(missing_ok=True)

    def _build(self, dataset: Dataset) -> DatasetPool:
        started = time.perf_counter()
        dimension = self.embedder.dimension if self.embedder else None
        saved = self._load_saved(dataset, dimension) if dimension else None
        covered = saved.max_id if saved is not None else -1
        with Session(self.engine) as session:
            rows = session.exec(
                select(
                    id_col(Instruction.id),
                    Instruction.origin,
                    Instruction.instruction,
                    case((col(Instruction.id) > covered, col(Instruction.embedding)), else_=None),
                )
                .where(col(Instruction.dataset_id) == dataset.id)
                .where(or_(col(Instruction.origin) == "seed", col(Instruction.accepted)))
                .order_by(col(Instruction.id))
            ).all()
            if saved is not None and sum(1 for row in rows if row[0] <= covered) != len(saved):
                logger.warning(
                    "saved index of dataset %s disagrees with the database; rebuilding", dataset.name
                )
                return self._build_without_saved(dataset)
            fresh = [i for i, row in enumerate(rows) if row[0] > covered]
            blobs = (
                embed_missing(
                    session,
                    self.embedder,
                    [rows[i][0] for i in fresh],
                    [rows[i][2] for i in fresh],
                    [rows[i][3] for i in fresh],
                )
                if self.embedder is not None
                else []
            )
            reference = relevance_reference(session, dataset, self.embedder)
        config = chain_config(dataset, self.stages, reference, self.thresholds)
        novelty = NoveltyPool(config.rouge_threshold, dimension, saved, self.vector_codec, self.index_dir)
        novelty.add_many([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows])
        pool = DatasetPool(dataset, DecisionChain.from_config(config), novelty)
        vectors = pool.novelty.vectors  # there is one when there is an embedder (dimension)
        if vectors is not None and fresh:
            # a graph too big to build in a blink is built in the background, then saved; the exact flat
            # index answers meanwhile, so the service is ready without waiting for it
            vectors.add_many(
                [rows[i][0] for i in fresh],
                vectors_from_bytes(blobs, vectors.dimension),
                background=True,
                on_built=lambda: self._save_if_current(pool),
            )
        if dimension and len(fresh) >= SAVE_AFTER_ADDING:  # a graph still building saves itself
            self._save(pool)
        logger.info(
            "built pool of dataset %s: %d items (%d vectors from a saved index) in %.2fs",
            dataset.name,
            len(rows),
            len(saved) if saved is not None else 0,
            time.perf_counter() - started,
        )
        return pool

    def chain_for(self, session: Session, dataset: Dataset) -> DecisionChain:
        """The dataset's chain: its settings (the server's thresholds where it sets none), the relevance
        stage's reference (domain and seed vectors)."""
        reference = relevance_reference(session, dataset, self.embedder)
        return DecisionChain.from_config(chain_config(dataset, self.stages, reference, self.thresholds))

    def catch_up(self, session: Session, pool: DatasetPool) -> int:
        """Add the pool rows other processes committed since ``pool`` last saw the database.

        Call with the dataset's lock held; runs in the caller's transaction. Returns how many were added.
        """
        self.lifetimes.touch(pool)
        if pool_reload.stored_version(session, pool.dataset_id) != pool.decisions_version:
            return pool_reload.reload_in_place(session, self, pool)  # re-decided by another process
        rows = session.exec(
            select(id_col(Instruction.id), Instruction.origin, Instruction.instruction, Instruction.embedding)
            .where(col(Instruction.dataset_id) == pool.dataset_id, col(Instruction.id) > pool.novelty.last_id)
            .where(or_(col(Instruction.origin) == "seed", col(Instruction.accepted)))
            .order_by(col(Instruction.id))
        ).all()
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        texts = [row[2] for row in rows]
        vectors = None
        if self.embedder is not None:
            blobs = embed_missing(session, self.embedder, ids, texts, [row[3] for row in rows], commit=False)
            vectors = vectors_from_bytes(blobs, self.embedder.dimension)
        if len(rows) >= CATCH_UP_IN_BULK:
            pool.novelty.add_many(ids, [row[1] for row in rows], texts, vectors)
        else:  # a bulk add re-ranks the whole ROUGE index; a few rows are cheaper one by one
            for position, row in enumerate(rows):
                vector = vectors[position] if vectors is not None else None
                pool.novelty.add(row[0], row[1], row[2], vector)
        logger.info("dataset %s: caught up %d items stored by other processes", pool.name, len(rows))
        return len(rows)

    def _build_without_saved(self, dataset: Dataset) -> DatasetPool:
        path = self.index_path(stored_id(dataset))
        if path is not None:
            path.unlink(missing_ok=True)
        return self._build(dataset)

    def index_path(self, dataset_id: int) -> Path | None:
        """One file per dataset and embedding model, so a model change never reuses old vectors."""
        if self.index_dir is None:
            return None
        model = re.sub(r"[^A-Za-z0-9_.-]", "_", getattr(self.embedder, "model_id", "model"))
        return self.index_dir / f"dataset-{dataset_id}-{model}.faiss"

    def _load_saved(self, dataset: Dataset, dimension: int) -> VectorIndex | None:
        path = self.index_path(stored_id(dataset))
        return load_saved_index(path, dimension, self.vector_codec) if path is not None else None

    def _save_if_current(self, pool: DatasetPool) -> None:
        """Save ``pool``'s index unless the pool was dropped meanwhile (dataset deleted or rebuilt)."""
        with self._lock:  # a pool still being built by get() is registered once get() returns
            current = self._pools.get(pool.dataset_id) is pool
        if current:
            self._save(pool)

    def _save(self, pool: DatasetPool) -> None:
        path = self.index_path(pool.dataset_id)
        if path is None or pool.novelty.vectors is None or pool.novelty.vectors.building:
            return  # a graph still being built is saved when it is done
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        with pool.lock:
            pool.novelty.vectors.save(path)
        logger.info(
            "saved index of dataset %s (%d vectors) in %.2fs",
            pool.name,
            len(pool.novelty.vectors),
            time.perf_counter() - started,
        )

    def save_all(self) -> None:
        """Save the indexes worth saving (the large ones, changed since they were loaded or saved) so
        the next start loads them."""
        for pool in list(self._pools.values()):
            self._save_if_worth(pool)

    def _save_if_worth(self, pool: DatasetPool) -> None:
        vectors = pool.novelty.vectors
        if vectors is not None and len(vectors) >= SAVE_AFTER_ADDING and vectors.unsaved:
            self._save(pool)
