"""Paperless steps: the paperless_event table (plans published, trips confirmed, ...)

Counted where the work happens (core.paperless.record_paperless) for the
sustainability report, which turns them into sheets of paper avoided.

Revision ID: 3a983819622f
Revises: caed4bbdebe9
Create Date: 2026-11-23 11:37:46.354538+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a983819622f"
down_revision: str | Sequence[str] | None = "caed4bbdebe9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paperless_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('plan_published', 'trip_confirmed', 'booking_online', 'visit_record',"
            " 'consent')",
            name=op.f("ck_paperless_event_kind"),
        ),
        sa.CheckConstraint("count >= 1", name=op.f("ck_paperless_event_count_positive")),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_paperless_event_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paperless_event")),
    )
    op.create_index("ix_paperless_event_at", "paperless_event", ["at"], unique=False)
    op.create_index(
        "ix_paperless_event_site_at", "paperless_event", ["site_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_paperless_event_site_at", table_name="paperless_event")
    op.drop_index("ix_paperless_event_at", table_name="paperless_event")
    op.drop_table("paperless_event")
