"""Planning runs and publishing: superseded plans, re-plans, cancelled appointments.

A plan may be ``superseded`` by a later published plan of its week; a re-plan names
the published plan it starts from (``previous_plan_id``); ``attempts`` and
``heartbeat_at`` tell a run whose worker died from a slow one. An appointment a re-plan
drops stays as ``cancelled`` without a tour (``tour_key`` nullable), and ``updated_at``
records when its published content last changed (calendars' LAST-MODIFIED).

Revision ID: b7e2c41d9a05
Revises: b7e4c2a91d05
Create Date: 2026-11-23 11:45:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2c41d9a05"
down_revision: str | Sequence[str] | None = "b7e4c2a91d05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PLAN_STATUSES = "status IN ('queued', 'running', 'done', 'failed', 'published')"
NEW_PLAN_STATUSES = "status IN ('queued', 'running', 'done', 'failed', 'published', 'superseded')"


def upgrade() -> None:
    # Batch mode: SQLite copies the tables (foreign keys are off meanwhile, see
    # migrations.schema_changes); PostgreSQL alters them in place.
    with op.batch_alter_table("plan") as batch_op:
        batch_op.add_column(sa.Column("previous_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_status"), NEW_PLAN_STATUSES)
        batch_op.create_check_constraint(op.f("ck_plan_attempts_not_negative"), "attempts >= 0")
        batch_op.create_foreign_key(
            op.f("fk_plan_previous_plan_id_plan"),
            "plan",
            ["previous_plan_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(op.f("ix_plan_previous_plan_id"), ["previous_plan_id"])

    # Appointments written before this revision were last changed when their plan was
    # published (or created, if it never was).
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE appointment SET updated_at = (SELECT COALESCE(plan.published_at, "
        "plan.created_at) FROM plan WHERE plan.id = appointment.plan_id)"
    )
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("tour_key", existing_type=sa.String(length=200), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_appointment_planned_in_a_tour"),
            "status = 'cancelled' OR tour_key IS NOT NULL",
        )


def downgrade() -> None:
    # Cancelled appointments have no tour, which the old schema cannot hold, and
    # superseded plans were published ones.
    op.execute("DELETE FROM appointment WHERE tour_key IS NULL")
    op.execute("UPDATE plan SET status = 'published' WHERE status = 'superseded'")
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_constraint(op.f("ck_appointment_planned_in_a_tour"), type_="check")
        batch_op.alter_column("tour_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("plan") as batch_op:
        batch_op.drop_index(op.f("ix_plan_previous_plan_id"))
        batch_op.drop_constraint(op.f("fk_plan_previous_plan_id_plan"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_plan_attempts_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_status"), OLD_PLAN_STATUSES)
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("previous_plan_id")
