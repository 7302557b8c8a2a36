"""Bounded admission for the request routes that contend (``/candidates``, ``/similar``, job posts).

At most ``limit`` requests of a kind run at once; up to ``waiting`` more wait for a slot for at most
``wait_s`` seconds. A request beyond those is refused at once with 429, one that waited too long with
503, both with ``Retry-After`` — so a saturated service answers quickly instead of holding database
connections until they time out. The counters live on the event loop (one per process).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request

from app.core.errors import ServiceError


class Saturated(ServiceError):
    status = 429
    code = "saturated"
    headers = {"Retry-After": "1"}


class WaitedTooLong(ServiceError):
    status = 503
    code = "saturated"
    headers = {"Retry-After": "2"}


class Admission:
    def __init__(self, name: str, limit: int, waiting: int, wait_s: float) -> None:
        self.name, self.limit, self.max_waiting, self.wait_s = name, limit, waiting, wait_s
        self.running = 0
        self.waiting = 0
        self.refused = 0
        self._slots: asyncio.Semaphore | None = None

    async def enter(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken at once, without yielding
            self.running += 1
            return
        if self.waiting >= self.max_waiting:
            self.refused += 1
            raise Saturated(
                f"{self.name}: {self.running} running and {self.waiting} waiting, "
                "the most it takes; retry later",
                {"running": self.running, "waiting": self.waiting},
            )
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except TimeoutError:
            self.refused += 1
            raise WaitedTooLong(f"{self.name}: no slot within {self.wait_s:g}s; retry later") from None
        finally:
            self.waiting -= 1
        self.running += 1

    def leave(self) -> None:
        self.running -= 1
        if self._slots is not None:
            self._slots.release()


def admitted(name: str) -> Callable[[Request], Any]:
    """The dependency that holds one of ``app.state.admission[name]``'s slots for the request."""

    async def slot(request: Request) -> AsyncIterator[None]:
        admission: Admission = request.app.state.admission[name]
        await admission.enter()
        try:
            yield
        finally:
            admission.leave()

    slot.__name__ = f"{name}_slot"
    return slot
