"""Prometheus metrics (``GET /metrics``, the text format of ``prometheus-client``), one registry per app.

Measured as requests pass: ``si_http_request_duration_seconds{method, route, status}`` (route is the
template, e.g. ``/v1/jobs/{job_id}``). Read from the services at each scrape: jobs by state and queued
(``si_jobs``), candidates decided by rule and accepted (``si_candidates_decided_total``,
``si_instructions_accepted_total``), backend requests in flight / waiting and the breaker state, admission
running / waiting / refused per route kind, loaded pools, database pool connections, and each background
loop's failed passes (``si_loop_failures_total``). Tallied in the process since it started (so ``rate()``
works on them): candidates accepted (``si_candidates_accepted_total``), backend request latency
(``si_backend_request_duration_seconds``) and errors by kind (``si_backend_request_errors_total``:
timeout, rejected = 4xx, server = 5xx / connection / crash), and the embedder's latency per call and per
text (``si_embedder_batch_duration_seconds``, ``si_embedder_text_duration_seconds``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.models import JOB_STATES, Instruction, Job
from generators.backends.timings import Latency


class ServiceCollector:
    """Reads the lifespan's services (``app.state``) at scrape time."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        engine = getattr(state, "engine", None)
        if engine is None:
            return
        jobs = GaugeMetricFamily("si_jobs", "Jobs by state", labels=["state"])
        decided = CounterMetricFamily("si_candidates_decided", "Candidates decided, by rule", labels=["rule"])
        accepted = CounterMetricFamily("si_instructions_accepted", "Candidates accepted")
        with Session(engine) as session:
            by_state = dict(session.exec(select(Job.status, func.count()).group_by(col(Job.status))).all())
            by_rule = session.exec(
                select(Instruction.rule, func.count())
                .where(col(Instruction.origin) != "seed")
                .group_by(col(Instruction.rule))
            ).all()
        for name in JOB_STATES:
            jobs.add_metric([name], by_state.get(name, 0))
        for rule, n in by_rule:
            decided.add_metric([rule or "accepted"], n)
            if rule is None:
                accepted.add_metric([], n)
        yield from (jobs, decided, accepted)
        pool = engine.pool
        connections = GaugeMetricFamily("si_db_pool_connections", "Pooled connections", labels=["kind"])
        for kind in ("checkedout", "size"):
            value = getattr(pool, kind, None)
            if callable(value):
                connections.add_metric([kind], value())
        yield connections
        yield from _backend(getattr(state, "backend", None))
        yield from _admission(getattr(state, "admission", {}))
        pools = getattr(state, "pools", None)
        if pools is not None:
            yield from _pools(pools)
        supervisor = getattr(state, "supervisor", None)
        if supervisor is not None:
            loops = CounterMetricFamily(
                "si_loop_failures", "Failed passes of a background loop", labels=["loop"]
            )
            for loop in supervisor.loops():
                loops.add_metric([loop.name], loop.failures)
            yield loops


def histogram(name: str, documentation: str, latency: Latency) -> HistogramMetricFamily:
    buckets = [(str(bound), float(n)) for bound, n in latency.cumulative()]
    buckets[-1] = ("+Inf", buckets[-1][1])
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=latency.sum)


def _pools(pools: Any) -> Iterator[Metric]:
    registry = pools.registry
    yield GaugeMetricFamily("si_pools_loaded", "Dataset pools in memory", value=len(registry._pools))
    yield CounterMetricFamily(
        "si_candidates_accepted", "Candidates accepted by this process", value=registry.accepted_total
    )
    embedder = registry.embedder
    if hasattr(embedder, "per_batch"):  # app/pipeline/timed_embedder.py
        yield histogram("si_embedder_batch_duration_seconds", "Embedder call latency", embedder.per_batch)
        yield histogram("si_embedder_text_duration_seconds", "Embedder latency per text", embedder.per_text)


def _backend(backend: Any) -> Iterator[Metric]:
    if backend is None:
        return
    dispatcher = backend.dispatcher
    tallies = dispatcher.tallies
    yield histogram(
        "si_backend_request_duration_seconds", "Backend request latency (answered)", tallies.latency
    )
    errors = CounterMetricFamily(
        "si_backend_request_errors", "Backend requests failed, by kind", labels=["kind"]
    )
    for kind, n in tallies.errors().items():
        errors.add_metric([kind], n)
    yield errors
    yield GaugeMetricFamily(
        "si_backend_requests_in_flight", "Backend requests running", value=dispatcher.in_flight
    )
    yield GaugeMetricFamily(
        "si_backend_requests_waiting", "Backend requests waiting", value=dispatcher.waiting
    )
    breaker = GaugeMetricFamily("si_backend_breaker_state", "1 for the breaker's state", labels=["state"])
    for name in ("closed", "open", "half_open"):
        breaker.add_metric([name], 1.0 if dispatcher.breaker.state == name else 0.0)
    yield breaker


def _admission(admission: dict[str, Any]) -> Iterator[Metric]:
    running = GaugeMetricFamily("si_admission_running", "Requests holding a slot", labels=["kind"])
    waiting = GaugeMetricFamily("si_admission_waiting", "Requests waiting for a slot", labels=["kind"])
    refused = CounterMetricFamily("si_admission_refused", "Requests refused (429/503)", labels=["kind"])
    for kind, gate in admission.items():
        running.add_metric([kind], gate.running)
        waiting.add_metric([kind], gate.waiting)
        refused.add_metric([kind], gate.refused)
    yield from (running, waiting, refused)


def new_registry(state: Any) -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    latency = Histogram(
        "si_http_request_duration_seconds",
        "HTTP request latency by route template",
        ["method", "route", "status"],
        registry=registry,
    )
    registry.register(ServiceCollector(state))
    return registry, latency


class HttpMetrics:
    """ASGI middleware timing each request into the latency histogram, labelled by route template."""

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app, self.latency = app, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.latency.labels(scope["method"], route, str(status[0])).observe(time.perf_counter() - started)
