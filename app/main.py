"""``create_app(settings)``: the FastAPI application; the lifespan owns every long-lived part."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.errors import install_error_handlers
from app.api.routes import datasets, exports, health, imports, instances, instructions, jobs, schedules
from app.core.settings import Settings
from app.runtime import Runtime
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
        runtime = await run_in_threadpool(Runtime.build, settings, embedder, backend)
        app.state.runtime = runtime
        runtime.load_backend(background=True)
        runtime.warm_pools(background=True)
        if workers:
            runtime.start_workers()
            runtime.start_scheduler()
        try:
            yield
        finally:
            await runtime.similarity.close()
            await run_in_threadpool(runtime.close)

    app = FastAPI(title="Self-Instruct service", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    for module in (health, datasets, jobs, instructions, instances, exports, imports, schedules):
        app.include_router(module.router)
    return app
