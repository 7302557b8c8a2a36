"""A job's finished requests made ready for the acceptor in a thread of their own, while the runner decides.

Parsing and :func:`app.pipeline.acceptor.prepare` (the text-only stages, tokens, embeddings) depend on a
request's texts alone, never on the pool's items, so they need not wait for the runner: each request is
prepared as it comes back, by one thread per running job, together with all the others that came back
meanwhile (one embedding call), while the runner holds the dataset's lock for the batch before. The runner
takes results in the order it always did (app/jobs/runner.py) and waits only for a preparation still under
way; what it takes is decided exactly as if it had prepared it itself (app/jobs/storing.py). A request
prepared against a pool since rebuilt, or whose preparation failed, is prepared again by the runner; one
never taken (cancelled, not wanted any more) was prepared for nothing, and nothing of it is stored.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from app.jobs.inflight import Pending, has_result
from app.pipeline.acceptor import CandidateIn, prepare
from app.pipeline.ledger import parse_task_completions
from app.pipeline.pools import DatasetPool, PoolRegistry
from filters.chain import Prepared
from generators.backends.base import GenerationResult
from generators.parsing import ParseResult
from generators.prompts import Prompt
from generators.strategies import GenerationStrategy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadyRequest:
    """One finished request parsed, and its candidates prepared against ``pool`` (its chain)."""

    parsed: list[ParseResult]
    prepared: Prepared
    pool: DatasetPool


def prepare_requests(
    registry: PoolRegistry,
    pool: DatasetPool,
    strategy: GenerationStrategy,
    finished: list[tuple[GenerationResult, Prompt]],
) -> list[ReadyRequest]:
    """Parse finished requests and prepare all their candidates in one call (one embedding call)."""
    parsed = [parse_task_completions(result, partial(strategy.parse, prompt)) for result, prompt in finished]
    per_request = [
        [CandidateIn(text, "generated") for completion in request for text in completion.instructions]
        for request in parsed
    ]
    prepared = prepare(registry, pool, [c for request in per_request for c in request])
    ready, start = [], 0
    for request, candidates in zip(parsed, per_request, strict=True):
        own = prepared.part(start, start + len(candidates), candidates)
        ready.append(ReadyRequest(request, own, pool))
        start += len(candidates)
    return ready


class RequestPreparer:
    """Prepares a job's requests in its own thread as they finish: :meth:`expect` each one submitted,
    :meth:`take` each finished one the runner stores."""

    def __init__(
        self,
        prepare_many: Callable[[DatasetPool, list[tuple[GenerationResult, Prompt]]], list[ReadyRequest]],
        current_pool: Callable[[], DatasetPool | None],
        min_batch: int = 1,
    ) -> None:
        self._prepare_many = prepare_many
        self._current_pool = current_pool  # the dataset's pool as built now (None: not built)
        self.min_batch = min_batch
        self._wanted = 0  # takers waiting for a request not prepared yet
        self._changed = threading.Condition()
        self._pending: dict[Pending, Prompt] = {}  # submitted, not prepared yet
        self._busy: set[Pending] = set()  # being prepared now
        self._ready: dict[Pending, ReadyRequest] = {}
        self._wakeup: Pending = concurrent.futures.Future()  # set when _pending grows or at close
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="request-preparer", daemon=True)
        self._thread.start()

    def expect(self, future: Pending, prompt: Prompt) -> None:
        """A request of the job was submitted: prepare it once it has finished."""
        with self._changed:
            if not self._closed:
                self._pending[future] = prompt
                self._wake()

    def take(self, future: Pending) -> ReadyRequest | None:
        """The preparation of a finished request (waiting while it is under way), or None without one."""
        with self._changed:
            asked = future in self._pending
            if asked:  # prepare now, however few have finished
                self._wanted += 1
                self._wake()
            try:
                while not self._closed and (future in self._pending or future in self._busy):
                    self._changed.wait()
            finally:
                self._wanted -= asked
            return self._ready.pop(future, None)

    def drop_all(self) -> None:
        """Forget every request expected or prepared (the window dropped them all)."""
        with self._changed:
            self._pending.clear()
            self._ready.clear()

    def close(self) -> None:
        """Stop the thread; what was prepared and not taken is dropped."""
        with self._changed:
            self._closed = True
            self._pending.clear()
            self._ready.clear()
            self._wake()
            self._changed.notify_all()
        self._thread.join()

    def _wake(self) -> None:
        if not self._wakeup.done():
            self._wakeup.set_result(None)  # type: ignore[arg-type]

    def _work(self) -> None:
        try:
            while self._prepare_next():
                pass
        except BaseException:  # never leave the runner waiting: it prepares everything itself from now on
            logger.exception("the request preparer stopped")
        finally:
            with self._changed:
                self._closed = True
                self._busy = set()
                self._changed.notify_all()

    def _prepare_next(self) -> bool:
        """Prepare the expected requests finished by now together, once there are ``min_batch`` of them or
        the runner waits for one (a model call costs less per text in a larger batch); else wait for more.
        False once closed."""
        with self._changed:
            if self._closed:
                return False
            done = [(f, prompt) for f, prompt in self._pending.items() if f.done()]
            if not done or (len(done) < self.min_batch and not self._wanted):
                if self._wakeup.done():
                    self._wakeup = concurrent.futures.Future()
                watched = [f for f in self._pending if not f.done()] + [self._wakeup]
                waiting = True
            else:
                waiting = False
        if waiting:
            concurrent.futures.wait(watched, return_when=concurrent.futures.FIRST_COMPLETED)
            return True
        with self._changed:
            done = [(f, prompt) for f, prompt in self._pending.items() if f.done()]
            for future, _ in done:
                del self._pending[future]
            self._busy = {future for future, _ in done}
        finished = [(f, result, prompt) for f, prompt in done if (result := _result(f)) is not None]
        ready: list[ReadyRequest] = []
        pool = self._current_pool()
        if pool is not None and finished:
            try:
                ready = self._prepare_many(pool, [(result, prompt) for _, result, prompt in finished])
            except Exception:  # the runner prepares these itself, and meets the error there
                logger.exception("could not prepare %d finished requests", len(finished))
        with self._changed:
            if not self._closed and ready:  # none when the preparation failed
                for (future, _, _), request in zip(finished, ready, strict=True):
                    self._ready[future] = request
            self._busy = set()
            self._changed.notify_all()
        return True


def _result(future: Pending) -> GenerationResult | None:
    """A finished future's result; None when it failed or was cancelled."""
    return future.result() if has_result(future) else None
