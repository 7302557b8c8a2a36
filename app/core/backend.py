"""The process's generation backend as a service: the LLMBackend, its one RequestDispatcher, and whether
it has loaded.

Every model call of the process goes through ``dispatcher`` (the in-flight limit and the circuit breaker
span all callers: jobs and CLI commands alike). The service loads the backend in a background thread
(the SmolLM2 GGUF takes ~20 s to de-quantise); ``/readyz`` answers 503 until ``ready`` is set and names
``error`` when loading failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.core.limits import clean_model_output
from app.core.settings import Settings
from generators.backends import LLMBackend, create_backend
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitBreaker
from generators.backends.server_pool import ServerPoolBackend

logger = logging.getLogger(__name__)


class BackendService:
    def __init__(
        self, settings: Settings, backend: LLMBackend, before_load: Callable[[], None] | None = None
    ) -> None:
        self.name = settings.backend
        self.backend = backend
        servers = len(backend.servers) if isinstance(backend, ServerPoolBackend) else 1
        self.dispatcher = RequestDispatcher(
            backend,
            settings.resolved_max_in_flight() * servers,  # a pool limits each server itself
            CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
            output_rule=clean_model_output,  # the text rule, before anything parses or stores it
        )
        self.ready = threading.Event()
        self.error: str | None = None
        self._stop_timeout_s = settings.shutdown_grace_s
        self._before_load = before_load

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        backend: LLMBackend | None = None,
        before_load: Callable[[], None] | None = None,
    ) -> BackendService:
        """The configured backend (or ``backend``, injected by tests), not loaded yet."""
        options, urls = settings.openai_options(), settings.openai_servers()
        if backend is None and settings.backend == "openai" and options and len(urls) > 1:
            backend = ServerPoolBackend(
                [create_backend("openai", openai_options={**options, "base_url": url}) for url in urls],
                settings.resolved_max_in_flight(),
                settings.breaker_failures,
                settings.breaker_cooldown_s,
            )
        backend = backend or create_backend(
            settings.backend,
            settings.model_path,
            settings.device,
            settings.openai_options(),
            settings.vllm_engine_args,
        )
        return cls(settings, backend, before_load)

    def start(self) -> None:
        """Load the backend in a background thread."""
        threading.Thread(target=self.load, name="backend-loader", daemon=True).start()

    def load(self) -> None:
        """Load the backend in the calling thread; a failure is kept in ``error``."""
        # transformers builds models under process-wide state (meta-device initialisation), so two loads
        # must not overlap: ``before_load`` waits for the embedder, loading in its own thread
        if self._before_load is not None:
            self._before_load()
        try:
            self.backend.load()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception("could not load backend %s", self.name)
            return
        self.ready.set()

    def stop(self) -> None:
        self.dispatcher.close(self._stop_timeout_s)
        self.backend.unload()
