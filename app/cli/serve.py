"""``serve`` (the HTTP service) and ``worker`` (job workers and the scheduler, no HTTP)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer

from app.cli.options import DatabaseOpt
from app.cli.runtime import command_services, command_settings, load_model
from app.core.logging import configure_logging
from app.core.settings import Settings
from generators.backends import LLMBackend
from generators.backends.base import running_model_calls

logger = logging.getLogger(__name__)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers or fake")] = None,
    worker: Annotated[bool, typer.Option(help="run job workers in this process")] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the HTTP service."""
    settings = command_settings(database_url, host=host, port=port, backend=backend)
    configure_logging(settings.log_level, settings.log_format)
    run_server(settings, workers=worker)


def run_server(settings: Settings, backend: LLMBackend | None = None, workers: bool = True) -> None:
    """The ``serve`` command's body (``backend`` may be injected, as tests do with a slowed fake).

    On SIGINT/SIGTERM open event streams end with an ``end`` event; connections still open after
    ``SI_SHUTDOWN_GRACE_S`` are closed, so the process exits within a few seconds (app/main.py stops the
    services within the same grace).
    """
    import uvicorn

    from app.main import create_app

    uvicorn.run(
        create_app(settings, backend=backend, workers=workers),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers write through the service's handler (text or JSON)
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)),
    )
    exit_now_if_model_calls_run()


def exit_now_if_model_calls_run() -> None:
    """Everything is stopped and stored; a model call still computing in a daemon thread (abandoned) would
    abort the interpreter's finalisation, so the process ends here with status 0 instead."""
    running = running_model_calls()
    if running:
        logger.info("exiting without waiting for %d abandoned model call(s)", running)
        logging.shutdown()
        os._exit(0)


def worker(
    threads: Annotated[int | None, typer.Option(min=1, help="job threads (default SI_WORKERS)")] = None,
    backend: Annotated[str | None, typer.Option(help="transformers, openai or fake")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run job workers and the scheduler in this process, until SIGTERM or Ctrl-C."""
    settings = command_settings(database_url, backend=backend, workers=threads)
    configure_logging(settings.log_level, settings.log_format)
    run_worker(settings)


def run_worker(settings: Settings, backend: LLMBackend | None = None) -> None:
    """The ``worker`` command's body (``backend`` may be injected, as tests do with a slowed fake)."""
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
    exit_now_if_model_calls_run()
