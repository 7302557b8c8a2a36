"""How many requests a job keeps in flight, and what its requests told about the model server.

Sizing (``SI_REQUEST_SIZING=yield``): the requests worth having outstanding are the remaining target
over the measured yield (accepted instructions per stored request), with half again as headroom, at
most ``SI_MAX_IN_FLIGHT`` and at least one. The yield is smoothed by one imagined request that gave one
accepted instruction. Before the yield is known the window starts small and doubles with each stored
result (4, 8, 16, … — a slow start, so a small job does not send ``SI_MAX_IN_FLIGHT`` requests it will
not use); a job whose requests give little reaches ``SI_MAX_IN_FLIGHT`` after a few results. ``fixed``
keeps ``SI_MAX_IN_FLIGHT`` outstanding until the job ends.

Requests still outstanding when a job ends are cancelled and counted (``counts.requests.cancelled``);
``n_ignored`` counts requests whose samples the backend made up with extra requests because the server
returned fewer choices than ``n``; ``identical_samples`` counts requests whose samples were all the same
text although each had its own seed (a server that ignores the sampling settings). The last two become
warnings in the job's view.
"""

from __future__ import annotations

import math

from app.core.settings import Settings
from app.jobs.counters import JobCounts
from generators.backends.base import GenerationResult, SamplingParams

HEADROOM = 1.5
FIRST_WINDOW = 4


def wanted_in_flight(settings: Settings, remaining: int, accepted: int, requests: int) -> int:
    """Requests worth having outstanding for ``remaining`` more accepted instructions."""
    limit = settings.resolved_max_in_flight()
    if settings.request_sizing == "fixed":
        return limit
    if remaining <= 0:
        return 0
    measured_yield = (accepted + 1) / (requests + 1)
    slow_start = FIRST_WINDOW * 2 ** min(requests, 20)
    return max(1, min(limit, slow_start, math.ceil(HEADROOM * remaining / measured_yield)))


def request_notes(result: GenerationResult, params: SamplingParams) -> list[str]:
    """What one request showed about the server, as ``counts.requests`` keys."""
    notes = []
    if result.extra.get("server_requests"):
        notes.append("n_ignored")
    texts = [c.text for c in result.completions]
    if len(texts) > 1 and params.temperature > 0 and len(set(texts)) == 1 and texts[0].strip():
        notes.append("identical_samples")
    return notes


def cancelled_counts(cancelled: int) -> JobCounts:
    counts = JobCounts()
    if cancelled:
        counts.add("requests", "cancelled", cancelled)
    return counts


def job_warnings(counts: JobCounts) -> list[str]:
    """What the job's view warns about: the model server not doing what was asked."""
    warnings = []
    if counts.requests.get("n_ignored"):
        warnings.append(
            f"the model server returned fewer samples than n for {counts.requests['n_ignored']} "
            "request(s); the missing samples were asked for one by one"
        )
    if counts.requests.get("identical_samples"):
        warnings.append(
            f"{counts.requests['identical_samples']} request(s) got identical samples for different "
            "seeds: the model server seems to ignore seed/temperature (greedy decoding)"
        )
    return warnings
