"""Versions of a dataset and of a job read from the database on every request, and a small cache of
results kept until their version changes.

A dataset's version is the largest id of its instructions and of its instances (both append-only), its
``decisions_version`` (a replay bumps it in the transaction that rewrites decisions) and its creation time
(a dataset created again under a reused id starts anew); app/datasets/kept_stats.py brings its counted
stats forward from one version to the next. A job's version is its newest candidate and its dataset's
``decisions_version``: a finished job's timeline is computed once and kept here. Read on every request,
so writes by any process are seen at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Dataset, Instruction, Job, TaskInstance, stored_id

Version = tuple[Any, ...]


def dataset_version(session: Session, dataset: Dataset) -> Version:
    dataset_id = stored_id(dataset)
    newest_task = session.exec(
        select(func.max(Instruction.id)).where(col(Instruction.dataset_id) == dataset_id)
    ).one()
    newest_instance = session.exec(
        select(func.max(TaskInstance.id)).where(col(TaskInstance.dataset_id) == dataset_id)
    ).one()
    stored = session.exec(
        select(Dataset.decisions_version, Dataset.created_at).where(col(Dataset.id) == dataset_id)
    ).one()
    return (newest_task, newest_instance, *stored)


def job_version(session: Session, job: Job) -> Version:
    """A job's candidates are appended in id order; a replay of its dataset bumps ``decisions_version``."""
    newest = session.exec(select(func.max(Instruction.id)).where(col(Instruction.job_id) == job.id)).one()
    decisions = session.exec(select(Dataset.decisions_version).where(col(Dataset.id) == job.dataset_id)).one()
    return (newest, decisions, job.created_at)


class StatsCache:
    """At most ``size`` entries, least recently used dropped first; thread-safe. Two requests missing at
    once both compute (the same result); nothing waits on another's computation."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Version, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, version: Version, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A new top-level dict each time (callers add keys); the nested values are shared, not mutated."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                self.hits += 1
                return dict(entry[1])
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return dict(value)
