"""Token and cost accounting: what each completion cost, and what an accepted instruction cost.

Prices are per million tokens (``SI_PROMPT_PRICE_PER_MTOK``, ``SI_COMPLETION_PRICE_PER_MTOK``); with
neither set, costs stay empty. The prompt of a request with ``n`` samples is processed and billed once,
so its tokens are charged to the request's first sample (``sample_index == 0``).
"""

from __future__ import annotations

from app.core.settings import Settings
from app.models import Job


def completion_cost(
    settings: Settings, sample_index: int, prompt_tokens: int, completion_tokens: int
) -> float | None:
    """The cost of one ledger row, or None when no price is configured."""
    prompt_price, completion_price = settings.prompt_price_per_mtok, settings.completion_price_per_mtok
    if prompt_price is None and completion_price is None:
        return None
    billed_prompt = prompt_tokens if sample_index == 0 else 0
    return (billed_prompt * (prompt_price or 0.0) + completion_tokens * (completion_price or 0.0)) / 1e6


def per_accepted(job: Job) -> dict[str, float | None]:
    """Tokens (prompt + completion) and cost per accepted instruction of a job so far."""
    if job.accepted == 0:
        return {"tokens_per_accepted": None, "cost_per_accepted": None}
    tokens = (job.prompt_tokens + job.completion_tokens) / job.accepted
    cost = None if job.cost is None else job.cost / job.accepted
    return {"tokens_per_accepted": round(tokens, 2), "cost_per_accepted": cost}
