"""Typed job counters and an explicit instance-stage state per instruction.

- ``job.counts``: the flat keys of 0.1.0–0.2 (``accepted`` and rule ids, ``parse:<reason>``,
  ``classification:<answer>``, ``instance:<rule>|accepted``, ``instance_parse:<reason>``) become the groups
  of ``app.jobs.counters.JobCounts`` (``decisions``, ``parse_dropped``, ``classification``,
  ``instance_decisions``, ``instance_parse_dropped``). The mapping is written out here, not imported, so
  this revision keeps doing what it did whatever the application becomes.
- ``instruction.instance_stage`` (new): ``pending`` for accepted non-seed rows whose ``instances`` is null
  (SQL NULL or JSON ``null``: not through the stage yet), ``done`` for those with a list, NULL otherwise.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

GROUPS = ("decisions", "parse_dropped", "classification", "instance_decisions", "instance_parse_dropped")
# flat key prefix → group; a key with none of them is a candidate decision (``accepted`` or a rule id)
PREFIXES = (
    ("parse:", "parse_dropped"),
    ("classification:", "classification"),
    ("instance:", "instance_decisions"),
    ("instance_parse:", "instance_parse_dropped"),
)

job = sa.table("job", sa.column("id", sa.Integer()), sa.column("counts", sa.JSON()))
instruction = sa.table(
    "instruction",
    sa.column("origin", sa.String()),
    sa.column("accepted", sa.Boolean()),
    sa.column("instances", sa.JSON()),
    sa.column("instance_stage", sa.String()),
)


def typed_counts(flat: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The groups of one job's flat counters (already grouped counters are returned as they are)."""
    if is_typed(flat):
        return {group: dict(flat.get(group) or {}) for group in GROUPS}
    typed: dict[str, dict[str, int]] = {group: {} for group in GROUPS}
    for key, n in flat.items():
        group, name = next(((g, key[len(p) :]) for p, g in PREFIXES if key.startswith(p)), ("decisions", key))
        typed[group][name] = typed[group].get(name, 0) + int(n)
    return typed


def flat_counts(typed: dict[str, Any]) -> dict[str, int]:
    """The inverse, for the downgrade."""
    if not is_typed(typed):
        return dict(typed)
    flat = dict(typed.get("decisions") or {})
    for prefix, group in PREFIXES:
        flat.update({f"{prefix}{k}": v for k, v in (typed.get(group) or {}).items()})
    return flat


def is_typed(counts: dict[str, Any]) -> bool:
    return bool(counts) and all(isinstance(v, dict) for v in counts.values())


def _rewrite_counts(convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    connection = op.get_bind()
    for job_id, counts in connection.execute(sa.select(job.c.id, job.c.counts)).all():
        value = json.loads(counts) if isinstance(counts, str) else (counts or {})
        connection.execute(sa.update(job).where(job.c.id == job_id).values(counts=convert(value)))


def upgrade() -> None:
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.add_column(sa.Column("instance_stage", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_instruction_instance_stage", ["instance_stage"], unique=False)
    not_through = sa.or_(
        instruction.c.instances.is_(None), sa.cast(instruction.c.instances, sa.String) == "null"
    )
    in_stage = sa.and_(instruction.c.accepted.is_(True), instruction.c.origin != "seed")
    op.execute(sa.update(instruction).where(in_stage, not_through).values(instance_stage="pending"))
    op.execute(sa.update(instruction).where(in_stage, sa.not_(not_through)).values(instance_stage="done"))
    _rewrite_counts(typed_counts)


def downgrade() -> None:
    _rewrite_counts(flat_counts)
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.drop_index("ix_instruction_instance_stage")
        batch_op.drop_column("instance_stage")
