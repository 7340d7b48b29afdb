"""User password hash: sign-in to the web pages with a password as well as a token.

Nullable: existing users keep signing in by token until ``fieldwork users passwd`` sets
a password.

Revision ID: b7e4c2a91d05
Revises: 3a983819622f
Create Date: 2026-11-23 11:42:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e4c2a91d05"
down_revision: str | Sequence[str] | None = "3a983819622f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("password_hash")
