"""The dataset pools as a service: the process's PoolRegistry with its embedder, warmed in the
background at start (``/readyz`` waits for ``ready``), its large indexes saved at stop."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

from app.core.settings import Settings
from app.pipeline.pools import PoolRegistry
from app.pipeline.timed_embedder import TimedEmbedder
from filters.embedding import Embedder, SentenceTransformerEmbedder

logger = logging.getLogger(__name__)


class PoolsService:
    def __init__(self, registry: PoolRegistry) -> None:
        self.registry = registry
        self.ready = threading.Event()
        self.error: str | None = None

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
        )
        timed = embedder if isinstance(embedder, TimedEmbedder) else TimedEmbedder(embedder)
        thresholds = (settings.relevance_threshold, settings.judge_threshold)
        return cls(
            PoolRegistry(engine, timed, settings.resolved_index_dir(), settings.filter_chain, thresholds)
        )

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
        """Build every dataset's pool in a background thread."""
        threading.Thread(target=self.warm, name="pool-loader", daemon=True).start()

    def warm(self) -> None:
        """Build every dataset's indexes from the database; a failure is kept in ``error``."""
        started = time.perf_counter()
        try:
            self.registry.warm()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception("could not build the dataset indexes")
            return
        self.ready.set()
        logger.info("indexes of all datasets ready in %.2fs", time.perf_counter() - started)

    def stop(self) -> None:
        self.wait_for_embedder()  # no loader thread outlives the service
        self.registry.save_all()
