"""Job and schedule ids are never reused on SQLite; the ``api_key`` table.

Without ``AUTOINCREMENT`` SQLite hands out ``max(id) + 1``, so after the newest jobs are deleted (with
their dataset) a new job gets an old id and a client's saved ``Location`` shows someone else's job.
The tables are rebuilt with ``AUTOINCREMENT`` (their rows, ids and indexes kept; ``sqlite_sequence``
starts at the largest id). PostgreSQL's sequences never go back: nothing to do there.
``api_key`` holds API keys as SHA-256 hashes with their scope (app/core/auth.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.migrations.sqlite_rebuild import references_checked_at_the_end

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("job", "schedule")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with references_checked_at_the_end():  # other tables refer to these, and a rebuild drops them
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass


def upgrade() -> None:
    _rebuild(True)
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    _rebuild(False)
