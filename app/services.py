"""``build_services``: the long-lived services of one process, built the same way for the HTTP lifespan
(app/main.py) and for CLI commands (app/cli/runtime.py).

Each service has its own ``start``/``stop``: :class:`~app.pipeline.pools_service.PoolsService` (the
pools and their embedder), :class:`~app.core.backend.BackendService` (the model and its dispatcher),
:class:`~app.jobs.processing.JobProcessing` (job workers and the scheduler). :class:`Services` only
holds what was built so it can be stopped in order; routes never reach through it (each asks for one
service by its own dependency, app/api/deps.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.backend import BackendService
from app.core.compute import set_compute_threads
from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import ensure_default_dataset
from app.jobs.processing import JobProcessing
from app.pipeline.pools_service import PoolsService
from filters.embedding import Embedder
from generators.backends import LLMBackend


@dataclass
class Services:
    settings: Settings
    engine: Engine
    pools: PoolsService | None = None
    backend: BackendService | None = None
    jobs: JobProcessing | None = None  # built when both pools and backend are

    def require_pools(self) -> PoolsService:
        """The pools, for a caller that had :func:`build_services` build them (``pools=True``)."""
        if self.pools is None:
            raise RuntimeError("the pools were not built (build_services(..., pools=True))")
        return self.pools

    def require_backend(self) -> BackendService:
        """The model's service, for a caller that had :func:`build_services` build it (``model=True``)."""
        if self.backend is None:
            raise RuntimeError("the backend was not built (build_services(..., model=True))")
        return self.backend

    def require_jobs(self) -> JobProcessing:
        """The job processing, built when both the pools and the model are."""
        if self.jobs is None:
            raise RuntimeError("job processing was not built (it needs both pools=True and model=True)")
        return self.jobs

    def stop(self) -> None:
        """Stop what was built, the users before what they use; then close the database."""
        for service in (self.jobs, self.pools, self.backend):
            if service is not None:
                service.stop()
        self.engine.dispose()


def build_services(
    settings: Settings,
    embedder: Embedder | None = None,
    backend: LLMBackend | None = None,
    *,
    pools: bool = True,
    model: bool = True,
    ensure_default: bool = False,
) -> Services:
    """The database (migrated), then the pools and/or the model, nothing started yet.

    ``embedder`` and ``backend`` may be injected (tests share one loaded model); ``ensure_default``
    creates the configured default dataset from the shipped seeds when it is missing, as ``serve`` does.
    """
    if pools or model:
        set_compute_threads(settings.torch_threads)
    engine = make_engine(settings.database_url)
    services = Services(settings, engine)
    try:
        create_tables(engine)
        if pools:
            services.pools = PoolsService.from_settings(engine, settings, embedder)
        if model:
            before_load = services.pools.wait_for_embedder if services.pools else None
            services.backend = BackendService.from_settings(settings, backend, before_load)
        if services.pools and services.backend:
            services.jobs = JobProcessing(engine, services.pools.registry, settings, services.backend)
        if ensure_default and services.pools:
            with Session(engine, expire_on_commit=False) as session:
                ensure_default_dataset(session, services.pools.registry, settings)
    except BaseException:
        services.stop()
        raise
    return services
