"""Similarity search over a dataset's pool (seeds and accepted instructions).

The HTTP path batches concurrent queries: requests wait on a queue; each of ``workers`` tasks takes
everything queued, embeds it in one encoder call (which runs queries of similar token length together
and the rest one by one, since padding costs more than batching saves) and searches FAISS once per
dataset, both in a worker thread, so the event loop never runs the model or the index, and the batches
of different tasks run on different cores.
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np

from app.core.errors import InvalidInput, NotReady
from app.core.limits import MAX_K
from app.core.supervision import LoopHealth
from app.models import SimilarItem
from app.pipeline.pools import DatasetPool, PoolRegistry
from filters.embedding import Embedder

logger = logging.getLogger(__name__)
# a queued query: its pool, text, k, and the future its caller awaits
_Request = tuple[DatasetPool, str, int, asyncio.Future[list[SimilarItem]]]


def _validate(registry: PoolRegistry, pool: DatasetPool, query: str, k: int) -> Embedder:
    """Check a query; returns the embedder that answers it."""
    if not query.strip():
        raise InvalidInput("query 'q' is empty")
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"'k' must be between 1 and {MAX_K}")
    return _loaded_embedder(registry, pool)


def _loaded_embedder(registry: PoolRegistry, pool: DatasetPool | None = None) -> Embedder:
    if registry.embedder is None or (pool is not None and not pool.novelty.searchable):
        raise NotReady("the embedding model is not loaded")
    return registry.embedder


def _search(pool: DatasetPool, vectors: np.ndarray, ks: list[int]) -> list[list[SimilarItem]]:
    with pool.lock:
        found = pool.novelty.search(vectors, ks)
    return [
        [SimilarItem(id=hit.id, instruction=hit.text, origin=hit.origin, score=hit.score) for hit in hits]
        for hits in found
    ]


def similar(registry: PoolRegistry, pool: DatasetPool, query: str, k: int) -> list[SimilarItem]:
    """The ``k`` pool items closest to ``query`` by cosine, best first (blocking)."""
    embedder = _validate(registry, pool, query, k)
    return _search(pool, embedder.embed_queries([query]), [k])[0]


class SimilarityBatcher:
    """Coalesces concurrent ``similar`` calls into one embedding batch and one FAISS search per pool."""

    def __init__(
        self,
        registry: PoolRegistry,
        max_batch: int = 64,
        workers: int = 2,
        health: LoopHealth | None = None,
    ) -> None:
        self.health = health or LoopHealth("similarity-batcher")
        self.registry = registry
        self.max_batch = max_batch
        self.workers = workers
        self._queue: asyncio.Queue[_Request] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def similar(self, pool: DatasetPool, query: str, k: int) -> list[SimilarItem]:
        _validate(self.registry, pool, query, k)
        queue = self._queue
        if self._tasks and all(task.done() for task in self._tasks):  # never left without a consumer
            logger.error("similarity batchers had ended; starting them again")
            self._tasks = []
        if queue is None or not self._tasks:  # (there is no queue only when there are no tasks)
            queue = self._queue = asyncio.Queue()
            self._tasks = [
                asyncio.create_task(self._run(queue), name=f"similarity-batcher-{i}")
                for i in range(self.workers)
            ]
        future: asyncio.Future[list[SimilarItem]] = asyncio.get_running_loop().create_future()
        queue.put_nowait((pool, query, k, future))
        return await future

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self, queue: asyncio.Queue[_Request]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                results = await asyncio.to_thread(self._embed_and_search, batch)
            except Exception as exc:  # every waiter learns what went wrong; the loop goes on
                self.health.failed(exc)
                logger.exception("similarity batch failed")
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.health.succeeded()
            for (*_, future), items in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(items)

    def _embed_and_search(self, batch: list[_Request]) -> list[list[SimilarItem]]:
        vectors = _loaded_embedder(self.registry).embed_queries([query for _, query, _, _ in batch])
        results: dict[int, list[SimilarItem]] = {}  # by position in the batch
        by_pool: dict[int, list[int]] = {}
        for position, (pool, *_rest) in enumerate(batch):
            by_pool.setdefault(id(pool), []).append(position)
        for positions in by_pool.values():
            pool = batch[positions[0]][0]
            found = _search(pool, vectors[positions], [batch[p][2] for p in positions])
            for position, items in zip(positions, found, strict=True):
                results[position] = items
        return [results[position] for position in range(len(batch))]
