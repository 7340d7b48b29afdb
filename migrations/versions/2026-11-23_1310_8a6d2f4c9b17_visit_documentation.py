"""Visit documentation: that a visit's record or a family's consent was kept digitally.

Only the kind, when and by whom, per appointment uid (unique per kind); each note also
counts as a paperless step (visit_record, consent) for the sustainability report.

Revision ID: 8a6d2f4c9b17
Revises: 5e8b1c3d7f20
Create Date: 2026-11-23 13:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a6d2f4c9b17"
down_revision: str | Sequence[str] | None = "5e8b1c3d7f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_documentation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_uid", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('visit_record', 'consent')", name=op.f("ck_visit_documentation_kind")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_visit_documentation_recorded_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_documentation")),
        sa.UniqueConstraint(
            "appointment_uid", "kind", name=op.f("uq_visit_documentation_appointment_uid_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("visit_documentation")
