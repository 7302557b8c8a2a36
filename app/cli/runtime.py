"""The one way a command gets its services: :func:`command_services` builds what the command needs
(the database always; the pools and their embedder, the model and its dispatcher, the job workers when
asked) and stops them when the command ends, however it ends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app.cli.options import fail
from app.core.backend import BackendService
from app.core.errors import ServiceError
from app.core.logging import configure_logging
from app.core.settings import Settings
from app.datasets import service as datasets_service
from app.models import Dataset, DatasetCreate
from app.pipeline.pools import PoolRegistry
from app.services import Services, build_services
from generators.backends import LLMBackend


def command_settings(database_url: str | None, **overrides: object) -> Settings:
    """``SI_*`` settings with the command's options (those given) on top."""
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}  # Settings validates
    if database_url:
        values["database_url"] = database_url
    try:
        return Settings(**values)
    except ValidationError as exc:  # a bad SI_* variable or option: say which and why, no traceback
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"invalid settings: {problems}") from None


def batch_settings(database_url: str | None, **overrides: object) -> Settings:
    """Settings for a one-shot batch command (ingest, import): the process has the machine to itself,
    so each model call uses every core unless ``SI_TORCH_THREADS`` says otherwise (a service keeps one
    thread per call and runs calls side by side instead)."""
    settings = command_settings(database_url, **overrides)
    if "torch_threads" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"torch_threads": os.cpu_count() or 1})


@contextmanager
def command_services(
    settings: Settings,
    *,
    pools: bool = True,
    model: bool = False,
    backend: LLMBackend | None = None,
    ensure_default: bool = False,
) -> Iterator[Services]:
    """The database, plus the pools (``pools``) and the model behind its dispatcher (``model``; with
    both, the job workers too), none started; a service error becomes the CLI's message and exit code 2."""
    services = build_services(
        settings, backend=backend, pools=pools, model=model, ensure_default=ensure_default
    )
    try:
        yield services
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        services.stop()


def load_model(services: Services) -> BackendService:
    """Load the model in the foreground; a failure ends the command (exit code 2)."""
    backend = services.require_backend()
    backend.load()
    if backend.error:
        raise fail(f"backend failed to load: {backend.error}")
    return backend


def get_or_create_dataset(
    session: Session, name: str, settings: Settings, create: bool = True
) -> tuple[Dataset, bool]:
    """Dataset ``name`` and whether it was just created (and committed); a missing one is created only
    when ``create`` is set, else its NotFound propagates."""
    try:
        return datasets_service.get_dataset(session, name), False
    except ServiceError:
        if not create:
            raise
        dataset = datasets_service.create_dataset(session, DatasetCreate(name=name), settings)
        session.commit()
        return dataset, True


@contextmanager
def dataset_session(
    database_url: str | None, name: str, create: bool
) -> Iterator[tuple[PoolRegistry, Session, Dataset, bool]]:
    """For a batch command on dataset ``name``: the pools, a session, the dataset (created first when
    missing and ``create`` is set) and whether it was just created."""
    settings = batch_settings(database_url)
    configure_logging("WARNING")
    with (
        command_services(settings) as services,
        Session(services.engine, expire_on_commit=False) as session,
    ):
        dataset, created = get_or_create_dataset(session, name, settings, create)
        yield services.require_pools().registry, session, dataset, created


@contextmanager
def dataset_reader(database_url: str | None, name: str) -> Iterator[tuple[Session, Dataset]]:
    """For a command reading or editing dataset ``name`` without its pools: a session and the dataset; a
    service error inside (an unknown dataset, bad input) ends the command with its message."""
    with (
        command_services(command_settings(database_url), pools=False) as services,
        Session(services.engine, expire_on_commit=False) as session,
    ):
        try:
            yield session, datasets_service.get_dataset(session, name)
        except ServiceError as exc:
            raise fail(exc.message) from None
