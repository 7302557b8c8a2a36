"""Generation jobs: create, cancel, run (generate → parse → filter → store). Workers: worker.py.

A job asks the backend for completions of its strategy's prompts until it has ``target`` accepted
instructions or has spent ``max_requests`` requests. Every batch of finished requests is one transaction:
the ledger rows, every decided candidate and the job's counters are committed together, fenced by the
worker's lease (app/jobs/leases.py), so a job stopped at any point resumes from its stored progress and
nothing is half-stored. Candidates are keyed ``job:<id>:<request>:<sample>:<item>`` (unique per dataset): a
request replayed by a worker that lost its lease cannot store its candidates twice. Up to
``SI_MAX_IN_FLIGHT`` requests of a job are outstanding at once (``app/jobs/inflight.py``); how many
follows the remaining target and the measured yield (``app/jobs/request_sizing.py``). The results that
have come back by the time the runner looks are stored together, as one batch (``app/jobs/storing.py``),
so a cancel is seen between batches; those still outstanding when the job ends are cancelled and counted.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from app.core.errors import get_or_not_found
from app.core.settings import Settings
from app.jobs.inflight import InFlightReport, RequestWindow, answered, backend_failure_reason
from app.jobs.leases import Lease, LeaseLost, fence, release, write_in_flight
from app.jobs.preparing import ReadyRequest, RequestPreparer, prepare_requests
from app.jobs.request_sizing import cancelled_counts, wanted_in_flight
from app.jobs.saturation import auto_stop_reason
from app.jobs.service import get_job
from app.jobs.storing import Finished, store_finished
from app.models import Dataset, Job, stored_id, utcnow
from app.pipeline.instance_stage import InstanceStage, pending_tasks
from app.pipeline.judge import Judge
from app.pipeline.pools import DatasetPool, PoolRegistry
from app.strategies.context import PoolItems, build_strategy
from generators.backends.base import Completion, GenerationResult, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.prompts import Prompt
from generators.strategies import GenerationStrategy, StrategyError, StrategyExhausted

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Job], None]
# finished requests prepared together at least (unless the runner waits for one): ~4 texts reach the
# embedder per request, and a model call costs ~2 ms more than its texts (the weights streamed once)
PREPARE_MIN_BATCH = 8


def sampling_params(settings: Settings, seed: int | None) -> SamplingParams:
    return SamplingParams(
        n=settings.samples_per_prompt,
        max_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        stop=("\n\n",),
        seed=seed,
    )


@dataclass
class JobRunner:
    """Runs one claimed job to a terminal state (or back to ``queued`` when asked to stop).

    Returns the job as last seen; when the lease is lost (another worker took the job over) it stops
    without writing anything more.
    """

    engine: Engine
    registry: PoolRegistry
    settings: Settings
    stop_event: threading.Event
    dispatcher: RequestDispatcher  # the process's one dispatcher: limits and breaker span all jobs
    lease_lost: Callable[[int], bool] = lambda _job_id: False
    judge: Judge | None = None  # SI_JUDGE: scores candidates before they are decided
    _in_flight: InFlightReport = field(init=False, repr=False)

    def run(self, lease: Lease, on_progress: ProgressCallback | None = None) -> Job:
        with Session(self.engine, expire_on_commit=False) as session:
            job = get_job(session, lease.job_id)
            dataset = get_or_not_found(session, Dataset, job.dataset_id, "dataset")
            rng = random.Random(job.seed if job.seed is not None else job.id)
            for _ in range(job.requests):  # a resumed job continues its random stream
                rng.random()
            window = RequestWindow(self.dispatcher, self.settings.resolved_max_in_flight())
            self._in_flight = InFlightReport(self.settings.events_poll_s)
            try:
                return self._loop(session, job, dataset, rng, lease, window, on_progress)
            except (LeaseLost, IntegrityError) as exc:
                session.rollback()
                logger.warning("job %s: stopped, another worker holds it now (%s)", job.id, exc)
                session.refresh(job)
                return job
            finally:
                window.close()  # requests no longer wanted are aborted, their results never stored

    def _loop(
        self,
        session: Session,
        job: Job,
        dataset: Dataset,
        rng: random.Random,
        lease: Lease,
        window: RequestWindow,
        on_progress: ProgressCallback | None,
    ) -> Job:
        try:
            strategy = build_strategy(
                session,
                self.registry,
                self.dispatcher.backend,
                self.settings,
                dataset,
                job.strategy,
                job.strategy_settings,
                job.requests,
            )
        except StrategyError as exc:
            return self._finish(session, job, lease, "failed", f"strategy: {exc}")
        exhausted: list[str] = []
        if strategy.calls_model:  # finished requests are parsed and embedded while the runner decides
            name = dataset.name
            window.preparer = RequestPreparer(
                lambda pool, finished: prepare_requests(self.registry, pool, strategy, finished),
                lambda: self.registry.cached(name),
                min_batch=max(1, min(PREPARE_MIN_BATCH, window.size // 4)),
            )

        def next_request() -> tuple[Prompt, SamplingParams]:
            prompt = strategy.next_prompt(PoolItems(self.registry.get(dataset).novelty), rng)
            return prompt, sampling_params(self.settings, rng.randrange(2**31))

        while True:
            session.refresh(job)
            session.commit()  # no transaction stays open while the backend works
            state = self._next_state(job)
            if state == ("succeeded", None) and job.instances_per_task:
                dropped = window.cancel()  # the target is reached: no more task requests are wanted
                if dropped:
                    job.counts = job.counts.merged(cancelled_counts(dropped))
                    job.in_flight = 0
                    self._in_flight.wrote(0)
                    session.add(job)
                    fence(session, lease, self.settings.job_lease_s)
                    session.commit()
                scope = job.id if job.target else None  # target 0: the dataset's waiting tasks
                pending = pending_tasks(session, job.dataset_id, scope, limit=1)
                if pending and self.stop_event.is_set():
                    return self._pause(session, job, lease)
                if pending:  # one task per turn, so cancel and shutdown are seen between tasks
                    self._check_lease(job, lease)
                    try:
                        InstanceStage(window.dispatcher, self.settings, self.judge).run_task(
                            session, pending[0], job.instances_per_task, job
                        )
                    except Exception as exc:
                        logger.exception("job %s: instance stage failed", job.id)
                        return self._finish(session, job, lease, "failed", f"instance stage: {exc}", window)
                    if on_progress is not None:
                        on_progress(job)
                    continue
            if state is not None:
                return self._finish(session, job, lease, *state, window)
            if self.stop_event.is_set():
                return self._pause(session, job, lease)
            self._check_lease(job, lease)
            if exhausted and not len(window):
                return self._finish(session, job, lease, "succeeded", None, window, stop_reason=exhausted[0])
            if not strategy.calls_model:  # the prompt is the candidate: stored at once, no request
                try:
                    prompt, params = next_request()
                except StrategyExhausted as exc:
                    exhausted.append(f"strategy exhausted: {exc}")
                    continue
                literal = GenerationResult(
                    prompt.text, [Completion(prompt.text, "stop", 0)], 0, strategy.id, 0.0
                )
                self._store(
                    session, job, lease, self.registry.get(dataset), [(literal, params, prompt)], strategy
                )
                if self._auto_stopped(session, job, lease, window):
                    return job
                continue
            if not exhausted:
                wanted = wanted_in_flight(
                    self.settings, job.target - job.accepted, job.accepted, job.requests
                )
                try:
                    window.fill(next_request, job.max_requests - job.requests - len(window), wanted)
                except StrategyExhausted as exc:
                    exhausted.append(f"strategy exhausted: {exc}")
                self._report_in_flight(session, job, lease, len(window))
            done = window.next_done_request(timeout=self.settings.worker_poll_s)
            if done is None:
                continue
            # a backend failure ends the job with its reason; every other result taken is kept
            taken = [done, *window.take_done()]
            results, failure = answered(taken)
            if results:
                ready = window.prepared(taken)
                self._store(session, job, lease, self.registry.get(dataset), results, strategy, ready, window)
                if self._auto_stopped(session, job, lease, window):
                    return job
                if on_progress is not None:
                    on_progress(job)
            if failure is not None and job.accepted < job.target:  # one not wanted any more is ignored
                logger.warning("job %s: backend failed: %s", job.id, failure)
                return self._finish(session, job, lease, "failed", backend_failure_reason(failure), window)

    def _auto_stopped(self, session: Session, job: Job, lease: Lease, window: RequestWindow) -> bool:
        """End the job when its auto-stop rule fires (after the target check: a reached target wins)."""
        reason = (
            None if job.accepted >= job.target else auto_stop_reason(session, stored_id(job), job.auto_stop)
        )
        if reason is None:
            return False
        self._finish(session, job, lease, "succeeded", None, window, stop_reason=reason)
        return True

    def _report_in_flight(self, session: Session, job: Job, lease: Lease, count: int) -> None:
        """Write the window's outstanding requests on the job row when :class:`InFlightReport` says so
        (ended, cancelled or handed back, :func:`release` writes 0)."""
        if not self._in_flight.due(count):
            return
        if write_in_flight(session, lease, count):
            set_committed_value(job, "in_flight", count)  # the row as written, for the next flush
            self._in_flight.wrote(count)

    def _check_lease(self, job: Job, lease: Lease) -> None:
        if self.lease_lost(stored_id(job)):
            raise LeaseLost(f"job {job.id}: heartbeat found the lease lost")

    def _pause(self, session: Session, job: Job, lease: Lease) -> Job:
        release(session, lease, status="queued")
        logger.info("job %s paused for shutdown at %d/%d", job.id, job.accepted, job.target)
        session.refresh(job)
        return job

    def _next_state(self, job: Job) -> tuple[str, str | None] | None:
        if job.cancel_requested:
            return ("cancelled", None)
        if job.accepted >= job.target:
            return ("succeeded", None)
        if job.requests >= job.max_requests:
            return (
                "failed",
                f"request budget spent: {job.accepted} of {job.target} accepted "
                f"after {job.requests} requests",
            )
        return None

    def _finish(
        self,
        session: Session,
        job: Job,
        lease: Lease,
        status: str,
        error: str | None,
        window: RequestWindow | None = None,
        **values: object,
    ) -> Job:
        counts = job.counts.merged(cancelled_counts(window.cancel() if window is not None else 0))
        if not release(
            session, lease, status=status, error=error, finished_at=utcnow(), counts=counts, **values
        ):
            raise LeaseLost(f"job {job.id}: lease lost before it could be marked {status}")
        session.refresh(job)
        logger.info(
            "job %s %s: %d accepted of %d generated (%s)",
            job.id,
            status,
            job.accepted,
            job.generated,
            error or "ok",
        )
        return job

    def _store(
        self,
        session: Session,
        job: Job,
        lease: Lease,
        pool: DatasetPool,
        results: list[Finished],
        strategy: GenerationStrategy,
        ready: list[ReadyRequest | None] | None = None,
        window: RequestWindow | None = None,
    ) -> None:
        """Store a batch; the job row then also says what is still in flight (the same transaction)."""
        if window is not None:
            job.in_flight = len(window)
            self._in_flight.wrote(len(window))
        store_finished(
            session, self.registry, self.settings, job, lease, pool, results, strategy, self.judge, ready
        )
