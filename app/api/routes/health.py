"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import BackendDep, PoolsServiceDep, SettingsDep
from app.api.errors import error_response
from generators.backends import LLMBackend
from generators.backends.server_pool import ServerPoolBackend

router = APIRouter(tags=["health"])


def model_servers(backend: LLMBackend) -> dict[str, object]:
    """Per model server, when several stand behind the backend."""
    return {"model_servers": backend.status()} if isinstance(backend, ServerPoolBackend) else {}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(
    settings: SettingsDep, backend: BackendDep, pools: PoolsServiceDep
) -> dict[str, object] | JSONResponse:
    """Ready when the generation backend is loaded (its model server reachable and serving the configured
    model) and every dataset's indexes are built."""
    if backend.error:
        return error_response(503, "not_ready", f"backend failed to load: {backend.error}")
    if not backend.ready.is_set():
        return error_response(503, "not_ready", "the generation backend is still loading")
    problem = backend.backend.server_problem()
    if problem:
        return error_response(503, "not_ready", problem)
    if pools.error:
        return error_response(503, "not_ready", f"dataset indexes failed to build: {pools.error}")
    if not pools.ready.is_set():
        return error_response(503, "not_ready", "the dataset indexes are still loading")
    return {
        "status": "ready",
        "backend": settings.backend,
        "model": backend.backend.model_id,
        "embedder": pools.embedder.model_id,
        "backend_circuit": backend.dispatcher.breaker.state,
        "requests_in_flight": backend.dispatcher.in_flight,
        "requests_waiting": backend.dispatcher.waiting,
        "indexes_building": pools.registry.building(),
        **model_servers(backend.backend),
    }
