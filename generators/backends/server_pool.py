"""Several model servers behind one backend: each request goes to the least loaded healthy server.

Each server has its own in-flight limit and :class:`CircuitBreaker`. A request goes to the server with the
fewest requests in flight (relative to its limit) among those whose circuit lets it through — closed, or
half-open with no trial out (that request is then the trial); it waits for a free slot when every healthy
server is full. A request that meets an outage (connection error, timeout, 5xx, 429 after the client's
retries) on one server is counted against that server's breaker and sent to the next healthy one, so a job
carries on while one server is down; it fails only when no server is left to try. A
:class:`RequestRejected` (a 4xx) is passed on at once: another server would answer the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from generators.backends.base import GenerationResult, LLMBackend, RequestRejected, SamplingParams
from generators.backends.limits import CircuitBreaker, CircuitOpenError
from generators.prompts import Prompt

logger = logging.getLogger(__name__)


@dataclass
class Server:
    backend: LLMBackend
    limit: int
    breaker: CircuitBreaker
    in_flight: int = 0
    served: int = 0
    name: str = field(default="")

    @property
    def load(self) -> float:
        return self.in_flight / self.limit


class ServerPoolBackend(LLMBackend):
    def __init__(
        self,
        backends: Sequence[LLMBackend],
        limit_per_server: int,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
    ) -> None:
        if not backends:
            raise ValueError("a server pool needs at least one server")
        self.servers = [
            Server(b, limit_per_server, CircuitBreaker(failure_threshold, cooldown_s), name=_name(b))
            for b in backends
        ]
        self.model_id = backends[0].model_id
        self.uses_chat_template = backends[0].uses_chat_template
        self._freed: asyncio.Condition | None = None

    def load(self) -> None:
        for server in self.servers:
            server.backend.load()

    def unload(self) -> None:
        for server in self.servers:
            server.backend.unload()

    async def aclose(self) -> None:
        for server in self.servers:
            await server.backend.aclose()

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        return asyncio.run(self.agenerate(prompt, params))

    def server_problem(self) -> str | None:
        """None while at least one server serves the model; else what is wrong with each."""
        problems = [(s.name, s.backend.server_problem()) for s in self.servers]
        if any(problem is None for _, problem in problems):
            return None
        return "; ".join(problem or "" for _, problem in problems)

    def status(self) -> list[dict[str, object]]:
        """Per server: where it is, its circuit, what it has in flight and has served."""
        return [
            {"url": s.name, "circuit": s.breaker.state, "in_flight": s.in_flight, "served": s.served}
            for s in self.servers
        ]

    async def agenerate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        if self._freed is None:
            self._freed = asyncio.Condition()
        tried: set[int] = set()
        last_error: BaseException | None = None
        while True:
            server, trial = await self._choose(tried, last_error)
            server.in_flight += 1
            try:
                result = await server.backend.agenerate(prompt, params)
            except asyncio.CancelledError:
                server.breaker.release_trial()
                raise
            except RequestRejected:
                server.breaker.release_trial()
                raise
            except Exception as exc:
                server.breaker.record_failure(exc)
                logger.warning("model server %s failed (%s); trying another", server.name, exc)
                tried.add(id(server))
                last_error = exc
                continue
            else:
                server.breaker.record_success()
                server.served += 1
                return result
            finally:
                server.in_flight -= 1
                async with self._freed:
                    self._freed.notify_all()

    async def _choose(self, tried: set[int], last_error: BaseException | None) -> tuple[Server, bool]:
        """The least loaded healthy server not tried yet, waiting while all of them are full."""
        assert self._freed is not None
        async with self._freed:
            while True:
                candidates = [s for s in self.servers if id(s) not in tried and s.breaker.state != "open"]
                if not candidates:
                    if last_error is not None:
                        raise last_error
                    raise CircuitOpenError(
                        "every model server's circuit is open: "
                        + "; ".join(f"{s.name}: {s.breaker.last_error}" for s in self.servers)
                    )
                for server in sorted(candidates, key=lambda s: s.load):
                    if server.in_flight >= server.limit:
                        continue
                    try:
                        return server, server.breaker.before_request()
                    except CircuitOpenError:  # half-open with its trial out
                        continue
                await self._freed.wait()


def _name(backend: LLMBackend) -> str:
    return str(getattr(backend, "base_url", backend.model_id))
