"""Dependencies as ``Annotated`` aliases, so routes read like prose; each is one service of the lifespan
(app/main.py puts them on ``app.state``) or something derived from one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.core.backend import BackendService
from app.core.settings import Settings
from app.datasets.service import get_dataset
from app.jobs.processing import JobProcessing
from app.models import Dataset
from app.pipeline.pools import DatasetPool, PoolRegistry
from app.pipeline.pools_service import PoolsService
from app.retrieval.similarity import SimilarityBatcher


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(_engine)]


def _session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


def _pools_service(request: Request) -> PoolsService:
    return request.app.state.pools


PoolsServiceDep = Annotated[PoolsService, Depends(_pools_service)]


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


def _similarity(request: Request) -> SimilarityBatcher:
    return request.app.state.similarity


SimilarityDep = Annotated[SimilarityBatcher, Depends(_similarity)]


def _backend(request: Request) -> BackendService:
    return request.app.state.backend


BackendDep = Annotated[BackendService, Depends(_backend)]


def _jobs(request: Request) -> JobProcessing:
    return request.app.state.jobs


JobsDep = Annotated[JobProcessing, Depends(_jobs)]
