"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.api.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(runtime: RuntimeDep) -> dict[str, object] | JSONResponse:
    """Ready when the generation backend is loaded and every dataset's indexes are built."""
    if runtime.backend_error:
        return error_response(503, "not_ready", f"backend failed to load: {runtime.backend_error}")
    if not runtime.backend_ready.is_set():
        return error_response(503, "not_ready", "the generation backend is still loading")
    if runtime.pools_error:
        return error_response(503, "not_ready", f"dataset indexes failed to build: {runtime.pools_error}")
    if not runtime.pools_ready.is_set():
        return error_response(503, "not_ready", "the dataset indexes are still loading")
    return {
        "status": "ready",
        "backend": runtime.settings.backend,
        "model": runtime.backend.model_id,
        "embedder": runtime.embedder.model_id,
        "backend_circuit": runtime.dispatcher.breaker.state,
        "requests_in_flight": runtime.dispatcher.in_flight,
        "requests_waiting": runtime.dispatcher.waiting,
        "indexes_building": runtime.registry.building(),
    }
