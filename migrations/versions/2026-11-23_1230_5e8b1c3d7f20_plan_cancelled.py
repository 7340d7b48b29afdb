"""Plans can be cancelled: a queued or running run, or a done plan a coordinator discards.

Revision ID: 5e8b1c3d7f20
Revises: 9d3f6b2a81c4
Create Date: 2026-11-23 12:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5e8b1c3d7f20"
down_revision: str | Sequence[str] | None = "9d3f6b2a81c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('queued', 'running', 'done', 'failed', 'published', 'superseded')"
AFTER = "status IN ('queued', 'running', 'done', 'failed', 'published', 'superseded', 'cancelled')"


def upgrade() -> None:
    # Batch mode: SQLite copies the table (foreign keys are off meanwhile, see
    # migrations.schema_changes); PostgreSQL alters the constraint in place.
    with op.batch_alter_table("plan") as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_status"), AFTER)


def downgrade() -> None:
    # The old schema has no cancelled plans: they become failed ones.
    op.execute("UPDATE plan SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("plan") as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_status"), BEFORE)
