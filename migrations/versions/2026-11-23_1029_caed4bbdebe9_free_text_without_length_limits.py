"""Free text without length limits: names, reasons and skills are TEXT.

The planning format limits none of them, and PostgreSQL refused what SQLite kept.

Revision ID: caed4bbdebe9
Revises: 17f133dc3f00
Create Date: 2026-11-23 10:29:31.994883+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "caed4bbdebe9"
down_revision: str | Sequence[str] | None = "17f133dc3f00"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, length before, nullable)
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("absence", "reason", 500, True),
    ("caseworker", "name", 200, True),
    ("caseworker_skill", "skill", 100, False),
    ("household_required_skill", "skill", 100, False),
    ("planning_week", "name", 200, False),
    ("site", "name", 200, True),
    ("vehicle", "name", 200, True),
    ("vehicle_block", "reason", 500, True),
)


def upgrade() -> None:
    # Batch mode: SQLite copies the table (foreign keys are off meanwhile, see
    # migrations.schema_changes); PostgreSQL alters the column in place.
    for table, column, length, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=length),
                type_=sa.Text(),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    for table, column, length, nullable in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=sa.String(length=length),
                existing_nullable=nullable,
            )
