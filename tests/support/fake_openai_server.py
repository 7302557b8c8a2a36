"""A fake OpenAI-compatible server for fault injection, demos and the throughput benchmark.

It answers ``POST /v1/chat/completions`` and ``POST /v1/completions`` like ``vllm serve`` does, with
plausible numbered-list continuations. Each request takes the next *behaviour* from a script (then the
default one):

``ok``         a normal answer
``slow``       answers after ``slow_s`` seconds (set it above the client's timeout)
``500``        ``500 Internal Server Error`` (an engine that died while the server still answers)
``429``        ``429 Too Many Requests`` with ``Retry-After``
``drop``       sends the headers, then drops the connection before the body
``length``     cut at ``max_tokens``: ``finish_reason: "length"``, last item unfinished
``malformed``  text that is no list of tasks
``empty``      an empty completion

Server traits (set at construction, like the server one stands in for):

``strict_fields``        unknown request fields are answered 422 "Unexpected fields in the request"
                         (``transformers serve`` does this; vLLM's extensions are unknown to it)
``ignore_n``             one choice whatever ``n`` asks for
``ignore_sampling``      seed, temperature and top_p change nothing: the same text for the same prompt
``abort_on_disconnect``  False: a request whose client went away runs to its end (keeps the server busy)
``pinned_model``         any other model is answered 400 "Server is pinned to …" (unpinned: any model
                         is served, and ``/v1/models`` lists ``fake-model``)
``vllm``                 also answers ``GET /version`` and lists its model ``owned_by: "vllm"``

:meth:`FakeOpenAIServer.kill` stops it (clients get connection errors); :meth:`FakeOpenAIServer.start`
again brings it back on the same port.

Speed model (for the benchmark): at most ``capacity`` requests are served at once (more wait, as in
vLLM's scheduler); each takes ``latency_s`` plus its completion tokens over ``tokens_per_s``.
:meth:`FakeOpenAIServer.utilisation` is the fraction of that capacity that was busy.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generators.backends.fake import fake_task_list

STANDARD_FIELDS = {
    "chat": {
        "model", "messages", "n", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
        "seed", "stream", "stream_options", "response_format", "logprobs", "top_logprobs", "user",
        "presence_penalty", "frequency_penalty", "logit_bias", "tools", "tool_choice",
    },
    "completions": {
        "model", "prompt", "n", "max_tokens", "temperature", "top_p", "stop", "seed", "stream",
        "stream_options", "logprobs", "echo", "suffix", "user", "best_of", "presence_penalty",
        "frequency_penalty", "logit_bias",
    },
}  # fmt: skip
BEHAVIOURS = ("ok", "slow", "500", "429", "drop", "length", "malformed", "empty")


@dataclass
class ServerStats:
    requests: int = 0
    served: int = 0
    busy_s: float = 0.0
    max_concurrent: int = 0
    started_at: float = field(default_factory=time.monotonic)


class FakeOpenAIServer:
    def __init__(
        self,
        script: Iterable[str] = (),
        default: str = "ok",
        latency_s: float = 0.0,
        tokens_per_s: float = 0.0,
        capacity: int = 1000,
        slow_s: float = 30.0,
        items_per_completion: int = 6,
        strict_fields: bool = False,
        ignore_n: bool = False,
        ignore_sampling: bool = False,
        abort_on_disconnect: bool = True,
        pinned_model: str | None = None,
        vllm: bool = False,
    ) -> None:
        self.strict_fields = strict_fields
        self.ignore_n = ignore_n
        self.ignore_sampling = ignore_sampling
        self.abort_on_disconnect = abort_on_disconnect
        self.pinned_model = pinned_model
        self.vllm = vllm
        self.finished_after_disconnect = 0
        self._port = 0
        self.default = default
        self.latency_s = latency_s
        self.tokens_per_s = tokens_per_s
        self.capacity = capacity
        self.slow_s = slow_s
        self.items_per_completion = items_per_completion
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self.stats = ServerStats()
        self.bodies: list[dict] = []
        self.cancelled = 0
        self._active: dict[int, float] = {}  # slot holder -> when it started
        self._slots: asyncio.Semaphore | None = None
        self.set_script(script)
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/completions", self._completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/version", self._version, methods=["GET"]),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control
    def set_script(self, behaviours: Iterable[str]) -> None:
        behaviours = list(behaviours)
        unknown = sorted(set(behaviours) - set(BEHAVIOURS))
        if unknown:
            raise ValueError(f"unknown behaviour(s) {unknown}; choose from {BEHAVIOURS}")
        with self._lock:
            self._script = deque(behaviours)

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ServerStats()

    def utilisation(self) -> float:
        """Busy slot-seconds (finished requests and the elapsed part of running ones) over
        ``capacity`` × seconds since the last reset."""
        with self._lock:
            now = time.monotonic()
            since = self.stats.started_at
            running = sum(now - max(started, since) for started in self._active.values())
            wall = now - since
            return (self.stats.busy_s + running) / (self.capacity * wall) if wall > 0 else 0.0

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def start(self, timeout: float = 30.0) -> FakeOpenAIServer:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self._port,
            log_level="critical",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-openai-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        self._port = self._server.servers[0].sockets[0].getsockname()[1]
        self._slots = None  # a fresh event loop: slots are made again on it
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(10)

    def kill(self) -> None:
        """Stop at once, dropping the connections in flight (a crashed server); ``start`` revives it."""
        if self._server is not None:
            self._server.force_exit = True
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(10)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------------- handlers
    def _next_behaviour(self) -> str:
        with self._lock:
            self.stats.requests += 1
            return self._script.popleft() if self._script else self.default

    async def _models(self, request: Request) -> Response:
        owner = "vllm" if self.vllm else "fake"
        # unpinned, it answers for any model; it lists the name the tests and benchmarks use
        model = {"id": self.pinned_model or "fake-model", "object": "model", "owned_by": owner}
        return JSONResponse({"object": "list", "data": [model]})

    async def _version(self, request: Request) -> Response:
        if not self.vllm:
            return JSONResponse({"detail": "Not Found"}, 404)
        return JSONResponse({"version": "0.0.0-fake"})

    async def _chat(self, request: Request) -> Response:
        return await self._answer(request, chat=True)

    async def _completions(self, request: Request) -> Response:
        return await self._answer(request, chat=False)

    async def _answer(self, request: Request, chat: bool) -> Response:
        body = await request.json()
        self.bodies.append(body)
        if self.strict_fields:
            unexpected = sorted(set(body) - STANDARD_FIELDS["chat" if chat else "completions"])
            if unexpected:
                return JSONResponse(
                    {"detail": f"Unexpected fields in the request: {', '.join(unexpected)}"}, 422
                )
        if self.pinned_model and body.get("model") != self.pinned_model:
            message = f"Server is pinned to {self.pinned_model!r}; requested {body.get('model')!r}"
            return _error(400, message, kind="invalid_request_error")
        behaviour = self._next_behaviour()
        if behaviour == "500":
            return _error(500, "EngineDeadError: the engine loop has stopped")
        if behaviour == "429":
            return _error(429, "too many requests", headers={"retry-after-ms": "20"})
        if behaviour == "drop":
            return _DroppedResponse()
        n, max_tokens = int(body.get("n") or 1), int(body.get("max_tokens") or 16)
        if self.ignore_n:
            n = 1
        first = _next_item_number(body)
        texts = [self._text(behaviour, body, first, i, max_tokens) for i in range(n)]
        tokens = [min(len(t.split()), max_tokens) for t, _ in texts]
        work = asyncio.ensure_future(
            self._serve(max(tokens, default=0), self.slow_s if behaviour == "slow" else 0)
        )
        while not work.done():  # a client that went away aborts its request, as vLLM does
            await asyncio.wait([work], timeout=0.2)
            if not work.done() and await request.is_disconnected():
                if not self.abort_on_disconnect:
                    await work
                    with self._lock:
                        self.finished_after_disconnect += 1
                    return Response(status_code=499)
                work.cancel()
                with self._lock:
                    self.cancelled += 1
                return Response(status_code=499)
        prompt_tokens = len(str(body.get("messages") or body.get("prompt") or "").split())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": sum(tokens),
            "total_tokens": prompt_tokens + sum(tokens),
        }
        if chat:
            choices = [
                {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": f}
                for i, (t, f) in enumerate(texts)
            ]
            kind = "chat.completion"
        else:
            choices = [
                {"index": i, "text": t, "finish_reason": f, "logprobs": None}
                for i, (t, f) in enumerate(texts)
            ]
            kind = "text_completion"
        return JSONResponse(
            {
                "id": f"cmpl-{self.stats.requests}",
                "object": kind,
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": choices,
                "usage": usage,
            }
        )

    async def _serve(self, tokens: int, stall_s: float = 0.0) -> None:
        """Hold one of ``capacity`` slots for as long as a server would take to produce ``tokens``."""
        if stall_s:
            await asyncio.sleep(stall_s)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.capacity)
        duration = self.latency_s + (tokens / self.tokens_per_s if self.tokens_per_s else 0.0)
        async with self._slots:
            key = id(asyncio.current_task())
            with self._lock:
                self._active[key] = started = time.monotonic()
                self.stats.max_concurrent = max(self.stats.max_concurrent, len(self._active))
            try:
                if duration:
                    await asyncio.sleep(duration)
            finally:
                with self._lock:
                    del self._active[key]
                    self.stats.busy_s += time.monotonic() - max(started, self.stats.started_at)
                    self.stats.served += 1

    def _text(self, behaviour: str, body: dict, first: int, index: int, max_tokens: int) -> tuple[str, str]:
        if behaviour == "empty":
            return "", "stop"
        if behaviour == "malformed":
            return " }}{{ ### <<< \ufffd\ufffd ]] ;; --", "stop"
        prompt = body.get("messages") or body.get("prompt")
        key = (
            f"{prompt}"
            if self.ignore_sampling
            else f"{self.stats.requests}|{index}|{body.get('seed')}|{prompt}"
        )
        text = fake_task_list(key, first, self.items_per_completion)
        words = list(re.finditer(r"\S+", text))
        if behaviour == "length" or len(words) > max_tokens:
            keep = min(max_tokens, len(words) - 2) if behaviour == "length" else max_tokens
            return text[: words[keep - 1].end()], "length"  # layout kept, cut mid-item
        return text, "stop"


class _DroppedResponse(Response):
    """Headers promising a body, then a closed connection."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id": "cut', "more_body": True})
        raise ConnectionAbortedError("fake server dropped the connection")


def _error(
    status: int, message: str, headers: dict[str, str] | None = None, kind: str = "server_error"
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": status}}, status, headers=headers
    )


def _next_item_number(body: dict) -> int:
    """The list item the prompt leaves open (``…\\n9.``), as the model would continue it."""
    messages = body.get("messages") or []
    text = messages[-1]["content"] if messages else str(body.get("prompt") or "")
    match = re.search(r"(\d+)\.\s*$", text)
    return int(match.group(1)) if match else 1
