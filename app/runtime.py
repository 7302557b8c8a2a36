"""The long-lived parts of one process: database, embedder, backend, pools and workers.

The HTTP lifespan and the CLI both build a :class:`Runtime`, so they run the same code paths. The
generation backend loads in a background thread (the SmolLM2 GGUF takes ~20 s to de-quantise);
``/readyz`` answers 503 until it is ready.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import ensure_default_dataset
from app.jobs.runner import JobRunner
from app.jobs.schedules import ScheduleLoop
from app.jobs.worker import JobWorker
from app.pipeline.pools import PoolRegistry
from app.retrieval.similarity import SimilarityBatcher
from filters.embedding import Embedder, SentenceTransformerEmbedder
from generators.backends import LLMBackend, create_backend
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitBreaker

logger = logging.getLogger(__name__)


def set_compute_threads(threads: int) -> None:
    """One intra-op thread per torch or FAISS call by default. Measured on the 2-core machines this runs
    on while another process was busy: a MiniLM query took 14 ms with 1 thread and 500 ms with 2
    (OpenMP threads waiting for each other), SmolLM2 made 15.8 tokens/s against 2.3, and a flat FAISS
    search took 0.3 ms against 8-24 ms. Throughput comes from running calls concurrently instead.

    torch is not imported for this (a service on ONNX Runtime and a remote model never loads it): when it
    is not loaded yet, ``OMP_NUM_THREADS`` tells it when it is."""
    import faiss

    faiss.omp_set_num_threads(threads)
    torch = sys.modules.get("torch")
    if torch is None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    elif torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    embedder: Embedder
    backend: LLMBackend
    registry: PoolRegistry
    similarity: SimilarityBatcher
    dispatcher: RequestDispatcher
    backend_ready: threading.Event = field(default_factory=threading.Event)
    pools_ready: threading.Event = field(default_factory=threading.Event)
    backend_error: str | None = None
    pools_error: str | None = None
    worker: JobWorker | None = None
    scheduler: ScheduleLoop | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        backend: LLMBackend | None = None,
        ensure_default: bool = True,
    ) -> Runtime:
        set_compute_threads(settings.torch_threads)
        engine = make_engine(settings.database_url)
        create_tables(engine)
        embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model_path,
            fast_queries=settings.fast_query_embeddings,
            background=True,
            onnx_cache_dir=settings.onnx_cache_dir,
            threads=settings.torch_threads,
        )
        backend = backend or create_backend(
            settings.backend,
            settings.model_path,
            settings.device,
            settings.openai_options(),
            settings.vllm_engine_args,
        )
        registry = PoolRegistry(engine, embedder, settings.resolved_index_dir(), settings.filter_chain)
        runtime = cls(
            settings,
            engine,
            embedder,
            backend,
            registry,
            SimilarityBatcher(registry, settings.similar_max_batch, settings.similar_workers),
            RequestDispatcher(
                backend,
                settings.resolved_max_in_flight(),
                CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
            ),
        )
        if ensure_default:
            with Session(engine, expire_on_commit=False) as session:
                ensure_default_dataset(session, runtime.registry, settings)
        return runtime

    def load_backend(self, background: bool = False) -> None:
        if background:
            threading.Thread(target=self.load_backend, name="backend-loader", daemon=True).start()
            return
        # transformers builds models under process-wide state (meta-device initialisation), so two loads
        # must not overlap: the embedder, loading in its own thread, finishes first.
        self._wait_for_embedder()
        try:
            self.backend.load()
        except Exception as exc:
            self.backend_error = f"{type(exc).__name__}: {exc}"
            logger.exception("could not load backend %s", self.settings.backend)
            return
        self.backend_ready.set()

    def warm_pools(self, background: bool = False) -> None:
        """Build every dataset's indexes from the database; ``/readyz`` waits for it."""
        if background:
            threading.Thread(target=self.warm_pools, name="pool-loader", daemon=True).start()
            return
        started = time.perf_counter()
        try:
            self.registry.warm()
        except Exception as exc:
            self.pools_error = f"{type(exc).__name__}: {exc}"
            logger.exception("could not build the dataset indexes")
            return
        self.pools_ready.set()
        logger.info("indexes of all datasets ready in %.2fs", time.perf_counter() - started)

    def job_runner(self, stop_event: threading.Event | None = None) -> JobRunner:
        return JobRunner(
            self.engine,
            self.registry,
            self.settings,
            stop_event or (self.worker.stop_event if self.worker else threading.Event()),
            lease_lost=self.worker.lease_lost if self.worker else (lambda _job_id: False),
            dispatcher=self.dispatcher,
        )

    def start_workers(self, threads: int | None = None) -> None:
        """``SI_WORKERS`` job threads; ``threads=0`` only makes the worker (``run_one`` and heartbeat)."""
        if threads is None:
            threads = self.settings.workers
            if threads <= 0:
                return
        self.worker = JobWorker(
            self.job_runner,
            self.engine,
            threads,
            self.settings.worker_poll_s,
            self.backend_ready.is_set,
            self.settings.job_lease_s,
            self.settings.job_heartbeat_s,
        )
        self.worker.start()

    def start_scheduler(self) -> None:
        """Enqueue the jobs of due schedules (one per tick, whatever other processes do too)."""
        if self.settings.scheduler:
            self.scheduler = ScheduleLoop(self.engine, self.settings, self.notify_new_job)
            self.scheduler.start()

    def notify_new_job(self) -> None:
        if self.worker is not None:
            self.worker.wakeup.set()

    def _wait_for_embedder(self) -> None:
        wait = getattr(self.embedder, "wait_loaded", None)
        if wait is not None:
            wait()

    def close(self) -> None:
        self._wait_for_embedder()  # no loader thread outlives the runtime
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.worker is not None:
            self.worker.stop()
        self.registry.save_all()
        self.dispatcher.close()
        self.backend.unload()
        self.engine.dispose()
