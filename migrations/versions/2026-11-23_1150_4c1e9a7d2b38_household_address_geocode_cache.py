"""Household address and the geocode cache: locations from addresses, asked once.

``household.address`` is optional free text (personal data, erased with the location).
``geocode_cache`` keeps each geocoded address's coordinates under the SHA-256 of the
normalised address, so the geocoder is never asked for the same address twice.

Revision ID: 4c1e9a7d2b38
Revises: b7e2c41d9a05
Create Date: 2026-11-23 11:50:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c1e9a7d2b38"
down_revision: str | Sequence[str] | None = "b7e2c41d9a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household") as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=True))
    op.create_table(
        "geocode_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(lat IS NULL AND lon IS NULL) OR (lat IS NOT NULL AND lon IS NOT NULL)",
            name=op.f("ck_geocode_cache_location_whole"),
        ),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_geocode_cache_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_geocode_cache_lon_range")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_geocode_cache")),
    )


def downgrade() -> None:
    op.drop_table("geocode_cache")
    with op.batch_alter_table("household") as batch_op:
        batch_op.drop_column("address")
