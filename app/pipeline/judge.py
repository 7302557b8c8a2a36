"""The LLM judge as a service: rubric requests through a dispatcher, their ledger rows, the scores.

``SI_JUDGE`` switches it on (off by default: on the CPU model it doubles a job's model time, and a small
judge is a weak one). With ``SI_JUDGE_BACKEND`` empty the judge is the generator's own backend and
dispatcher, so the in-flight limit and the circuit breaker span both; otherwise it is its own backend
(``SI_JUDGE_MODEL``, ``SI_JUDGE_BASE_URL``) with its own dispatcher, loaded on first use.

A batch of candidates is judged at once: every prompt is submitted, then the answers are awaited until
one deadline (``SI_JUDGE_TIMEOUT_S``). A request that fails or times out, and an answer that cannot be
read, leave the candidate unjudged (no score, so the judge stage passes it) with the reason in its
verdict. Greedy decoding (temperature 0), one sample, JSON-schema structured output where the backend
takes it, and the tokens' log-probabilities for the expected score where it returns them.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.core.limits import clean_model_output
from app.core.settings import Settings
from app.models import Generation
from app.pipeline.ledger import ledger_row
from filters.chain import Prepared
from generators.backends import create_backend
from generators.backends.base import GenerationResult, SamplingParams
from generators.backends.dispatch import RequestDispatcher
from generators.backends.limits import CircuitBreaker
from generators.judging import JUDGE_SCHEMA, Judgment, instance_prompt, instruction_prompt, judged
from generators.prompts import Prompt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgeCall:
    """One judged candidate: the judgment and the request's result (None when the request failed)."""

    judgment: Judgment
    result: GenerationResult | None

    def scores(self) -> dict[str, float | None]:
        """The Decision fields the judge stage reads."""
        return {"judge_score": self.judgment.overall, "judge_expected": self.judgment.expected}

    def verdict(self, generation_id: int | None) -> dict[str, Any]:
        raw = self.result.completions[0].text if self.result and self.result.completions else None
        return {**self.judgment.verdict(raw), "generation_id": generation_id}


class Judge:
    def __init__(self, dispatcher: RequestDispatcher, settings: Settings, own: bool = False) -> None:
        self.dispatcher = dispatcher
        self.timeout_s = settings.judge_timeout_s
        self.params = SamplingParams(
            n=1,
            max_tokens=settings.judge_max_tokens,
            temperature=0.0,
            top_p=1.0,
            stop=("}",),  # the rating is one flat object: nothing after it is read
            json_schema=JUDGE_SCHEMA,
            logprobs=settings.judge_logprobs,
        )
        self._own = own  # a backend of its own: loaded here on first use, closed by close()
        self._loaded = not own
        self._load_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, generator: RequestDispatcher) -> Judge | None:
        """The configured judge, or None when ``SI_JUDGE`` is off."""
        if not settings.judge:
            return None
        if not settings.judge_backend:
            return cls(generator, settings)
        backend = create_backend(
            settings.judge_backend,
            settings.judge_model,
            settings.device,
            settings.judge_openai_options(),
            settings.vllm_engine_args,
            settings.model_cache_dir,
        )
        dispatcher = RequestDispatcher(
            backend,
            settings.resolved_max_in_flight(settings.judge_backend),
            CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
            output_rule=clean_model_output,  # the text rule, as for the generator's answers
        )
        return cls(dispatcher, settings, own=True)

    @property
    def model_id(self) -> str:
        return self.dispatcher.backend.model_id

    def judge_prompts(self, prompts: Sequence[Prompt]) -> list[JudgeCall]:
        """Each prompt's judgment, all requests in flight at once, waited for until one deadline."""
        if not prompts:
            return []
        self._load()
        futures = [self.dispatcher.submit(prompt, self.params) for prompt in prompts]
        deadline = time.monotonic() + self.timeout_s
        calls = []
        for future in futures:
            try:
                result = future.result(timeout=max(deadline - time.monotonic(), 0.0))
            except concurrent.futures.TimeoutError:
                future.cancel()
                calls.append(JudgeCall(Judgment(error=f"timed out after {self.timeout_s:g}s"), None))
                continue
            except Exception as exc:  # an outage or a refusal: the candidate stays unjudged
                calls.append(JudgeCall(Judgment(error=f"request failed: {type(exc).__name__}: {exc}"), None))
                continue
            completion = result.completions[0] if result.completions else None
            judgment = judged(completion) if completion else Judgment(error="no completion")
            calls.append(JudgeCall(judgment, result))
        failed = sum(1 for c in calls if c.judgment.overall is None)
        if failed:
            logger.info("judge: %d of %d answers gave no overall score", failed, len(calls))
        return calls

    def judge_prepared(self, prepared: Prepared, domain: str) -> dict[int, JudgeCall]:
        """Judge the prepared candidates no up-front stage rejected, and hand their scores to the chain."""
        positions = prepared.passing()
        calls = self.judge_prompts([instruction_prompt(prepared.inputs[i].text, domain) for i in positions])
        for position, call in zip(positions, calls, strict=True):
            item = prepared.inputs[position]
            item.stored = {**item.stored, **call.scores()}
        return dict(zip(positions, calls, strict=True))

    def judge_triplets(self, instruction: str, pairs: Sequence[tuple[str, str]]) -> list[JudgeCall]:
        """Does each output answer ``instruction`` for its input? One request per (input, output)."""
        return self.judge_prompts([instance_prompt(instruction, i, o) for i, o in pairs])

    def _load(self) -> None:
        if self._loaded:
            return
        with self._load_lock:
            if not self._loaded:
                self.dispatcher.backend.load()
                self._loaded = True

    def close(self) -> None:
        if self._own:
            self.dispatcher.close()
            self.dispatcher.backend.unload()


def record_judge_calls(
    session: Session,
    dataset_id: int,
    job_id: int | None,
    calls: Sequence[JudgeCall],
    params: SamplingParams,
    target: str,
) -> list[int | None]:
    """A ledger row per judge request that came back (``params.judge`` names what was judged); their ids."""
    recorded = {**params.as_dict(), "judge": target}
    rows: list[Generation | None] = [
        ledger_row(dataset_id, job_id, c.result, recorded) if c.result is not None else None for c in calls
    ]
    session.add_all([row for row in rows if row is not None])
    session.flush()
    return [row.id if row is not None else None for row in rows]
