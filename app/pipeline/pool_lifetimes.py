"""How long a dataset's pool stays in this process: loaded when first used, dropped when idle or when
the process's budget of pool items is spent.

A pool counts as used when it is looked up (a job step, a search, a submission) and when an acceptor
catches it up. :meth:`PoolLifetimes.to_drop` picks the pools idle for ``SI_POOL_IDLE_S`` and, while the
pools hold more than ``SI_POOL_BUDGET_ITEMS`` items, the least recently used others; 0 switches either
rule off. Dropping only forgets the pool (its large index saved first): the next use rebuilds it from the
database and the saved index, and an acceptor still holding the old object stays correct, since every
acceptor catches up under the dataset's database lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol, TypeVar


class _Pool(Protocol):
    dataset_id: int
    last_used: float

    def __len__(self) -> int: ...


P = TypeVar("P", bound=_Pool)


class PoolLifetimes:
    def __init__(self, idle_s: float = 0.0, budget_items: int = 0) -> None:
        self.idle_s = idle_s
        self.budget_items = budget_items

    @staticmethod
    def touch(pool: _Pool) -> None:
        pool.last_used = time.monotonic()

    def to_drop(self, pools: Iterable[P], keep: int | None = None, now: float | None = None) -> list[P]:
        """The pools to drop now, least recently used first; never the pool of dataset ``keep``."""
        now = time.monotonic() if now is None else now
        ordered = sorted(pools, key=lambda p: p.last_used)
        idle = [
            p
            for p in ordered
            if self.idle_s > 0 and now - p.last_used >= self.idle_s and p.dataset_id != keep
        ]
        if self.budget_items <= 0:
            return idle
        held = sum(len(p) for p in ordered if p not in idle)
        over = []
        for pool in ordered:
            if held <= self.budget_items:
                break
            if pool.dataset_id != keep and pool not in idle:
                over.append(pool)
                held -= len(pool)
        return idle + over
