"""Snapshots record high-water marks instead of every id: ``snapshot.marks`` (JSON, NULL for the snapshots
taken before, which keep their id lists and export as they did).

Revision ID: 0012
Revises: 0010 (re-chained onto whatever precedes it when merged)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.add_column(sa.Column("marks", sa.JSON(), nullable=True))


def downgrade() -> None:
    # a snapshot taken with marks has no id lists to fall back on: going back would change its export
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM snapshot WHERE marks IS NOT NULL")).scalar_one():
        raise RuntimeError("snapshots taken with high-water marks exist; they cannot go back to id lists")
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_column("marks")
