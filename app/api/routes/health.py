"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import BackendDep, PoolsServiceDep, SettingsDep, SupervisorDep
from app.api.errors import error_response
from app.api.openapi import error_responses
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


@router.get("/readyz", response_model=None, responses=error_responses(503))
def readyz(
    settings: SettingsDep, backend: BackendDep, pools: PoolsServiceDep, supervisor: SupervisorDep
) -> dict[str, object] | JSONResponse:
    """Ready when the generation backend is loaded (its model server reachable and serving the configured
    model), every dataset's indexes are built and no background loop is dead or failing pass after pass."""
    problems = supervisor.problems()
    if problems:
        return error_response(503, "not_ready", "; ".join(problems), problems)
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


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics in the text exposition format (app/core/metrics.py)."""
    body = generate_latest(request.app.state.metrics)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)
