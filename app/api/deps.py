"""Dependencies as ``Annotated`` aliases, so routes read like prose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session

from app.models import Dataset
from app.services.datasets import get_dataset
from app.services.runtime import Runtime


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
