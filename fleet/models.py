"""Tables of the shared fleet: vehicles, the times they are blocked, and their bookings.

fleet imports nothing of scheduler. A vehicle is stationed at a site and a booking made
by a plan belongs to one of its tours; both tables are scheduler's, so the foreign keys
name them as tables (``site.id``, ``tour (plan_id, key)``) without a Python import and
without relationships into scheduler's classes.

Every instant is timezone-aware UTC (``core.db.UTCDateTime``); intervals are half-open,
``start`` <= t < ``end``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from fleet.modes import VEHICLE_KINDS, VehicleKind

BookingSource = Literal["plan", "adhoc"]
BOOKING_SOURCES: tuple[BookingSource, ...] = get_args(BookingSource)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Vehicle(Base):
    """A pool vehicle (e-car, e-bike, conventional car) stationed at a site."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The planning format's vehicle id (``ecar-enn-1``), unique in the organisation.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[VehicleKind] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    #: The most km it may cover on one date (it charges overnight).
    range_km: Mapped[float]
    #: For energy reports of electric vehicles; unknown for many pool vehicles.
    consumption_kwh_per_100km: Mapped[float | None]
    #: Minutes kept free between two bookings (key handover, plugging in).
    handover_buffer_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Retired vehicles stay for the history of their bookings but are not planned.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    blocks: Mapped[list[VehicleBlock]] = relationship(
        back_populates="vehicle",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="VehicleBlock.start",
    )

    __table_args__ = (
        CheckConstraint(_one_of("kind", VEHICLE_KINDS), name="kind"),
        CheckConstraint("range_km > 0", name="range_km_positive"),
        CheckConstraint(
            "consumption_kwh_per_100km IS NULL OR consumption_kwh_per_100km > 0",
            name="consumption_positive",
        ),
        CheckConstraint("handover_buffer_minutes >= 0", name="handover_buffer_not_negative"),
    )


class VehicleBlock(Base):
    """A time the vehicle is not available: maintenance, or booked outside fieldwork."""

    __tablename__ = "vehicle_block"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)

    vehicle: Mapped[Vehicle] = relationship(back_populates="blocks")

    __table_args__ = (
        CheckConstraint('"end" > start', name="ends_after_start"),
        Index("ix_vehicle_block_vehicle_start", "vehicle_id", "start"),
    )


class VehicleBooking(Base):
    """A vehicle reserved for an interval: by a published plan's tour, or ad hoc.

    A ``plan`` booking names its plan and tour (``plan_id``, ``tour_key``, a foreign key
    to that tour, deleted with it); an ``adhoc`` booking names neither.
    """

    __tablename__ = "vehicle_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id", ondelete="RESTRICT"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    source: Mapped[BookingSource] = mapped_column(String(8))
    plan_id: Mapped[int | None]
    tour_key: Mapped[str | None] = mapped_column(String(200))
    km_planned: Mapped[float] = mapped_column(default=0.0, server_default="0")

    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_id", "tour_key"], ["tour.plan_id", "tour.key"], ondelete="CASCADE"
        ),
        CheckConstraint('"end" > start', name="ends_after_start"),
        CheckConstraint(_one_of("source", BOOKING_SOURCES), name="source"),
        CheckConstraint(
            "(source = 'plan' AND plan_id IS NOT NULL AND tour_key IS NOT NULL)"
            " OR (source = 'adhoc' AND plan_id IS NULL AND tour_key IS NULL)",
            name="plan_booking_names_its_tour",
        ),
        CheckConstraint("km_planned >= 0", name="km_planned_not_negative"),
        Index("ix_vehicle_booking_vehicle_start", "vehicle_id", "start"),
        Index("ix_vehicle_booking_plan_tour", "plan_id", "tour_key"),
    )
