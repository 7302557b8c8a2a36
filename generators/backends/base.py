"""The interface every generation backend implements."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from generators.prompts import Prompt

T = TypeVar("T")
_running_calls = 0  # blocking model calls in daemon threads now (see running_model_calls)
_running_lock = threading.Lock()
_abandoned: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "si_model_call_abandoned", default=None
)


class CallAbandoned(Exception):
    """A blocking model call that stopped because nobody waits for its result any more."""


def call_abandoned() -> threading.Event | None:
    """In a blocking model call run by :func:`in_daemon_thread`: the event set once nobody waits for its
    result (the awaiting task was cancelled). A backend that can stop early checks it (transformers
    stops generating), so an abandoned call neither burns the CPU nor holds the model for long."""
    return _abandoned.get()


def _abandonable(abandoned: threading.Event, call: Callable[..., T], *args: object) -> T:
    _abandoned.set(abandoned)
    return call(*args)


def running_model_calls() -> int:
    """How many blocking model calls :func:`in_daemon_thread` runs now, abandoned or not. A process that
    exits while one runs must skip the interpreter's finalisation (``os._exit``): a native library (torch)
    still computing in a daemon thread aborts the process when its runtime is torn down under it."""
    return _running_calls


async def in_daemon_thread(call: Callable[..., T], *args: object) -> T:
    """``await asyncio.to_thread(call, *args)``, but in a daemon thread of its own.

    ``asyncio.to_thread`` runs on the loop's executor, whose threads the interpreter joins at exit: a CPU
    model's generate (tens of seconds) would hold a stopping process that long although its result is no
    longer wanted. Cancelling the awaiting task abandons the call (:func:`call_abandoned` tells it); its
    result is then dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()  # the caller's log context (request id, job id) goes along
    abandoned = threading.Event()

    def settle(value: object, failed: bool) -> None:
        if future.done():  # cancelled meanwhile
            return
        if failed:
            future.set_exception(value)  # type: ignore[arg-type]
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def work() -> None:
        global _running_calls
        value: object
        with _running_lock:
            _running_calls += 1
        try:
            value, failed = context.run(_abandonable, abandoned, call, *args), False
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            value, failed = exc, True
        finally:
            with _running_lock:
                _running_calls -= 1
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this result
            loop.call_soon_threadsafe(settle, value, failed)

    threading.Thread(target=work, name="backend-call", daemon=True).start()
    try:
        return await future
    except asyncio.CancelledError:
        abandoned.set()  # the call may stop early (call_abandoned); its result is dropped either way
        raise


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings, stated explicitly (no backend default is trusted, e.g. max_tokens)."""

    n: int = 2
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    logprobs: int = 0  # > 0: each sampled token's top alternatives with their log-probabilities

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {
            "n": self.n,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
            "seed": self.seed,
        }
        if self.json_schema is not None:
            values["json_schema"] = self.json_schema
        if self.logprobs:
            values["logprobs"] = self.logprobs
        return values


class RequestRejected(RuntimeError):
    """The model server answered and refused the request (a 4xx a retry cannot fix: wrong model, unknown
    field, prompt too long). Not an outage: the circuit breaker does not count it; the job fails at once
    with the server's own ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class TokenLogprobs:
    """One sampled token and the log-probabilities of the most likely tokens at its position."""

    token: str
    top: dict[str, float]


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop" or "length"
    completion_tokens: int
    logprobs: tuple[TokenLogprobs, ...] | None = None  # when asked for and the backend returns them


@dataclass(frozen=True)
class GenerationResult:
    """All samples for one prompt, with what the ledger records."""

    prompt_text: str
    completions: list[Completion]
    prompt_tokens: int
    model_id: str
    seconds: float
    extra: dict[str, object] = field(default_factory=dict)


class LLMBackend(ABC):
    """A text generator. Heavy imports happen in :meth:`load`, so the package imports anywhere."""

    model_id: str = "unknown"
    uses_chat_template: bool = False

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights or open connections; called once before the first :meth:`generate`."""

    def unload(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`load` took."""

    @abstractmethod
    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        """Return ``params.n`` completions of ``prompt``; blocking, called off the event loop."""

    async def agenerate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        """The same on an event loop; backends with an async client override it so that cancelling the
        awaiting task cancels the request itself (a blocking call runs to its end, in a daemon thread:
        a process that is stopping does not wait for a model call nobody wants any more)."""
        return await in_daemon_thread(self.generate, prompt, params)

    def server_problem(self) -> str | None:
        """What keeps a remote model server from serving this backend (unreachable, another model), or
        None; backends in the process have none."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`agenerate` opened on the event loop that ran it."""
