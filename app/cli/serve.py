"""``serve`` (the HTTP service) and ``worker`` (job workers and the scheduler, no HTTP)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.options import DatabaseOpt

if TYPE_CHECKING:
    from app.core.settings import Settings
    from generators.backends import LLMBackend

logger = logging.getLogger(__name__)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    worker: Annotated[bool, typer.Option(help="run job workers in this process")] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from app.cli.runtime import command_settings
    from app.core.logging import configure_logging
    from app.main import create_app

    settings = command_settings(database_url, host=host, port=port, backend=backend)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings, workers=worker),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
    )


def worker(
    threads: Annotated[int | None, typer.Option(min=1, help="job threads (default SI_WORKERS)")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers, openai or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run job workers and the scheduler in this process, until SIGTERM or Ctrl-C."""
    from app.cli.runtime import command_settings
    from app.core.logging import configure_logging

    settings = command_settings(database_url, backend=backend, workers=threads)
    configure_logging(settings.log_level)
    run_worker(settings)


def run_worker(settings: Settings, backend: LLMBackend | None = None) -> None:
    """The ``worker`` command's body (``backend`` may be injected, as tests do with a slowed fake)."""
    from app.cli.runtime import command_services, load_model

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with command_services(settings, model=True, backend=backend) as services:
        load_model(services)
        jobs = services.require_jobs()
        jobs.start(max(settings.workers, 1))
        logger.info("worker %s ready", jobs.started_worker().owner)
        stop.wait()
        logger.info("stopping: running jobs go back to the queue at their next step")
