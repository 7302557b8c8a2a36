"""``create_app(settings)``: the FastAPI application; the lifespan builds, starts and stops its services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.admission import Admission
from app.api.deps import require_api_key
from app.api.errors import install_error_handlers
from app.api.guard import RequestGuard
from app.api.openapi import declare_errors, install_docs
from app.api.request_id import RequestId
from app.api.routes import (
    auth,
    datasets,
    exports,
    health,
    imports,
    instances,
    instructions,
    jobs,
    replays,
    reviews,
    schedules,
)
from app.api.routes import templates as template_routes
from app.core.auth import KeyChecker
from app.core.metrics import HttpMetrics, new_registry
from app.core.settings import Settings
from app.datasets.kept_stats import KeptStats
from app.datasets.stats_cache import StatsCache
from app.retrieval.similarity import SimilarityBatcher
from app.services import build_services
from app.ui import install_ui
from filters.embedding import Embedder
from generators.backends import LLMBackend

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    backend: LLMBackend | None = None,
    workers: bool = True,
) -> FastAPI:
    """Build the app; ``embedder``/``backend`` may be injected (tests share one loaded model)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(build_services, settings, embedder, backend, ensure_default=True)
        pools = services.require_pools()
        supervisor = services.require_jobs().supervisor
        similarity = SimilarityBatcher(
            pools.registry,
            settings.similar_max_batch,
            settings.similar_workers,
            supervisor.loop("similarity-batcher"),
        )
        # each service on its own, for the narrow dependencies of app/api/deps.py
        app.state.settings = settings
        app.state.engine = services.engine
        app.state.pools = services.pools
        app.state.backend = services.backend
        app.state.similarity = similarity
        app.state.jobs = services.jobs
        app.state.supervisor = supervisor
        app.state.stats_cache = StatsCache()
        app.state.kept_stats = kept_stats = KeptStats()
        app.state.keys = KeyChecker(services.engine, settings.require_api_keys)
        app.state.admission = {
            kind: Admission(f"/{kind}", running, settings.admission_max_waiting, settings.admission_wait_s)
            for kind, running in (
                ("candidates", settings.candidates_max_running),
                ("similar", settings.similar_max_running),
                ("jobs", settings.job_posts_max_running),
            )
        }
        services.require_backend().start()
        pools.start()
        if workers:
            services.require_jobs().start()
        kept_stats.prime_later(services.engine, after=pools.ready)
        try:
            yield
        finally:
            kept_stats.close()
            await similarity.close()
            await run_in_threadpool(services.stop)

    app = FastAPI(
        title="Self-Instruct service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from installed assets by install_docs, not from a CDN
        redoc_url=None,
        dependencies=[Depends(require_api_key)],
    )
    install_error_handlers(app)
    registry, latency = new_registry(app.state)
    app.state.metrics = registry
    app.add_middleware(HttpMetrics, latency=latency)
    app.add_middleware(RequestGuard, settings=settings)
    app.add_middleware(RequestId)  # outermost: every line logged for a request carries its id
    routers = (
        health,
        auth,
        datasets,
        jobs,
        instructions,
        instances,
        exports,
        imports,
        schedules,
        replays,
        reviews,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(template_routes.router)
    declare_errors(app)
    install_docs(app)
    install_ui(app)
    return app
