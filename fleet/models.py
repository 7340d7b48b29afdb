"""Tables of the shared fleet: vehicles, the times they are blocked, and their bookings.

fleet imports nothing of scheduler. A vehicle is stationed at a site and a booking made
by a plan belongs to one of its tours; both tables are scheduler's, so the foreign keys
name them as tables (``site.id``, ``tour (plan_id, key)``) without a Python import and
without relationships into scheduler's classes.

Every instant is timezone-aware UTC (``core.db.UTCDateTime``); intervals are half-open,
``start`` <= t < ``end``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utc_now
from fleet.modes import FLEET_VEHICLE_KINDS, MODES, FleetVehicleKind, Mode

BookingSource = Literal["plan", "adhoc"]
BOOKING_SOURCES: tuple[BookingSource, ...] = get_args(BookingSource)
BookingStatus = Literal["active", "cancelled"]
BOOKING_STATUSES: tuple[BookingStatus, ...] = get_args(BookingStatus)
TripSource = Literal["tour", "adhoc"]
TRIP_SOURCES: tuple[TripSource, ...] = get_args(TripSource)
#: Why a request for a vehicle found none: every vehicle of the kind was booked or in
#: maintenance at that time, or none had the range left that day.
RefusalOutcome = Literal["refused", "moved"]
REFUSAL_OUTCOMES: tuple[RefusalOutcome, ...] = get_args(RefusalOutcome)


#: The PostgreSQL exclusion constraint that keeps a vehicle's active bookings apart.
EXCLUSION_NAME = "ex_vehicle_booking_no_overlap"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Vehicle(Base):
    """A pool vehicle (e-car, e-bike, conventional car) stationed at a site."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The planning format's vehicle id (``ecar-enn-1``), unique in the organisation.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[FleetVehicleKind] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    #: The most km it may cover on one date (it charges overnight).
    range_km: Mapped[float]
    #: For energy reports of electric vehicles; unknown for many pool vehicles.
    consumption_kwh_per_100km: Mapped[float | None]
    #: Minutes kept free between two bookings (key handover, plugging in).
    handover_buffer_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Retired vehicles stay for the history of their bookings but are not planned.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: When it was retired (usage reports stop counting its available hours there).
    retired_at: Mapped[datetime | None]

    blocks: Mapped[list[VehicleBlock]] = relationship(
        back_populates="vehicle",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="VehicleBlock.start",
    )

    __table_args__ = (
        CheckConstraint(_one_of("kind", FLEET_VEHICLE_KINDS), name="kind"),
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


def _booking_end(context: DefaultExecutionContext) -> datetime:
    # A booking written without its blocked-until instant blocks no buffer.
    end: datetime = context.get_current_parameters()["end"]  # type: ignore[no-untyped-call]
    return end


class VehicleBooking(Base):
    """A vehicle reserved for an interval: by a published plan's tour, or ad hoc.

    A ``plan`` booking names its plan and tour (``plan_id``, ``tour_key``, a foreign key
    to that tour, deleted with it); an ``adhoc`` booking names neither.

    ``blocked_until`` is ``end`` plus the vehicle's handover buffer at booking time: the
    vehicle is taken from ``start`` until then. On PostgreSQL an exclusion constraint
    keeps the taken intervals of a vehicle's active bookings apart, so no writer, however
    it gets there, can double-book; on SQLite ``fleet.bookings.book`` checks inside a
    write transaction (``core.db.write_transaction``). A cancelled booking keeps its row
    (who booked and cancelled what stays visible) but frees the slot.
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
    blocked_until: Mapped[datetime] = mapped_column(default=_booking_end)
    status: Mapped[BookingStatus] = mapped_column(
        String(16), default="active", server_default="active"
    )
    #: Who made the booking (a user; None for the command line and published plans).
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    #: Who drives; a caseworker user books only for themselves.
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL"), index=True
    )
    #: What for, in the booker's words; never a family's name or address.
    purpose: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    cancelled_at: Mapped[datetime | None]

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
        CheckConstraint('blocked_until >= "end"', name="blocked_until_after_end"),
        CheckConstraint(_one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"
        ),
        Index("ix_vehicle_booking_vehicle_start", "vehicle_id", "start"),
        Index("ix_vehicle_booking_plan_tour", "plan_id", "tour_key"),
        # PostgreSQL only (btree_gist); the migration creates the extension.
        ExcludeConstraint(
            (literal_column("vehicle_id"), "="),
            (func.tstzrange(literal_column("start"), literal_column("blocked_until")), "&&"),
            name=EXCLUSION_NAME,
            using="gist",
            where=text("status = 'active'"),
        ).ddl_if(dialect="postgresql"),
    )


class Trip(Base):
    """One trip as the trip log states it: a confirmed tour, an ad-hoc trip, a correction.

    Records are never edited in place. A correction is a new record whose
    ``corrects_id`` names the record it replaces; the *current* record of a trip is the
    one no other record corrects. A confirmation of a published plan's tour names it
    (``plan_id``, ``tour_key``; not a foreign key: the log outlives the plan), so each
    tour has at most one original confirmation. A published tour without one counts as
    planned in reports, flagged as such. Only staff appear here, never a household.
    """

    __tablename__ = "trip"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[TripSource] = mapped_column(String(8))
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    #: The local date of the trip (the site's timezone).
    date: Mapped[date] = mapped_column(Date)
    mode: Mapped[Mode] = mapped_column(String(16))
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="RESTRICT"), index=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle_booking.id", ondelete="SET NULL"), index=True
    )
    plan_id: Mapped[int | None]
    tour_key: Mapped[str | None] = mapped_column(String(200))
    km_planned: Mapped[float | None]
    #: The km this record states: as driven (odometer end - start when both are given).
    km: Mapped[float]
    odometer_start: Mapped[float | None]
    odometer_end: Mapped[float | None]
    #: False: planned only (not yet confirmed by the caseworker).
    confirmed: Mapped[bool] = mapped_column(default=True, server_default=true())
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("trip.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_one_of("source", TRIP_SOURCES), name="source"),
        CheckConstraint(_one_of("mode", MODES), name="mode"),
        CheckConstraint("km >= 0", name="km_not_negative"),
        CheckConstraint("km_planned IS NULL OR km_planned >= 0", name="km_planned_not_negative"),
        CheckConstraint("(odometer_start IS NULL) = (odometer_end IS NULL)", name="odometer_whole"),
        CheckConstraint(
            "odometer_start IS NULL OR (odometer_start >= 0 AND odometer_end >= odometer_start)",
            name="odometer_forward",
        ),
        CheckConstraint("(plan_id IS NULL) = (tour_key IS NULL)", name="tour_whole"),
        CheckConstraint("source = 'adhoc' OR plan_id IS NOT NULL", name="tour_trip_names_its_tour"),
        CheckConstraint("corrects_id IS NULL OR corrects_id <> id", name="corrects_another"),
        # A record is replaced at most once: corrections form a chain, not a tree.
        UniqueConstraint("corrects_id"),
        # A tour is confirmed once; later changes are corrections of that record.
        Index(
            "ix_trip_tour_confirmation",
            "plan_id",
            "tour_key",
            unique=True,
            sqlite_where=text("corrects_id IS NULL AND plan_id IS NOT NULL"),
            postgresql_where=text("corrects_id IS NULL AND plan_id IS NOT NULL"),
        ),
        Index("ix_trip_date", "date"),
    )


class BookingRefusal(Base):
    """A request for a vehicle that found none free: unmet demand, for fleet decisions.

    Recorded when a booking is refused and no other vehicle of the kind at the site
    was free either, and when "find me a vehicle" finds nothing at the time asked.
    ``moved`` with its ``booking_id``: the requester took another time instead.
    """

    __tablename__ = "booking_refusal"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FleetVehicleKind] = mapped_column(String(16))
    start: Mapped[datetime]
    end: Mapped[datetime]
    km: Mapped[float] = mapped_column(default=0.0, server_default="0")
    #: ``refused``, or ``moved`` when a booking at another time replaced the request.
    outcome: Mapped[RefusalOutcome] = mapped_column(
        String(16), default="refused", server_default="refused"
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle_booking.id", ondelete="SET NULL")
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    #: The conflicts as ``BookingConflict`` reported them (German reason).
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        CheckConstraint(_one_of("kind", FLEET_VEHICLE_KINDS), name="kind"),
        CheckConstraint(_one_of("outcome", REFUSAL_OUTCOMES), name="outcome"),
        CheckConstraint('"end" > start', name="ends_after_start"),
        CheckConstraint("km >= 0", name="km_not_negative"),
        Index("ix_booking_refusal_site_start", "site_id", "start"),
    )
