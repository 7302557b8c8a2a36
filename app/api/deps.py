"""Dependencies as ``Annotated`` aliases, so routes read like prose; each is one service of the lifespan
(app/main.py puts them on ``app.state``) or something derived from one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.core.auth import Access
from app.core.backend import BackendService
from app.core.settings import Settings
from app.core.supervision import Supervisor
from app.datasets.kept_stats import KeptStats
from app.datasets.service import get_dataset
from app.datasets.stats_cache import StatsCache
from app.jobs.processing import JobProcessing
from app.models import Dataset
from app.pipeline.pools import DatasetPool, PoolRegistry
from app.pipeline.pools_service import PoolsService
from app.retrieval.similarity import SimilarityBatcher


def _service(name: str) -> Callable[[Request], Any]:
    """The dependency that returns the lifespan's service ``name`` (an attribute of ``app.state``)."""

    def service(request: Request) -> Any:
        return getattr(request.app.state, name)

    service.__name__ = f"{name}_service"
    return service


SettingsDep = Annotated[Settings, Depends(_service("settings"))]
EngineDep = Annotated[Engine, Depends(_service("engine"))]
PoolsServiceDep = Annotated[PoolsService, Depends(_service("pools"))]
SimilarityDep = Annotated[SimilarityBatcher, Depends(_service("similarity"))]
BackendDep = Annotated[BackendService, Depends(_service("backend"))]
JobsDep = Annotated[JobProcessing, Depends(_service("jobs"))]
SupervisorDep = Annotated[Supervisor, Depends(_service("supervisor"))]
StatsCacheDep = Annotated[StatsCache, Depends(_service("stats_cache"))]
KeptStatsDep = Annotated[KeptStats, Depends(_service("kept_stats"))]


def _session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


def _pools(service: PoolsServiceDep) -> PoolRegistry:
    return service.registry


PoolsDep = Annotated[PoolRegistry, Depends(_pools)]


def _dataset(session: SessionDep, name: Annotated[str, Path(max_length=64)]) -> Dataset:
    return get_dataset(session, name)


DatasetDep = Annotated[Dataset, Depends(_dataset)]


async def _pool(pools: PoolsDep, engine: EngineDep, name: Annotated[str, Path(max_length=64)]) -> DatasetPool:
    """The dataset's in-memory pool; no database round trip once it is built."""
    pool = pools.cached(name)
    if pool is not None:
        return pool

    def load() -> DatasetPool:
        with Session(engine) as session:
            return pools.get(get_dataset(session, name))

    return await run_in_threadpool(load)


PoolDep = Annotated[DatasetPool, Depends(_pool)]


def require_api_key(request: Request, engine: EngineDep) -> Access | None:
    """Every ``/v1`` route: a valid key with the scope, once keys are on (app/core/auth.py); what the
    request may do. Its own short session, so no pooled connection is held while a request waits for
    admission."""
    if not request.url.path.startswith("/v1"):
        return None
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key")
    with Session(engine) as session:
        access: Access = request.app.state.keys.check(session, key, request.method, request.url.path)
    return access


# the app's own check (FastAPI runs one dependency once per request), as a route parameter
AccessDep = Annotated[Access, Depends(require_api_key)]
