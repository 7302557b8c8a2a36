"""Rebuilding SQLite tables that other rows refer to, for migrations (``batch_alter_table`` recreates them).

SQLite drops and re-creates a table to alter it; while that happens references to it must not be
enforced. ``PRAGMA foreign_keys`` is ignored inside a transaction, so it is switched off only when none is
open yet (an operator's ``alembic`` run, which app/migrations/env.py also runs with it off); inside a
transaction references are deferred instead: checked when it commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op


@contextmanager
def references_checked_at_the_end() -> Iterator[None]:
    """Around the batch operations that rebuild referenced tables (a no-op on PostgreSQL)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    enforced = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if enforced:
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    try:
        yield
    finally:
        if enforced:
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")
