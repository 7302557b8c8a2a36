"""Dependencies as ``Annotated`` aliases, so routes read like prose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.datasets.service import get_dataset
from app.models import Dataset
from app.pipeline.pools import DatasetPool
from app.runtime import Runtime


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def _session(runtime: RuntimeDep) -> Iterator[Session]:
    with Session(runtime.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


def _dataset(session: SessionDep, name: Annotated[str, Path(max_length=64)]) -> Dataset:
    return get_dataset(session, name)


DatasetDep = Annotated[Dataset, Depends(_dataset)]


async def _pool(runtime: RuntimeDep, name: Annotated[str, Path(max_length=64)]) -> DatasetPool:
    """The dataset's in-memory pool; no database round trip once it is built."""
    pool = runtime.registry.cached(name)
    if pool is not None:
        return pool

    def load() -> DatasetPool:
        with Session(runtime.engine) as session:
            return runtime.registry.get(get_dataset(session, name))

    return await run_in_threadpool(load)


PoolDep = Annotated[DatasetPool, Depends(_pool)]
