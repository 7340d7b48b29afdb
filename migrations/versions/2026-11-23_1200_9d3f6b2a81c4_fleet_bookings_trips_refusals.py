"""Fleet: conflict-free bookings, the trip log, refused requests, retired vehicles.

``vehicle_booking`` gains its status (a cancelled booking frees the slot), who booked it
for whom and why, and ``blocked_until`` (its end plus the vehicle's handover buffer). On
PostgreSQL an exclusion constraint (btree_gist) keeps the ``[start, blocked_until)``
intervals of a vehicle's active bookings apart. ``trip`` is the trip log (corrections
are new records), ``booking_refusal`` the requests that found no vehicle, and
``vehicle.retired_at`` when a vehicle left the fleet.

Revision ID: 9d3f6b2a81c4
Revises: d41f0c7a9e62
Create Date: 2026-11-23 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d3f6b2a81c4"
down_revision: str | Sequence[str] | None = "d41f0c7a9e62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCLUSION = "ex_vehicle_booking_no_overlap"


def _create_btree_gist() -> None:
    # Into ``public`` when it exists: an extension lives in one schema and is dropped
    # with it, and the tests' per-worker schemas are dropped at the end (taking every
    # other schema's exclusion constraints along if the extension were in one of them).
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
                IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
                    CREATE EXTENSION btree_gist WITH SCHEMA public;
                ELSE
                    CREATE EXTENSION btree_gist;
                END IF;
            END IF;
        END
        $$
        """
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("vehicle") as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("vehicle_booking") as batch_op:
        batch_op.add_column(sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("booked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("caseworker_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("purpose", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE vehicle_booking SET blocked_until = "end", created_at = CURRENT_TIMESTAMP')
    with op.batch_alter_table("vehicle_booking") as batch_op:
        batch_op.alter_column(
            "blocked_until", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column(
            "created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_foreign_key(
            op.f("fk_vehicle_booking_booked_by_id_app_user"),
            "app_user",
            ["booked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            op.f("fk_vehicle_booking_caseworker_id_caseworker"),
            "caseworker",
            ["caseworker_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_vehicle_booking_blocked_until_after_end"), 'blocked_until >= "end"'
        )
        batch_op.create_check_constraint(
            op.f("ck_vehicle_booking_status"), "status IN ('active', 'cancelled')"
        )
        batch_op.create_check_constraint(
            op.f("ck_vehicle_booking_cancelled_when"),
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)",
        )
        batch_op.create_index(
            op.f("ix_vehicle_booking_caseworker_id"), ["caseworker_id"], unique=False
        )
    if postgres:
        _create_btree_gist()
        op.execute(
            f"ALTER TABLE vehicle_booking ADD CONSTRAINT {EXCLUSION} EXCLUDE USING gist "
            "(vehicle_id WITH =, tstzrange(start, blocked_until) WITH &&) "
            "WHERE (status = 'active')"
        )

    op.create_table(
        "trip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("tour_key", sa.String(length=200), nullable=True),
        sa.Column("km_planned", sa.Double(), nullable=True),
        sa.Column("km", sa.Double(), nullable=False),
        sa.Column("odometer_start", sa.Double(), nullable=True),
        sa.Column("odometer_end", sa.Double(), nullable=True),
        sa.Column("confirmed", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("source IN ('tour', 'adhoc')", name=op.f("ck_trip_source")),
        sa.CheckConstraint(
            "mode IN ('e_car', 'e_bike', 'walk', 'car', 'private_car')", name=op.f("ck_trip_mode")
        ),
        sa.CheckConstraint("km >= 0", name=op.f("ck_trip_km_not_negative")),
        sa.CheckConstraint(
            "km_planned IS NULL OR km_planned >= 0", name=op.f("ck_trip_km_planned_not_negative")
        ),
        sa.CheckConstraint(
            "(odometer_start IS NULL) = (odometer_end IS NULL)", name=op.f("ck_trip_odometer_whole")
        ),
        sa.CheckConstraint(
            "odometer_start IS NULL OR (odometer_start >= 0 AND odometer_end >= odometer_start)",
            name=op.f("ck_trip_odometer_forward"),
        ),
        sa.CheckConstraint(
            "(plan_id IS NULL) = (tour_key IS NULL)", name=op.f("ck_trip_tour_whole")
        ),
        sa.CheckConstraint(
            "source = 'adhoc' OR plan_id IS NOT NULL", name=op.f("ck_trip_tour_trip_names_its_tour")
        ),
        sa.CheckConstraint(
            "corrects_id IS NULL OR corrects_id <> id", name=op.f("ck_trip_corrects_another")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["vehicle_booking.id"],
            name=op.f("fk_trip_booking_id_vehicle_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_trip_caseworker_id_caseworker"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["trip.id"], name=op.f("fk_trip_corrects_id_trip"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_trip_recorded_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_trip_site_id_site"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
            name=op.f("fk_trip_vehicle_id_vehicle"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trip")),
        sa.UniqueConstraint("corrects_id", name=op.f("uq_trip_corrects_id")),
    )
    op.create_index(op.f("ix_trip_booking_id"), "trip", ["booking_id"], unique=False)
    op.create_index(op.f("ix_trip_caseworker_id"), "trip", ["caseworker_id"], unique=False)
    op.create_index("ix_trip_date", "trip", ["date"], unique=False)
    op.create_index(op.f("ix_trip_site_id"), "trip", ["site_id"], unique=False)
    op.create_index(op.f("ix_trip_vehicle_id"), "trip", ["vehicle_id"], unique=False)
    op.create_index(
        "ix_trip_tour_confirmation",
        "trip",
        ["plan_id", "tour_key"],
        unique=True,
        sqlite_where=sa.text("corrects_id IS NULL AND plan_id IS NOT NULL"),
        postgresql_where=sa.text("corrects_id IS NULL AND plan_id IS NOT NULL"),
    )

    op.create_table(
        "booking_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("km", sa.Double(), server_default="0", nullable=False),
        sa.Column("outcome", sa.String(length=16), server_default="refused", nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("caseworker_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('e_car', 'e_bike', 'car')", name=op.f("ck_booking_refusal_kind")
        ),
        sa.CheckConstraint(
            "outcome IN ('refused', 'moved')", name=op.f("ck_booking_refusal_outcome")
        ),
        sa.CheckConstraint('"end" > start', name=op.f("ck_booking_refusal_ends_after_start")),
        sa.CheckConstraint("km >= 0", name=op.f("ck_booking_refusal_km_not_negative")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["vehicle_booking.id"],
            name=op.f("fk_booking_refusal_booking_id_vehicle_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_booking_refusal_caseworker_id_caseworker"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["app_user.id"],
            name=op.f("fk_booking_refusal_requested_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_booking_refusal_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_refusal")),
    )
    op.create_index(
        op.f("ix_booking_refusal_site_id"), "booking_refusal", ["site_id"], unique=False
    )
    op.create_index(
        "ix_booking_refusal_site_start", "booking_refusal", ["site_id", "start"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_booking_refusal_site_start", table_name="booking_refusal")
    op.drop_index(op.f("ix_booking_refusal_site_id"), table_name="booking_refusal")
    op.drop_table("booking_refusal")
    op.drop_index("ix_trip_tour_confirmation", table_name="trip")
    op.drop_index(op.f("ix_trip_vehicle_id"), table_name="trip")
    op.drop_index(op.f("ix_trip_site_id"), table_name="trip")
    op.drop_index("ix_trip_date", table_name="trip")
    op.drop_index(op.f("ix_trip_caseworker_id"), table_name="trip")
    op.drop_index(op.f("ix_trip_booking_id"), table_name="trip")
    op.drop_table("trip")
    if op.get_bind().dialect.name == "postgresql":
        # The extension stays: other schemas of the database may use it.
        op.execute(f"ALTER TABLE vehicle_booking DROP CONSTRAINT {EXCLUSION}")
    with op.batch_alter_table("vehicle_booking") as batch_op:
        batch_op.drop_index(op.f("ix_vehicle_booking_caseworker_id"))
        batch_op.drop_constraint(op.f("ck_vehicle_booking_cancelled_when"), type_="check")
        batch_op.drop_constraint(op.f("ck_vehicle_booking_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_vehicle_booking_blocked_until_after_end"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_vehicle_booking_caseworker_id_caseworker"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_vehicle_booking_booked_by_id_app_user"), type_="foreignkey"
        )
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("purpose")
        batch_op.drop_column("caseworker_id")
        batch_op.drop_column("booked_by_id")
        batch_op.drop_column("status")
        batch_op.drop_column("blocked_until")
    with op.batch_alter_table("vehicle") as batch_op:
        batch_op.drop_column("retired_at")
