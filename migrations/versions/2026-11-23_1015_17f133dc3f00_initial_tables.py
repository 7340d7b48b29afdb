"""Initial tables: sites, caseworkers, households, weeks, visits, plans, fleet, users, audit

Revision ID: 17f133dc3f00
Revises:
Create Date: 2026-11-23 10:15:22.795076+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "17f133dc3f00"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column(
            "detail",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"], unique=False)
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id"], unique=False)
    op.create_table(
        "planning_week",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "travel",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "emission_factors_g_per_km",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("baseline_mode", sa.String(length=16), nullable=False),
        sa.Column(
            "objective",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "baseline_mode IN ('e_car', 'e_bike', 'walk', 'car', 'private_car')",
            name=op.f("ck_planning_week_baseline_mode"),
        ),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_planning_week_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_week")),
        sa.UniqueConstraint("start", name=op.f("uq_planning_week_start")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_site_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_site_lon_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("key", name=op.f("uq_site_key")),
    )
    op.create_table(
        "caseworker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("max_visits_per_day", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "max_visits_per_day IS NULL OR max_visits_per_day >= 1",
            name=op.f("ck_caseworker_max_visits_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_caseworker_site_id_site"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseworker")),
        sa.UniqueConstraint("key", name=op.f("uq_caseworker_key")),
    )
    op.create_index(op.f("ix_caseworker_site_id"), "caseworker", ["site_id"], unique=False)
    op.create_table(
        "vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("range_km", sa.Double(), nullable=False),
        sa.Column("consumption_kwh_per_100km", sa.Double(), nullable=True),
        sa.Column("handover_buffer_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("kind IN ('e_car', 'e_bike', 'car')", name=op.f("ck_vehicle_kind")),
        sa.CheckConstraint(
            "consumption_kwh_per_100km IS NULL OR consumption_kwh_per_100km > 0",
            name=op.f("ck_vehicle_consumption_positive"),
        ),
        sa.CheckConstraint(
            "handover_buffer_minutes >= 0", name=op.f("ck_vehicle_handover_buffer_not_negative")
        ),
        sa.CheckConstraint("range_km > 0", name=op.f("ck_vehicle_range_km_positive")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_vehicle_site_id_site"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle")),
        sa.UniqueConstraint("key", name=op.f("uq_vehicle_key")),
    )
    op.create_index(op.f("ix_vehicle_site_id"), "vehicle", ["site_id"], unique=False)
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_is_date", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("end_is_date", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint('"end" > start', name=op.f("ck_absence_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_absence_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence")),
    )
    op.create_index(
        "ix_absence_caseworker_start", "absence", ["caseworker_id", "start"], unique=False
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role <> 'caseworker' OR caseworker_id IS NOT NULL",
            name=op.f("ck_app_user_caseworker_user_is_a_caseworker"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'caseworker', 'fleet_manager')",
            name=op.f("ck_app_user_role"),
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_app_user_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("caseworker_id", name=op.f("uq_app_user_caseworker_id")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
    )
    op.create_table(
        "caseworker_mode",
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "mode IN ('e_car', 'e_bike', 'walk', 'car', 'private_car')",
            name=op.f("ck_caseworker_mode_mode"),
        ),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_caseworker_mode_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("caseworker_id", "mode", name=op.f("pk_caseworker_mode")),
    )
    op.create_table(
        "caseworker_skill",
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_caseworker_skill_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("caseworker_id", "skill", name=op.f("pk_caseworker_skill")),
    )
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("primary_caseworker_id", sa.Integer(), nullable=True),
        sa.Column("available_any_time", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(lat IS NULL AND lon IS NULL) OR (lat IS NOT NULL AND lon IS NOT NULL)",
            name=op.f("ck_household_location_whole"),
        ),
        sa.CheckConstraint(
            "erased_at IS NOT NULL OR lat IS NOT NULL",
            name=op.f("ck_household_location_unless_erased"),
        ),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_household_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_household_lon_range")),
        sa.ForeignKeyConstraint(
            ["primary_caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_household_primary_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_household_site_id_site"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_household_pseudonym")),
    )
    op.create_index(
        op.f("ix_household_primary_caseworker_id"),
        "household",
        ["primary_caseworker_id"],
        unique=False,
    )
    op.create_index(op.f("ix_household_site_id"), "household", ["site_id"], unique=False)
    op.create_table(
        "vehicle_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint('"end" > start', name=op.f("ck_vehicle_block_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
            name=op.f("fk_vehicle_block_vehicle_id_vehicle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_block")),
    )
    op.create_index(
        "ix_vehicle_block_vehicle_start", "vehicle_block", ["vehicle_id", "start"], unique=False
    )
    op.create_table(
        "working_hours",
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.CheckConstraint('"end" > start', name=op.f("ck_working_hours_ends_after_start")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_working_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_working_hours_caseworker_id_caseworker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("caseworker_id", "weekday", name=op.f("pk_working_hours")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= created_at",
            name=op.f("ck_api_token_revoked_after"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)
    op.create_table(
        "household_allowed_caseworker",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_household_allowed_caseworker_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_allowed_caseworker_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "household_id", "caseworker_id", name=op.f("pk_household_allowed_caseworker")
        ),
    )
    op.create_index(
        op.f("ix_household_allowed_caseworker_caseworker_id"),
        "household_allowed_caseworker",
        ["caseworker_id"],
        unique=False,
    )
    op.create_table(
        "household_availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.CheckConstraint(
            '"end" > start', name=op.f("ck_household_availability_ends_after_start")
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_household_availability_weekday")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_availability_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_availability")),
    )
    op.create_index(
        op.f("ix_household_availability_household_id"),
        "household_availability",
        ["household_id"],
        unique=False,
    )
    op.create_table(
        "household_required_skill",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_required_skill_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", "skill", name=op.f("pk_household_required_skill")),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column(
            "sites",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("time_limit_s", sa.Double(), nullable=False),
        sa.Column("seed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "progress",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "scenario",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'published')",
            name=op.f("ck_plan_status"),
        ),
        sa.CheckConstraint("time_limit_s > 0", name=op.f("ck_plan_time_limit_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_plan_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["planning_week.id"],
            name=op.f("fk_plan_week_id_planning_week"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    op.create_index("ix_plan_status", "plan", ["status"], unique=False)
    op.create_index(op.f("ix_plan_week_id"), "plan", ["week_id"], unique=False)
    op.create_table(
        "visit_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column("earliest", sa.Date(), nullable=True),
        sa.Column("latest", sa.Date(), nullable=True),
        sa.Column("pinned_caseworker_id", sa.Integer(), nullable=True),
        sa.Column("pinned_start", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(pinned_caseworker_id IS NULL) = (pinned_start IS NULL)",
            name=op.f("ck_visit_request_pin_whole"),
        ),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_visit_request_duration_positive")),
        sa.CheckConstraint(
            "earliest IS NULL OR latest IS NULL OR latest >= earliest",
            name=op.f("ck_visit_request_window_order"),
        ),
        sa.CheckConstraint(
            "priority BETWEEN 1 AND 3", name=op.f("ck_visit_request_priority_range")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_visit_request_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pinned_caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_visit_request_pinned_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["planning_week.id"],
            name=op.f("fk_visit_request_week_id_planning_week"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_request")),
        sa.UniqueConstraint("week_id", "key", name=op.f("uq_visit_request_week_id_key")),
    )
    op.create_index(
        op.f("ix_visit_request_household_id"), "visit_request", ["household_id"], unique=False
    )
    op.create_index(
        op.f("ix_visit_request_pinned_caseworker_id"),
        "visit_request",
        ["pinned_caseworker_id"],
        unique=False,
    )
    op.create_table(
        "tour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("depart", sa.DateTime(timezone=True), nullable=False),
        sa.Column("return", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distance_km", sa.Double(), nullable=False),
        sa.Column("travel_minutes", sa.Integer(), nullable=False),
        sa.Column("co2e_kg", sa.Double(), nullable=False),
        sa.Column("baseline_co2e_kg", sa.Double(), nullable=False),
        sa.Column(
            "legs",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "mode IN ('e_car', 'e_bike', 'walk', 'car', 'private_car')", name=op.f("ck_tour_mode")
        ),
        sa.CheckConstraint('"return" >= depart', name=op.f("ck_tour_returns_after_departure")),
        sa.CheckConstraint("distance_km >= 0", name=op.f("ck_tour_distance_not_negative")),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_tour_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_tour_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
            name=op.f("fk_tour_vehicle_id_vehicle"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tour")),
        sa.UniqueConstraint("plan_id", "key", name=op.f("uq_tour_plan_id_key")),
    )
    op.create_index("ix_tour_caseworker_date", "tour", ["caseworker_id", "date"], unique=False)
    op.create_index(op.f("ix_tour_vehicle_id"), "tour", ["vehicle_id"], unique=False)
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("visit_request_id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("tour_key", sa.String(length=200), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('tentative', 'confirmed', 'cancelled')", name=op.f("ck_appointment_status")
        ),
        sa.CheckConstraint('"end" > start', name=op.f("ck_appointment_ends_after_start")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_appointment_sequence_not_negative")),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_appointment_caseworker_id_caseworker"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id", "tour_key"],
            ["tour.plan_id", "tour.key"],
            name=op.f("fk_appointment_plan_id_tour_key_tour"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_appointment_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_request_id"],
            ["visit_request.id"],
            name=op.f("fk_appointment_visit_request_id_visit_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("plan_id", "uid", name=op.f("uq_appointment_plan_id_uid")),
        sa.UniqueConstraint(
            "plan_id", "visit_request_id", name=op.f("uq_appointment_plan_id_visit_request_id")
        ),
    )
    op.create_index(
        "ix_appointment_caseworker_start", "appointment", ["caseworker_id", "start"], unique=False
    )
    op.create_index(op.f("ix_appointment_uid"), "appointment", ["uid"], unique=False)
    op.create_index(
        op.f("ix_appointment_visit_request_id"), "appointment", ["visit_request_id"], unique=False
    )
    op.create_table(
        "vehicle_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("tour_key", sa.String(length=200), nullable=True),
        sa.Column("km_planned", sa.Double(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "(source = 'plan' AND plan_id IS NOT NULL AND tour_key IS NOT NULL)"
            " OR (source = 'adhoc' AND plan_id IS NULL AND tour_key IS NULL)",
            name=op.f("ck_vehicle_booking_plan_booking_names_its_tour"),
        ),
        sa.CheckConstraint("source IN ('plan', 'adhoc')", name=op.f("ck_vehicle_booking_source")),
        sa.CheckConstraint('"end" > start', name=op.f("ck_vehicle_booking_ends_after_start")),
        sa.CheckConstraint(
            "km_planned >= 0", name=op.f("ck_vehicle_booking_km_planned_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id", "tour_key"],
            ["tour.plan_id", "tour.key"],
            name=op.f("fk_vehicle_booking_plan_id_tour_key_tour"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
            name=op.f("fk_vehicle_booking_vehicle_id_vehicle"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_booking")),
    )
    op.create_index(
        "ix_vehicle_booking_plan_tour", "vehicle_booking", ["plan_id", "tour_key"], unique=False
    )
    op.create_index(
        "ix_vehicle_booking_vehicle_start", "vehicle_booking", ["vehicle_id", "start"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_vehicle_booking_vehicle_start", table_name="vehicle_booking")
    op.drop_index("ix_vehicle_booking_plan_tour", table_name="vehicle_booking")
    op.drop_table("vehicle_booking")
    op.drop_index(op.f("ix_appointment_visit_request_id"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_uid"), table_name="appointment")
    op.drop_index("ix_appointment_caseworker_start", table_name="appointment")
    op.drop_table("appointment")
    op.drop_index(op.f("ix_tour_vehicle_id"), table_name="tour")
    op.drop_index("ix_tour_caseworker_date", table_name="tour")
    op.drop_table("tour")
    op.drop_index(op.f("ix_visit_request_pinned_caseworker_id"), table_name="visit_request")
    op.drop_index(op.f("ix_visit_request_household_id"), table_name="visit_request")
    op.drop_table("visit_request")
    op.drop_index(op.f("ix_plan_week_id"), table_name="plan")
    op.drop_index("ix_plan_status", table_name="plan")
    op.drop_table("plan")
    op.drop_table("household_required_skill")
    op.drop_index(
        op.f("ix_household_availability_household_id"), table_name="household_availability"
    )
    op.drop_table("household_availability")
    op.drop_index(
        op.f("ix_household_allowed_caseworker_caseworker_id"),
        table_name="household_allowed_caseworker",
    )
    op.drop_table("household_allowed_caseworker")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("working_hours")
    op.drop_index("ix_vehicle_block_vehicle_start", table_name="vehicle_block")
    op.drop_table("vehicle_block")
    op.drop_index(op.f("ix_household_site_id"), table_name="household")
    op.drop_index(op.f("ix_household_primary_caseworker_id"), table_name="household")
    op.drop_table("household")
    op.drop_table("caseworker_skill")
    op.drop_table("caseworker_mode")
    op.drop_table("app_user")
    op.drop_index("ix_absence_caseworker_start", table_name="absence")
    op.drop_table("absence")
    op.drop_index(op.f("ix_vehicle_site_id"), table_name="vehicle")
    op.drop_table("vehicle")
    op.drop_index(op.f("ix_caseworker_site_id"), table_name="caseworker")
    op.drop_table("caseworker")
    op.drop_table("site")
    op.drop_table("planning_week")
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_table("audit_event")
