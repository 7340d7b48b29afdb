"""Cargo bikes: a fleet-only vehicle kind (booked ad hoc, never planned or exported).

Revision ID: c4a9e7d21f63
Revises: 8a6d2f4c9b17
Create Date: 2026-11-23 13:50:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c4a9e7d21f63"
down_revision: str | Sequence[str] | None = "8a6d2f4c9b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("vehicle", "booking_refusal")


def _kind_check(kinds: str) -> None:
    # SQLite cannot alter a CHECK constraint in place: batch mode copies the table.
    for table in _TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), f"kind IN ({kinds})")


def upgrade() -> None:
    _kind_check("'e_car', 'e_bike', 'cargo_bike', 'car'")


def downgrade() -> None:
    op.execute("DELETE FROM booking_refusal WHERE kind = 'cargo_bike'")
    _kind_check("'e_car', 'e_bike', 'car'")
