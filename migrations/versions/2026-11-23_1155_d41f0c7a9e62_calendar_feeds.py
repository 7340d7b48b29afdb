"""Calendar feeds: feed_token (hashed capability tokens) and caseworker_calendar
(e-mail for same-day changes, optional CalDAV push target).

Revision ID: d41f0c7a9e62
Revises: 4c1e9a7d2b38
Create Date: 2026-11-23 11:55:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d41f0c7a9e62"
down_revision: str | Sequence[str] | None = "4c1e9a7d2b38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('caseworker', 'vehicle', 'site')", name=op.f("ck_feed_token_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'caseworker' AND caseworker_id IS NOT NULL AND vehicle_id IS NULL"
            " AND site_id IS NULL)"
            " OR (kind = 'vehicle' AND vehicle_id IS NOT NULL AND caseworker_id IS NULL"
            " AND site_id IS NULL)"
            " OR (kind = 'site' AND site_id IS NOT NULL AND caseworker_id IS NULL"
            " AND vehicle_id IS NULL)",
            name=op.f("ck_feed_token_one_subject"),
        ),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= created_at",
            name=op.f("ck_feed_token_revoked_after"),
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_feed_token_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_feed_token_site_id_site"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
            name=op.f("fk_feed_token_vehicle_id_vehicle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_token_token_hash")),
    )
    op.create_index(
        op.f("ix_feed_token_caseworker_id"), "feed_token", ["caseworker_id"], unique=False
    )
    op.create_index(op.f("ix_feed_token_site_id"), "feed_token", ["site_id"], unique=False)
    op.create_index(op.f("ix_feed_token_vehicle_id"), "feed_token", ["vehicle_id"], unique=False)
    op.create_table(
        "caseworker_calendar",
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("caldav_url", sa.Text(), nullable=True),
        sa.Column("caldav_username", sa.String(length=200), nullable=True),
        sa.Column("caldav_password", sa.Text(), nullable=True),
        sa.Column("caldav_pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("caldav_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(caldav_url IS NULL) = (caldav_username IS NULL)",
            name=op.f("ck_caseworker_calendar_caldav_url_with_user"),
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_caseworker_calendar_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("caseworker_id", name=op.f("pk_caseworker_calendar")),
    )


def downgrade() -> None:
    op.drop_table("caseworker_calendar")
    op.drop_index(op.f("ix_feed_token_vehicle_id"), table_name="feed_token")
    op.drop_index(op.f("ix_feed_token_site_id"), table_name="feed_token")
    op.drop_index(op.f("ix_feed_token_caseworker_id"), table_name="feed_token")
    op.drop_table("feed_token")
