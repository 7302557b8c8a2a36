"""The counted parts of ``GET …/stats`` kept per process and brought forward by the rows added since.

Instructions and instances are append-only, and a stored row's counted columns change only when a replay
rewrites decisions, which bumps the dataset's ``decisions_version`` in the same transaction. So what was
counted over the ids up to a mark stays right, and a later view reads only the rows past it, once, and
adds them (app/datasets/counts.py): counts per origin, decision, rule, job, strategy and recipe; the
instances per rule; every score histogram (counts and sums); the novelty curve (its completed windows
never change, the last one grows); the distinct n-grams and the nearest-neighbour mean of the newest
accepted candidates (sliding windows, app/datasets/telemetry.py; a vector stored later for a row stored
without one is looked for on every view). Each query is bounded by the marks, so the parts agree with
each other whatever commits meanwhile.

Everything is counted afresh when the dataset's ``decisions_version`` or creation time changed (a replay,
a dataset created again under a reused id), when more rows were added than were counted (or more than
``MAX_ADDED``), and, where ids can become visible out of order (PostgreSQL draws them before commit;
SQLite has one writer at a time, so its ids appear in order), when the rows up to the mark no longer
number what was counted.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.datasets.counts import TASK_KEYS, Counts, count, count_rows, public
from app.datasets.id_range import IdRange
from app.datasets.score_stats import INSTANCE_SCORES, TASK_SCORES
from app.datasets.stats_cache import Version, dataset_version
from app.datasets.telemetry import AcceptedWindow, refresh_vectors, window_rows
from app.jobs.saturation import DEFAULT_CURVE_WINDOW, curve_counts, extend_curve, shares
from app.models import Dataset, Instruction, TaskInstance

logger = logging.getLogger(__name__)
MAX_WINDOWS = 8  # novelty-curve windows kept per dataset (a window is a query parameter)
MAX_ADDED = 20_000  # ids past the mark beyond which the database counts afresh (faster than reading rows)


@dataclass
class Kept:
    stored: tuple[Any, ...]  # decisions_version, created_at
    upto: int  # the newest instruction id counted (0: none)
    upto_instance: int
    counts: Counts
    accepted: AcceptedWindow
    curves: OrderedDict[int, list[tuple[int, int]]] = field(default_factory=OrderedDict)


class KeptStats:
    """At most ``size`` datasets (~12 MB each at 5,000 accepted rows in the diversity windows, mostly
    their vectors), least recently viewed dropped first; thread-safe (views of one dataset take turns, so
    one brings it forward and the next reads the result)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[int, Kept] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = self.advances = self.misses = 0
        self._closed = threading.Event()
        self.primed = threading.Event()  # set when :meth:`prime` has finished

    def stats(self, session: Session, dataset_id: int, version: Version, window: int) -> dict[str, Any]:
        """The counted parts and the curve at ``version`` (app/datasets/stats_cache.py's
        ``dataset_version``), and diversity under ``diversity``."""
        newest, newest_instance, *stored = version
        marks = (int(newest or 0), int(newest_instance or 0))
        with self._lock_for(dataset_id):
            kept = self._entries.get(dataset_id)
            if kept is None or not self._still_counts(session, dataset_id, kept, tuple(stored), marks):
                kept = self._afresh(session, dataset_id, tuple(stored), marks)
                self.misses += 1
            elif marks != (kept.upto, kept.upto_instance):
                self._advance(session, dataset_id, kept, marks)
                self.advances += 1
            else:
                self.hits += 1
            refresh_vectors(session, kept.accepted)
            self._remember(dataset_id, kept)
            curve = kept.curves.get(window)
            if curve is None:
                curve = curve_counts(session, dataset_id=dataset_id, window=window, upto=kept.upto)
                kept.curves[window] = curve
                while len(kept.curves) > MAX_WINDOWS:
                    kept.curves.popitem(last=False)
            kept.curves.move_to_end(window)
            return {
                **public(kept.counts),
                "novelty_curve": shares(curve),
                "novelty_window": window,
                "diversity": kept.accepted.measures(),
            }

    def prime(
        self, engine: Engine, dataset_ids: list[int] | None = None, after: threading.Event | None = None
    ) -> None:
        """Count datasets once (by default the newest, up to ``size``), so that the next view of each is
        brought forward rather than counted afresh: run in a thread at start, once ``after`` is set (the
        pools ready: readiness is not delayed), and after a replay; :meth:`close` stops it. A failure is
        logged and changes nothing: a view counts afresh then."""
        try:
            while after is not None and not after.wait(1.0):
                if self._closed.is_set():
                    return
            if dataset_ids is None:
                with Session(engine) as session:
                    newest = select(Dataset.id).order_by(col(Dataset.id).desc()).limit(self.size)
                    dataset_ids = [int(i or 0) for i in session.exec(newest).all()]
            for dataset_id in dataset_ids:
                if self._closed.is_set():
                    return
                with Session(engine) as session:
                    dataset = session.get(Dataset, dataset_id)
                    if dataset is not None:
                        version = dataset_version(session, dataset)
                        self.stats(session, dataset_id, version, DEFAULT_CURVE_WINDOW)
        except Exception:
            if not self._closed.is_set():
                logger.exception("could not count the datasets' stats")
        finally:
            self.primed.set()

    def prime_later(
        self, engine: Engine, dataset_ids: list[int] | None = None, after: threading.Event | None = None
    ) -> None:
        """:meth:`prime` in a thread of its own."""
        args = (engine, dataset_ids, after)
        threading.Thread(target=self.prime, args=args, name="stats-primer", daemon=True).start()

    def close(self) -> None:
        self._closed.set()

    def _lock_for(self, dataset_id: int) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(dataset_id, threading.Lock())

    def _remember(self, dataset_id: int, kept: Kept) -> None:
        with self._lock:
            self._entries[dataset_id] = kept
            self._entries.move_to_end(dataset_id)
            while len(self._entries) > self.size:
                dropped, _ = self._entries.popitem(last=False)
                self._locks.pop(dropped, None)

    @staticmethod
    def _still_counts(
        session: Session, dataset_id: int, kept: Kept, stored: tuple[Any, ...], marks: tuple[int, int]
    ) -> bool:
        if kept.stored != stored or marks[0] < kept.upto or marks[1] < kept.upto_instance:
            return False
        if marks[0] - kept.upto > min(max(kept.counts.rows, 1000), MAX_ADDED):  # cheaper counted afresh
            return False
        if session.get_bind().dialect.name == "sqlite":
            return True
        return (
            _rows_upto(session, Instruction, dataset_id, kept.upto),
            _rows_upto(session, TaskInstance, dataset_id, kept.upto_instance),
        ) == (kept.counts.rows, kept.counts.instance_rows)

    @staticmethod
    def _afresh(session: Session, dataset_id: int, stored: tuple[Any, ...], marks: tuple[int, int]) -> Kept:
        accepted = AcceptedWindow()
        accepted.extend(window_rows(session, dataset_id, IdRange(upto=marks[0])))
        return Kept(stored, *marks, count(session, dataset_id, marks), accepted)

    @staticmethod
    def _advance(session: Session, dataset_id: int, kept: Kept, marks: tuple[int, int]) -> None:
        """Read the rows past the marks once and count them in Python (a few, usually)."""
        tasks = IdRange(after=kept.upto, upto=marks[0])
        names = ("id", *TASK_KEYS, *TASK_SCORES, "instruction", "embedding")
        rows: Sequence[Any] = session.execute(
            sqlalchemy.select(*(getattr(Instruction, name) for name in names))
            .where(col(Instruction.dataset_id) == dataset_id, *tasks.where(col(Instruction.id)))
            .order_by(col(Instruction.id))
        ).all()
        scores = [getattr(TaskInstance, name) for name in ("rule", *INSTANCE_SCORES)]
        instances = session.execute(
            sqlalchemy.select(*scores).where(
                col(TaskInstance.dataset_id) == dataset_id,
                *IdRange(after=kept.upto_instance, upto=marks[1]).where(col(TaskInstance.id)),
            )
        ).all()
        candidates = [r for r in rows if r.origin != "seed"]
        for window, curve in kept.curves.items():
            kept.curves[window] = extend_curve(curve, [bool(r.accepted) for r in candidates], window)
        kept.accepted.extend([(r.id, r.instruction, r.embedding) for r in candidates if r.accepted])
        kept.counts = kept.counts.add(count_rows(rows, instances))
        kept.upto, kept.upto_instance = marks


def _rows_upto(session: Session, table: Any, dataset_id: int, upto: int) -> int:
    query = select(func.count()).where(col(table.dataset_id) == dataset_id, col(table.id) <= upto)
    return int(session.exec(query).one())
