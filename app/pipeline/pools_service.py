"""The dataset pools as a service: the process's PoolRegistry with its embedder, warmed in the
background at start (``/readyz`` waits for ``ready``), its large indexes saved at stop."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

from app.core.settings import Settings
from app.pipeline.pool_lifetimes import PoolLifetimes
from app.pipeline.pools import PoolRegistry
from app.pipeline.timed_embedder import TimedEmbedder
from filters.embedding import Embedder, SentenceTransformerEmbedder

logger = logging.getLogger(__name__)
TRIM_EVERY_S = 30.0  # the longest wait between two looks for pools to drop


class PoolsService:
    def __init__(self, registry: PoolRegistry, warm_pools: bool = True) -> None:
        self.registry = registry
        self.warm_pools = warm_pools
        self.ready = threading.Event()
        self.error: str | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: Settings, embedder: Embedder | None = None
    ) -> PoolsService:
        """Pools of the datasets in ``engine``; the configured embedder loads in its own thread."""
        embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model_path,
            fast_queries=settings.fast_query_embeddings,
            background=True,
            onnx_cache_dir=settings.onnx_cache_dir,
            threads=settings.torch_threads,
            cache_items=settings.embedding_cache_items,
        )
        timed = embedder if isinstance(embedder, TimedEmbedder) else TimedEmbedder(embedder)
        lifetimes = PoolLifetimes(settings.pool_idle_s, settings.pool_budget_items)
        thresholds = (settings.relevance_threshold, settings.judge_threshold)
        registry = PoolRegistry(
            engine,
            timed,
            settings.resolved_index_dir(),
            settings.filter_chain,
            thresholds,
            lifetimes,
            vector_codec=settings.vector_codec,
        )
        return cls(registry, warm_pools=settings.warm_pools)

    @property
    def embedder(self) -> Embedder:
        """The registry's embedder (one built by :meth:`from_settings` always has one)."""
        if self.registry.embedder is None:
            raise RuntimeError("the pools' registry has no embedder")
        return self.registry.embedder

    def wait_for_embedder(self) -> None:
        wait = getattr(self.registry.embedder, "wait_loaded", None)
        if wait is not None:
            wait()

    def start(self) -> None:
        """Build every dataset's pool in a background thread (``SI_WARM_POOLS``); with an idle time or
        a budget, another drops the pools not needed (``SI_POOL_IDLE_S``, ``SI_POOL_BUDGET_ITEMS``)."""
        threading.Thread(target=self.warm, name="pool-loader", daemon=True).start()
        lifetimes = self.registry.lifetimes
        if lifetimes.idle_s > 0 or lifetimes.budget_items > 0:
            every_s = min(lifetimes.idle_s / 2, TRIM_EVERY_S) if lifetimes.idle_s > 0 else TRIM_EVERY_S
            threading.Thread(target=self._trim, args=(every_s,), name="pool-trimmer", daemon=True).start()

    def _trim(self, every_s: float) -> None:
        while not self._stopping.wait(every_s):
            try:
                self.registry.trim()
            except Exception:  # a failed pass drops nothing; the next one tries again
                logger.exception("could not drop the pools not needed")

    def warm(self) -> None:
        """Build every dataset's indexes from the database (or, without ``warm_pools``, only wait for the
        embedder); a failure is kept in ``error``."""
        started = time.perf_counter()
        try:
            if self.warm_pools:
                self.registry.warm()
            else:
                self.wait_for_embedder()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception("could not build the dataset indexes")
            return
        self.ready.set()
        logger.info("indexes of all datasets ready in %.2fs", time.perf_counter() - started)

    def stop(self) -> None:
        self._stopping.set()
        self.wait_for_embedder()  # no loader thread outlives the service
        self.registry.save_all()
