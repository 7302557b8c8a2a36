"""The real service (``create_app``) against a fake OpenAI-compatible server, as the benchmarks drive it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def service_client(
    server: Any, embedder: Any, database_url: str, **settings: Any
) -> AsyncIterator[tuple[Any, Any]]:
    """``(app, client)``: the service on the ``openai`` backend pointed at ``server``, started (backend and
    pools ready), and an in-process httpx client; ``settings`` are further ``Settings`` fields."""
    import httpx

    from app.core.settings import Settings
    from app.main import create_app
    from generators.backends.openai_backend import OpenAIBackend

    config = Settings(
        database_url=database_url,
        backend="openai",
        openai_base_url=server.base_url,
        openai_model="fake-model",
        workers=1,
        worker_poll_s=0.05,
        _env_file=None,
        **settings,
    )
    backend = OpenAIBackend(server.base_url, "fake-model", timeout_s=120, max_retries=2)
    app = create_app(config, embedder=embedder, backend=backend)
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.backend.ready.wait, 60)
        await asyncio.to_thread(app.state.pools.ready.wait, 60)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield app, client
