"""Generation jobs: create, cancel, run (generate → parse → filter → store), and the in-process worker.

A job asks the backend for completions of Self-Instruct prompts until it has ``target`` accepted
instructions or has spent ``max_requests`` requests. Every request is one transaction: the ledger rows,
every decided candidate and the job's counters are committed together, so a job stopped at any point
resumes from its stored progress and nothing is half-stored. Up to ``SI_MAX_IN_FLIGHT`` requests of a
job are outstanding at once (``app/services/inflight.py``); their results are stored one at a time, as
they arrive, and those still outstanding when the job ends are cancelled.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.settings import Settings
from app.models import TERMINAL_STATES, Dataset, Generation, Job, JobCreate, JobPublic, utcnow
from app.services.acceptance import CandidateIn, Outcome, decide_and_store
from app.services.accounting import completion_cost, per_accepted
from app.services.errors import Conflict, NotFound
from app.services.inflight import RequestWindow, backend_failure_reason
from app.services.instance_stage import InstanceStage, pending_tasks
from app.services.pool import PoolRegistry
from generators.backends.base import GenerationResult, LLMBackend, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.parsing import parse_completion
from generators.prompts import Prompt, build_prompt, choose_examples

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Job], None]


def create_job(session: Session, dataset: Dataset, data: JobCreate, settings: Settings) -> Job:
    job = Job(
        dataset_id=dataset.id,
        target=data.target,
        max_requests=data.max_requests or data.target * settings.max_requests_per_accepted,
        seed=data.seed,
        instances_per_task=data.instances_per_task,
    )
    session.add(job)
    session.commit()
    return job


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def cancel_job(session: Session, job: Job) -> Job:
    if job.status in TERMINAL_STATES:
        raise Conflict(f"job {job.id} already {job.status}")
    if job.status == "queued":
        session.exec(
            update(Job)
            .where(Job.id == job.id, Job.status == "queued")
            .values(status="cancelled", finished_at=utcnow(), cancel_requested=True)
        )
    else:
        session.exec(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    session.commit()
    session.refresh(job)
    return job


def job_public(job: Job, dataset_name: str) -> JobPublic:
    return JobPublic.model_validate(job, update={"dataset": dataset_name, **per_accepted(job)})


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
    """Runs one job to a terminal state (or back to ``queued`` when asked to stop)."""

    engine: Engine
    registry: PoolRegistry
    backend: LLMBackend
    settings: Settings
    stop_event: threading.Event
    dispatcher: RequestDispatcher | None = None

    def run(self, job_id: int, on_progress: ProgressCallback | None = None) -> Job:
        with Session(self.engine, expire_on_commit=False) as session:
            job = get_job(session, job_id)
            dataset = session.get(Dataset, job.dataset_id)
            pool = self.registry.get(dataset)
            rng = random.Random(job.seed if job.seed is not None else job.id)
            for _ in range(job.requests):  # a resumed job continues its random stream
                rng.random()
            dispatcher = self.dispatcher or RequestDispatcher(self.backend, 1)
            window = RequestWindow(dispatcher, self.settings.resolved_max_in_flight())
            try:
                return self._run_requests(session, job, dataset, pool, rng, window, on_progress)
            finally:
                window.cancel()  # requests no longer wanted are aborted, their results never stored
                if self.dispatcher is None:
                    dispatcher.close()

    def _run_requests(
        self,
        session: Session,
        job: Job,
        dataset: Dataset,
        pool,
        rng: random.Random,
        window: RequestWindow,
        on_progress: ProgressCallback | None,
    ) -> Job:
        def next_request() -> tuple[Prompt, SamplingParams]:
            examples = choose_examples(
                pool.seed_texts(),
                pool.machine_texts(),
                rng,
                dataset.num_human_examples,
                dataset.num_machine_examples,
            )
            return build_prompt(examples), sampling_params(self.settings, rng.randrange(2**31))

        while True:
            session.refresh(job)
            state = self._next_state(job)
            if state == ("succeeded", None) and job.instances_per_task:
                window.cancel()  # the target is reached: no more task requests are wanted
                scope = job.id if job.target else None  # target 0: the dataset's waiting tasks
                pending = pending_tasks(session, job.dataset_id, scope, limit=1)
                if pending and self.stop_event.is_set():
                    return self._pause(session, job)
                if pending:  # one task per turn, so cancel and shutdown are seen between tasks
                    try:
                        InstanceStage(window.dispatcher, self.settings).run_task(
                            session, pending[0], job.instances_per_task, job
                        )
                    except Exception as exc:
                        logger.exception("job %s: instance stage failed", job.id)
                        return self._finish(session, job, "failed", f"instance stage: {exc}")
                    if on_progress is not None:
                        on_progress(job)
                    continue
            if state is not None:
                return self._finish(session, job, *state)
            if self.stop_event.is_set():
                return self._pause(session, job)
            window.fill(next_request, job.max_requests - job.requests - len(window))
            done = window.next_done(timeout=self.settings.worker_poll_s)
            if done is None:
                continue
            future, params = done
            try:
                result = future.result()
            except Exception as exc:  # the backend's failure ends the job with its reason
                logger.warning("job %s: backend failed: %s", job.id, exc)
                return self._finish(session, job, "failed", backend_failure_reason(exc))
            self._store(session, job, pool, result, params)
            if on_progress is not None:
                on_progress(job)

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

    def _pause(self, session: Session, job: Job) -> Job:
        job.status = "queued"
        session.add(job)
        session.commit()
        logger.info("job %s paused for shutdown at %d/%d", job.id, job.accepted, job.target)
        return job

    def _finish(self, session: Session, job: Job, status: str, error: str | None) -> Job:
        job.status, job.error, job.finished_at = status, error, utcnow()
        session.add(job)
        session.commit()
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
        self, session: Session, job: Job, pool, result: GenerationResult, params: SamplingParams
    ) -> None:
        candidates: list[CandidateIn] = []
        ledger: list[tuple[Generation, list]] = []
        for index, completion in enumerate(result.completions):
            parsed = parse_completion(completion.text, completion.finish_reason)
            generation = Generation(
                dataset_id=job.dataset_id,
                job_id=job.id,
                model_id=result.model_id,
                prompt=result.prompt_text,
                params=params.as_dict(),
                sample_index=index,
                completion=completion.text,
                finish_reason=completion.finish_reason,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                cost=completion_cost(
                    self.settings, index, result.prompt_tokens, completion.completion_tokens
                ),
                seconds=result.seconds,
                parse_dropped=[{"text": d.text[:500], "reason": d.reason} for d in parsed.dropped],
            )
            session.add(generation)
            session.flush()
            ledger.append((generation, parsed.instructions))
            candidates += [
                CandidateIn(text, "generated", job.id, generation.id, f"gen:{generation.id}:{i}")
                for i, text in enumerate(parsed.instructions)
            ]
        remaining = job.target - job.accepted

        def account(outcomes: list[Outcome]) -> None:
            counts = Counter(job.counts)
            for outcome in outcomes:
                counts[outcome.decision.rule or "accepted"] += 1
            for generation, _ in ledger:
                counts.update(f"parse:{d['reason']}" for d in generation.parse_dropped)
            decided = {o.row.origin_key for o in outcomes}
            for generation, instructions in ledger:
                skipped = [t for i, t in enumerate(instructions) if f"gen:{generation.id}:{i}" not in decided]
                if skipped:
                    generation.parse_dropped = generation.parse_dropped + [
                        {"text": t[:500], "reason": "target_reached"} for t in skipped
                    ]
                    counts["parse:target_reached"] += len(skipped)
                    session.add(generation)
            job.counts = dict(counts)
            job.requests += 1
            job.generated += len(outcomes)
            job.accepted += sum(1 for o in outcomes if o.decision.accepted)
            job.rejected += sum(1 for o in outcomes if not o.decision.accepted)
            job.prompt_tokens += result.prompt_tokens
            job.completion_tokens += sum(c.completion_tokens for c in result.completions)
            costs = [g.cost for g, _ in ledger if g.cost is not None]
            if costs:
                job.cost = (job.cost or 0.0) + sum(costs)
            session.add(job)

        decide_and_store(
            session,
            self.registry,
            pool,
            candidates,
            before_commit=account,
            limit_accepted=remaining,
        )


class JobWorker:
    """Threads that claim queued jobs from the database and run them."""

    def __init__(
        self,
        runner_factory: Callable[[], JobRunner],
        engine: Engine,
        threads: int,
        poll_s: float,
        ready: Callable[[], bool],
    ) -> None:
        self._runner_factory = runner_factory
        self._engine = engine
        self._poll_s = poll_s
        self._ready = ready
        self.stop_event = threading.Event()
        self.wakeup = threading.Event()
        self._claim_lock = threading.Lock()
        self._finished = threading.Condition()
        self._finished_ids: set[int] = set()
        self._threads = [
            threading.Thread(target=self._loop, name=f"job-worker-{i}", daemon=True) for i in range(threads)
        ]

    def start(self) -> None:
        with Session(self._engine) as session:  # jobs left running by a dead process resume
            session.exec(update(Job).where(Job.status == "running").values(status="queued"))
            session.commit()
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.wakeup.set()
        for thread in self._threads:
            thread.join(timeout)

    def _claim(self) -> int | None:
        with self._claim_lock, Session(self._engine) as session:
            job_id = session.exec(
                select(Job.id).where(Job.status == "queued").order_by(col(Job.id)).limit(1)
            ).first()
            if job_id is None:
                return None
            claimed = session.exec(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(status="running", started_at=func.coalesce(Job.started_at, utcnow()))
            )
            session.commit()
            return job_id if claimed.rowcount == 1 else None

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            job_id = self._claim() if self._ready() else None
            if job_id is None:
                self.wakeup.wait(self._poll_s)
                self.wakeup.clear()
                continue
            try:
                job = self._runner_factory().run(job_id)
                if job.status in TERMINAL_STATES:
                    self._mark_finished(job_id)
            except Exception:
                logger.exception("job %s crashed", job_id)
                with Session(self._engine) as session:
                    session.exec(
                        update(Job)
                        .where(Job.id == job_id)
                        .values(
                            status="failed",
                            error="internal error; see the service log",
                            finished_at=utcnow(),
                        )
                    )
                    session.commit()
                self._mark_finished(job_id)

    def _mark_finished(self, job_id: int) -> None:
        with self._finished:
            self._finished_ids.add(job_id)
            self._finished.notify_all()

    def wait_for(self, job_id: int, timeout: float) -> bool:
        """Block until ``job_id`` is finished (by this worker, or cancelled before it ran it)."""

        def finished() -> bool:
            if job_id in self._finished_ids:
                return True
            with Session(self._engine) as session:
                status = session.exec(select(Job.status).where(Job.id == job_id)).first()
            return status in TERMINAL_STATES

        deadline = time.monotonic() + timeout
        with self._finished:
            while not finished():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._finished.wait(min(remaining, self._poll_s))
            return True
