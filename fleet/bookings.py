"""Booking the shared vehicles without double bookings: book, change, cancel, find.

The rules of a booking: the vehicle is active; no other active booking of it overlaps
the interval from ``start`` to ``blocked_until`` (its end plus the vehicle's handover
buffer), in either direction; no maintenance block overlaps ``start``..``end``; and the
km planned on the vehicle for that local date stay within its ``range_km``.

These functions never commit: the caller's unit of work decides (a publish books every
tour of a plan in one transaction). They are safe against concurrent writers when the
caller runs them in ``core.db.write_transaction``: on PostgreSQL the vehicle's row is
locked (``SELECT ... FOR NO KEY UPDATE``) before the rules are checked, and the
exclusion constraint ``ex_vehicle_booking_no_overlap`` refuses an overlap whoever
writes it (that refusal is turned into the same ``BookingConflict``); on SQLite the
write transaction holds the database's write lock from its first read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import column, func, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import record
from core.db import utc_now
from core.errors import Conflict, Infeasible, NotFound
from core.paperless import record_paperless
from fleet.emissions import default_mode_factors
from fleet.models import (
    EXCLUSION_NAME,
    BookingRefusal,
    BookingSource,
    Vehicle,
    VehicleBlock,
    VehicleBooking,
)
from fleet.modes import KIND_MODE, TRAVEL_DEFAULTS, FleetVehicleKind

ConflictKind = Literal["booking", "block", "range", "retired"]

#: The site's timezone, read by table name (fleet does not import scheduler).
_site = table("site", column("id"), column("key"), column("timezone"))


@dataclass(frozen=True, slots=True)
class BookingConflictItem:
    """One reason a booking cannot be made, for a person (German and English)."""

    vehicle: str
    #: The interval asked for.
    start: datetime
    end: datetime
    kind: ConflictKind
    #: The booking or block in the way (None for range and retired).
    booking_id: int | None
    block_id: int | None
    #: The interval it takes (the other booking's start..blocked_until, the block).
    other_start: datetime | None
    other_end: datetime | None
    reason_de: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "vehicle": self.vehicle,
            "start": _utc(self.start),
            "end": _utc(self.end),
            "kind": self.kind,
            "booking_id": self.booking_id,
            "block_id": self.block_id,
            "other_start": _utc(self.other_start) if self.other_start else None,
            "other_end": _utc(self.other_end) if self.other_end else None,
            "reason_de": self.reason_de,
            "reason_en": self.reason_en,
        }


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


class BookingConflict(Conflict):
    """The booking breaks a rule; ``conflicts`` says which and why (HTTP 409)."""

    def __init__(self, conflicts: list[BookingConflictItem]) -> None:
        self.conflicts = conflicts
        #: Set by the API when the request was recorded as unmet demand.
        self.refusal_id: int | None = None
        super().__init__("; ".join(item.reason_de for item in conflicts))


@dataclass(frozen=True, slots=True)
class Proposal:
    """A free vehicle for a trip, or a free slot of one, with the trip's emissions."""

    vehicle_id: int
    vehicle: str
    kind: FleetVehicleKind
    start: datetime
    end: datetime
    co2e_kg: float
    #: km the vehicle may still ride on that date after this trip.
    range_left_km: float


# ----------------------------------------------------------------------------- helpers


def site_zone(session: Session, site_id: int) -> ZoneInfo:
    name = session.execute(select(_site.c.timezone).where(_site.c.id == site_id)).scalar_one()
    return ZoneInfo(str(name))


def local_day(instant: datetime, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """The local date of ``instant`` and its start and end as UTC instants."""
    day = instant.astimezone(zone).date()
    first = datetime.combine(day, time(), tzinfo=zone)
    after = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return day, first, after


def _check_interval(start: datetime, end: datetime, km_planned: float) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise Infeasible(f"{name} {value.isoformat()} needs a UTC offset")
    if end <= start:
        raise Infeasible("end must be after start")
    if km_planned < 0:
        raise Infeasible("km_planned must not be negative")


def _locked_vehicle(session: Session, vehicle_id: int) -> Vehicle:
    # FOR NO KEY UPDATE: bookers of one vehicle queue here on PostgreSQL (so the range
    # and block checks below cannot go stale), while inserts that merely refer to the
    # vehicle (their foreign key takes KEY SHARE) do not wait. SQLite ignores it.
    vehicle = session.scalars(
        select(Vehicle)
        .where(Vehicle.id == vehicle_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if vehicle is None:
        raise NotFound(f"no vehicle {vehicle_id}")
    return vehicle


def _fmt(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def overlapping_bookings(
    session: Session, *, vehicle_id: int, start: datetime, end: datetime
) -> Sequence[VehicleBooking]:
    """The vehicle's active bookings that overlap ``[start, end)``, earliest first."""
    return session.scalars(
        select(VehicleBooking)
        .where(
            VehicleBooking.vehicle_id == vehicle_id,
            VehicleBooking.status == "active",
            VehicleBooking.start < end,
            VehicleBooking.end > start,
        )
        .order_by(VehicleBooking.start)
    ).all()


def overlapping_blocks(
    session: Session, *, vehicle_id: int, start: datetime, end: datetime
) -> Sequence[VehicleBlock]:
    """The vehicle's maintenance blocks that overlap ``[start, end)``, earliest first."""
    return session.scalars(
        select(VehicleBlock)
        .where(
            VehicleBlock.vehicle_id == vehicle_id,
            VehicleBlock.start < end,
            VehicleBlock.end > start,
        )
        .order_by(VehicleBlock.start)
    ).all()


def conflicts_for(
    session: Session,
    *,
    vehicle: Vehicle,
    start: datetime,
    end: datetime,
    km_planned: float,
    ignore_booking_id: int | None = None,
    zone: ZoneInfo | None = None,
) -> list[BookingConflictItem]:
    """Every rule a booking of ``vehicle`` for ``start``..``end`` would break."""
    zone = zone or site_zone(session, vehicle.site_id)
    blocked_until = end + timedelta(minutes=vehicle.handover_buffer_minutes)
    found: list[BookingConflictItem] = []

    def item(
        kind: ConflictKind,
        de: str,
        en: str,
        *,
        booking_id: int | None = None,
        block_id: int | None = None,
        other: tuple[datetime, datetime] | None = None,
    ) -> BookingConflictItem:
        return BookingConflictItem(
            vehicle=vehicle.key,
            start=start,
            end=end,
            kind=kind,
            booking_id=booking_id,
            block_id=block_id,
            other_start=other[0] if other else None,
            other_end=other[1] if other else None,
            reason_de=de,
            reason_en=en,
        )

    if not vehicle.active:
        found.append(
            item(
                "retired",
                f"{vehicle.key} ist außer Dienst gestellt",
                f"{vehicle.key} is retired",
            )
        )
    others = select(VehicleBooking).where(
        VehicleBooking.vehicle_id == vehicle.id,
        VehicleBooking.status == "active",
        VehicleBooking.start < blocked_until,
        VehicleBooking.blocked_until > start,
    )
    if ignore_booking_id is not None:
        others = others.where(VehicleBooking.id != ignore_booking_id)
    for other in session.scalars(others.order_by(VehicleBooking.start)):
        span = f"{_fmt(other.start, zone)} bis {_fmt(other.blocked_until, zone)}"
        span_en = f"{_fmt(other.start, zone)} to {_fmt(other.blocked_until, zone)}"
        found.append(
            item(
                "booking",
                f"{vehicle.key} ist von {span} belegt (Buchung {other.id}, mit Übergabezeit)",
                f"{vehicle.key} is taken from {span_en} (booking {other.id}, handover included)",
                booking_id=other.id,
                other=(other.start, other.blocked_until),
            )
        )
    for block in overlapping_blocks(session, vehicle_id=vehicle.id, start=start, end=end):
        why = f": {block.reason}" if block.reason else ""
        span = f"{_fmt(block.start, zone)} bis {_fmt(block.end, zone)}"
        span_en = f"{_fmt(block.start, zone)} to {_fmt(block.end, zone)}"
        found.append(
            item(
                "block",
                f"{vehicle.key} ist von {span} nicht verfügbar (Wartung{why})",
                f"{vehicle.key} is unavailable from {span_en} (maintenance{why})",
                block_id=block.id,
                other=(block.start, block.end),
            )
        )
    used = day_km(
        session,
        vehicle_id=vehicle.id,
        instant=start,
        zone=zone,
        ignore_booking_id=ignore_booking_id,
    )
    if used + km_planned > vehicle.range_km + 1e-9:
        day = start.astimezone(zone).date()
        found.append(
            item(
                "range",
                f"{vehicle.key} hätte am {day:%d.%m.%Y} {used + km_planned:g} km geplant, "
                f"Reichweite {vehicle.range_km:g} km ({used:g} km schon gebucht)",
                f"{vehicle.key} would have {used + km_planned:g} km planned on {day}, "
                f"range {vehicle.range_km:g} km ({used:g} km booked already)",
            )
        )
    return found


def day_km(
    session: Session,
    *,
    vehicle_id: int,
    instant: datetime,
    zone: ZoneInfo,
    ignore_booking_id: int | None = None,
) -> float:
    """km planned by the vehicle's active bookings that start on ``instant``'s local date."""
    _, first, after = local_day(instant, zone)
    query = select(func.coalesce(func.sum(VehicleBooking.km_planned), 0.0)).where(
        VehicleBooking.vehicle_id == vehicle_id,
        VehicleBooking.status == "active",
        VehicleBooking.start >= first,
        VehicleBooking.start < after,
    )
    if ignore_booking_id is not None:
        query = query.where(VehicleBooking.id != ignore_booking_id)
    return float(session.scalar(query) or 0.0)


def _is_exclusion(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == EXCLUSION_NAME


def _flush_booking(
    session: Session, booking: VehicleBooking, vehicle: Vehicle, km_planned: float
) -> None:
    """Write the booking in a SAVEPOINT: a refusal by the exclusion constraint leaves the
    caller's transaction usable and becomes a ``BookingConflict``."""
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError as error:
        if not _is_exclusion(error):
            raise
        found = conflicts_for(
            session,
            vehicle=vehicle,
            start=booking.start,
            end=booking.end,
            km_planned=km_planned,
            ignore_booking_id=booking.id,
        )
        if not found:
            found = [
                BookingConflictItem(
                    vehicle=vehicle.key,
                    start=booking.start,
                    end=booking.end,
                    kind="booking",
                    booking_id=None,
                    block_id=None,
                    other_start=None,
                    other_end=None,
                    reason_de=f"{vehicle.key} wurde gleichzeitig anderweitig gebucht",
                    reason_en=f"{vehicle.key} was booked by someone else at the same time",
                )
            ]
        raise BookingConflict(found) from error


# ------------------------------------------------------------------------ the services


def book(
    session: Session,
    *,
    vehicle_id: int,
    start: datetime,
    end: datetime,
    source: BookingSource,
    plan_id: int | None = None,
    tour_key: str | None = None,
    km_planned: float = 0.0,
    booked_by_id: int | None = None,
    caseworker_id: int | None = None,
    purpose: str | None = None,
    actor: str = "system",
) -> VehicleBooking:
    """Book the vehicle for ``start``..``end`` or raise ``BookingConflict`` (nothing written).

    ``source`` is ``plan`` (then ``plan_id`` and ``tour_key`` name the published tour)
    or ``adhoc``. Writes an audit event as ``actor``. Does not commit.
    """
    _check_interval(start, end, km_planned)
    if (source == "plan") != (plan_id is not None and tour_key is not None):
        raise Infeasible("a plan booking names its plan and tour; an ad-hoc booking neither")
    vehicle = _locked_vehicle(session, vehicle_id)
    found = conflicts_for(session, vehicle=vehicle, start=start, end=end, km_planned=km_planned)
    if found:
        raise BookingConflict(found)
    booking = VehicleBooking(
        vehicle_id=vehicle.id,
        start=start,
        end=end,
        blocked_until=end + timedelta(minutes=vehicle.handover_buffer_minutes),
        source=source,
        plan_id=plan_id,
        tour_key=tour_key,
        km_planned=km_planned,
        booked_by_id=booked_by_id,
        caseworker_id=caseworker_id,
        purpose=purpose,
        status="active",
    )
    _flush_booking(session, booking, vehicle, km_planned)
    record(
        session=session,
        actor=actor,
        user_id=booked_by_id,
        action="create",
        entity="vehicle_booking",
        entity_id=str(booking.id),
        detail=_detail(booking, vehicle),
    )
    if source == "adhoc":
        # Booked in fieldwork instead of on the paper list by the key box.
        record_paperless(
            session=session,
            kind="booking_online",
            site_id=vehicle.site_id,
            ref=f"booking:{booking.id}",
            at=booking.start,
        )
    return booking


def change(
    session: Session,
    *,
    booking_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    vehicle_id: int | None = None,
    km_planned: float | None = None,
    purpose: str | None = None,
    changed_by_id: int | None = None,
    actor: str = "system",
) -> VehicleBooking:
    """Move a booking (time, vehicle, km) under the same rules, or raise ``BookingConflict``."""
    booking = _booking(session, booking_id)
    if booking.status != "active":
        raise Conflict(f"booking {booking_id} is cancelled; book again instead")
    new_start = start or booking.start
    new_end = end or booking.end
    new_km = booking.km_planned if km_planned is None else km_planned
    _check_interval(new_start, new_end, new_km)
    vehicle = _locked_vehicle(session, vehicle_id or booking.vehicle_id)
    found = conflicts_for(
        session,
        vehicle=vehicle,
        start=new_start,
        end=new_end,
        km_planned=new_km,
        ignore_booking_id=booking.id,
    )
    if found:
        raise BookingConflict(found)
    before = _detail(booking, None)
    try:
        with session.begin_nested():
            booking.vehicle_id = vehicle.id
            booking.start = new_start
            booking.end = new_end
            booking.blocked_until = new_end + timedelta(minutes=vehicle.handover_buffer_minutes)
            booking.km_planned = new_km
            if purpose is not None:
                booking.purpose = purpose
            session.flush()
    except IntegrityError as error:
        if not _is_exclusion(error):
            raise
        session.refresh(booking)
        raise BookingConflict(
            conflicts_for(
                session,
                vehicle=vehicle,
                start=new_start,
                end=new_end,
                km_planned=new_km,
                ignore_booking_id=booking.id,
            )
        ) from error
    record(
        session=session,
        actor=actor,
        user_id=changed_by_id,
        action="update",
        entity="vehicle_booking",
        entity_id=str(booking.id),
        detail={"before": before, "after": _detail(booking, vehicle)},
    )
    return booking


def cancel(
    session: Session,
    *,
    booking_id: int,
    cancelled_by_id: int | None = None,
    actor: str = "system",
) -> VehicleBooking:
    """Cancel a booking: its row stays (status ``cancelled``), its slot is free again."""
    booking = _booking(session, booking_id)
    if booking.status == "cancelled":
        raise Conflict(f"booking {booking_id} is cancelled already")
    booking.status = "cancelled"
    booking.cancelled_at = utc_now()
    session.flush()
    record(
        session=session,
        actor=actor,
        user_id=cancelled_by_id,
        action="cancel",
        entity="vehicle_booking",
        entity_id=str(booking.id),
    )
    return booking


def cancel_tour_bookings(
    session: Session, *, plan_id: int, tour_key: str | None = None, actor: str = "system"
) -> list[VehicleBooking]:
    """Cancel the active bookings of a plan (or one tour of it): a re-plan or a cancelled
    appointment frees its vehicles."""
    query = select(VehicleBooking).where(
        VehicleBooking.plan_id == plan_id, VehicleBooking.status == "active"
    )
    if tour_key is not None:
        query = query.where(VehicleBooking.tour_key == tour_key)
    bookings = list(session.scalars(query.order_by(VehicleBooking.id)))
    for booking in bookings:
        cancel(session, booking_id=booking.id, actor=actor)
    return bookings


def _booking(session: Session, booking_id: int) -> VehicleBooking:
    booking = session.get(VehicleBooking, booking_id, populate_existing=True)
    if booking is None:
        raise NotFound(f"no booking {booking_id}")
    return booking


def _detail(booking: VehicleBooking, vehicle: Vehicle | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "vehicle_id": booking.vehicle_id,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "blocked_until": booking.blocked_until.isoformat(),
        "source": booking.source,
        "km_planned": booking.km_planned,
    }
    if vehicle is not None:
        detail["vehicle"] = vehicle.key
    if booking.plan_id is not None:
        detail["plan_id"] = booking.plan_id
        detail["tour_key"] = booking.tour_key
    if booking.caseworker_id is not None:
        detail["caseworker_id"] = booking.caseworker_id
    return detail


# --------------------------------------------------------------- maintenance, retiring


def add_block(
    session: Session,
    *,
    vehicle_id: int,
    start: datetime,
    end: datetime,
    reason: str | None,
    user_id: int | None = None,
    actor: str = "system",
) -> VehicleBlock:
    """A maintenance block; refused (``BookingConflict``) while active bookings overlap it,
    which have to be moved or cancelled first."""
    _check_interval(start, end, 0.0)
    vehicle = _locked_vehicle(session, vehicle_id)
    zone = site_zone(session, vehicle.site_id)
    overlapping = overlapping_bookings(session, vehicle_id=vehicle.id, start=start, end=end)
    if overlapping:
        raise BookingConflict(
            [
                BookingConflictItem(
                    vehicle=vehicle.key,
                    start=start,
                    end=end,
                    kind="booking",
                    booking_id=other.id,
                    block_id=None,
                    other_start=other.start,
                    other_end=other.end,
                    reason_de=f"{vehicle.key} ist von {_fmt(other.start, zone)} bis "
                    f"{_fmt(other.end, zone)} gebucht (Buchung {other.id}); erst verlegen "
                    "oder stornieren",
                    reason_en=f"{vehicle.key} is booked from {_fmt(other.start, zone)} to "
                    f"{_fmt(other.end, zone)} (booking {other.id}); move or cancel it first",
                )
                for other in overlapping
            ]
        )
    block = VehicleBlock(vehicle_id=vehicle.id, start=start, end=end, reason=reason)
    session.add(block)
    session.flush()
    record(
        session=session,
        actor=actor,
        user_id=user_id,
        action="create",
        entity="vehicle_block",
        entity_id=str(block.id),
        detail={
            "vehicle": vehicle.key,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": reason,
        },
    )
    return block


def remove_block(
    session: Session, *, block_id: int, user_id: int | None = None, actor: str = "system"
) -> None:
    block = session.get(VehicleBlock, block_id)
    if block is None:
        raise NotFound(f"no maintenance block {block_id}")
    session.delete(block)
    session.flush()
    record(
        session=session,
        actor=actor,
        user_id=user_id,
        action="delete",
        entity="vehicle_block",
        entity_id=str(block_id),
    )


def retire(
    session: Session, *, vehicle_id: int, user_id: int | None = None, actor: str = "system"
) -> tuple[Vehicle, list[VehicleBooking]]:
    """Retire a vehicle: it takes no new bookings; its future active bookings are
    returned (not cancelled: whoever made them has to find another vehicle)."""
    vehicle = _locked_vehicle(session, vehicle_id)
    if not vehicle.active:
        raise Conflict(f"vehicle {vehicle.key} is retired already")
    now = utc_now()
    vehicle.active = False
    vehicle.retired_at = now
    session.flush()
    future = list(
        session.scalars(
            select(VehicleBooking)
            .where(
                VehicleBooking.vehicle_id == vehicle.id,
                VehicleBooking.status == "active",
                VehicleBooking.end > now,
            )
            .order_by(VehicleBooking.start)
        )
    )
    record(
        session=session,
        actor=actor,
        user_id=user_id,
        action="retire",
        entity="vehicle",
        entity_id=vehicle.key,
        detail={"future_bookings": [booking.id for booking in future]},
    )
    return vehicle, future


# -------------------------------------------------------------------- find me a vehicle


def can_ride(kind: str, *, km: float, minutes: float, longest_leg_km: float) -> bool:
    """Whether a vehicle of ``kind`` covers ``km`` in ``minutes`` (its mode's average
    speed) with no leg longer than its mode's ``max_leg_km``."""
    defaults = TRAVEL_DEFAULTS[kind]
    if defaults.max_leg_km is not None and longest_leg_km > defaults.max_leg_km + 1e-9:
        return False
    return km / defaults.speed_kmh * 60 <= minutes + 1e-9


def find_vehicles(
    session: Session,
    *,
    site_id: int,
    start: datetime,
    end: datetime,
    km: float,
    longest_leg_km: float | None = None,
    kinds: tuple[FleetVehicleKind, ...] | None = None,
    slots: int = 5,
    search_days: int = 3,
) -> tuple[list[Proposal], list[Proposal], list[FleetVehicleKind]]:
    """The free vehicles of the site that can ride the trip, lowest emissions first, and,
    when none is free, up to ``slots`` free slots of the same length nearest to
    ``start`` (within ``search_days`` either side, between 06:00 and 22:00 local time).

    A trip of ``km`` in all is out and back unless ``longest_leg_km`` says otherwise.
    The third value: the kinds of the site's vehicles that could ride the trip at all,
    lowest emissions first (none free among them is unmet demand).
    """
    _check_interval(start, end, km)
    zone = site_zone(session, site_id)
    leg = km / 2 if longest_leg_km is None else longest_leg_km
    minutes = (end - start).total_seconds() / 60
    factors = default_mode_factors()
    query = select(Vehicle).where(Vehicle.site_id == site_id, Vehicle.active.is_(True))
    if kinds:
        query = query.where(Vehicle.kind.in_(kinds))
    fleet = [
        vehicle
        for vehicle in session.scalars(query.order_by(Vehicle.key))
        if vehicle.range_km + 1e-9 >= km
        and can_ride(vehicle.kind, km=km, minutes=minutes, longest_leg_km=leg)
    ]

    def proposal(vehicle: Vehicle, at: datetime) -> Proposal | None:
        until = at + (end - start)
        if conflicts_for(session, vehicle=vehicle, start=at, end=until, km_planned=km, zone=zone):
            return None
        used = day_km(session, vehicle_id=vehicle.id, instant=at, zone=zone)
        return Proposal(
            vehicle_id=vehicle.id,
            vehicle=vehicle.key,
            kind=vehicle.kind,
            start=at,
            end=until,
            co2e_kg=round(factors[KIND_MODE[vehicle.kind]] * km / 1000, 3),
            range_left_km=round(vehicle.range_km - used - km, 3),
        )

    def rank(item: Proposal) -> tuple[float, float, str]:
        return (item.co2e_kg, -item.range_left_km, item.vehicle)

    free = sorted(
        (found for vehicle in fleet if (found := proposal(vehicle, start)) is not None), key=rank
    )
    capable = sorted(
        {vehicle.kind for vehicle in fleet}, key=lambda kind: (factors[KIND_MODE[kind]], kind)
    )
    if free or not fleet:
        return free, [], capable
    length = end - start
    window = timedelta(days=search_days)
    # What each vehicle has taken around the request, read once: the slot search below
    # tries hundreds of instants, each checked in memory and only the chosen ones again
    # by ``conflicts_for``.
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    blocked: dict[int, list[tuple[datetime, datetime]]] = {}
    ridden: dict[int, dict[date, float]] = {}
    candidates: set[datetime] = set()
    for vehicle in fleet:
        takes = session.execute(
            select(
                VehicleBooking.start, VehicleBooking.blocked_until, VehicleBooking.km_planned
            ).where(
                VehicleBooking.vehicle_id == vehicle.id,
                VehicleBooking.status == "active",
                VehicleBooking.blocked_until > start - window - timedelta(days=1),
                VehicleBooking.start < end + window + timedelta(days=1),
            )
        ).all()
        blocks = session.execute(
            select(VehicleBlock.start, VehicleBlock.end).where(
                VehicleBlock.vehicle_id == vehicle.id,
                VehicleBlock.end > start - window,
                VehicleBlock.start < end + window,
            )
        ).all()
        taken[vehicle.id] = [(a, b) for a, b, _ in takes]
        blocked[vehicle.id] = [(a, b) for a, b in blocks]
        per_day: dict[date, float] = {}
        for taken_start, _, km_taken in takes:
            day = taken_start.astimezone(zone).date()
            per_day[day] = per_day.get(day, 0.0) + km_taken
        ridden[vehicle.id] = per_day
        for taken_start, taken_end in [*taken[vehicle.id], *blocked[vehicle.id]]:
            candidates.update({taken_end, taken_start - length})
    # Also every quarter hour of the searched days, so a slot after midnight's range
    # reset or at the start of the service day is found.
    _, first, _ = local_day(start - window, zone)
    step = first
    while step < end + window:
        candidates.add(step.astimezone(start.tzinfo))
        step += timedelta(minutes=15)

    def daytime(at: datetime) -> bool:
        local_start, local_end = at.astimezone(zone), (at + length).astimezone(zone)
        return (
            local_start.date() == local_end.date()
            and local_start.time() >= time(6)
            and local_end.time() <= time(22)
        )

    def looks_free(vehicle: Vehicle, at: datetime) -> bool:
        until = at + length
        held = until + timedelta(minutes=vehicle.handover_buffer_minutes)
        if any(a < held and b > at for a, b in taken[vehicle.id]):
            return False
        if any(a < until and b > at for a, b in blocked[vehicle.id]):
            return False
        used = ridden[vehicle.id].get(at.astimezone(zone).date(), 0.0)
        return used + km <= vehicle.range_km + 1e-9

    ordered = sorted(
        (at for at in candidates if abs(at - start) <= window and at != start and daytime(at)),
        key=lambda at: (abs(at - start), at),
    )
    by_emissions = sorted(fleet, key=lambda v: (factors[KIND_MODE[v.kind]], v.key))
    nearest: list[Proposal] = []
    for at in ordered:
        for vehicle in by_emissions:
            if not looks_free(vehicle, at):
                continue
            option = proposal(vehicle, at)
            if option is not None:
                nearest.append(option)
                break
        if len(nearest) >= slots:
            break
    return [], nearest, capable


# ----------------------------------------------------------------------------- refusals


def free_vehicle_exists(
    session: Session,
    *,
    site_id: int,
    kind: FleetVehicleKind,
    start: datetime,
    end: datetime,
    km: float,
) -> bool:
    """Whether some active vehicle of ``kind`` at the site could take this booking."""
    zone = site_zone(session, site_id)
    vehicles = session.scalars(
        select(Vehicle).where(
            Vehicle.site_id == site_id, Vehicle.kind == kind, Vehicle.active.is_(True)
        )
    )
    return any(
        not conflicts_for(session, vehicle=v, start=start, end=end, km_planned=km, zone=zone)
        for v in vehicles
    )


def record_refusal(
    session: Session,
    *,
    site_id: int,
    kind: FleetVehicleKind,
    start: datetime,
    end: datetime,
    km: float,
    reason: str | None,
    requested_by_id: int | None = None,
    caseworker_id: int | None = None,
    actor: str = "system",
) -> BookingRefusal:
    """Note a request that found no vehicle of its kind (the fleet's unmet demand)."""
    refusal = BookingRefusal(
        site_id=site_id,
        kind=kind,
        start=start,
        end=end,
        km=km,
        reason=reason,
        requested_by_id=requested_by_id,
        caseworker_id=caseworker_id,
        outcome="refused",
    )
    session.add(refusal)
    session.flush()
    record(
        session=session,
        actor=actor,
        user_id=requested_by_id,
        action="refuse",
        entity="booking_refusal",
        entity_id=str(refusal.id),
        detail={"kind": kind, "start": start.isoformat(), "end": end.isoformat(), "km": km},
    )
    return refusal


def mark_moved(session: Session, *, refusal_id: int, booking: VehicleBooking) -> BookingRefusal:
    """The requester took another slot (``booking``) instead of the refused one."""
    refusal = session.get(BookingRefusal, refusal_id)
    if refusal is None:
        raise NotFound(f"no refused request {refusal_id}")
    if refusal.outcome == "moved":
        raise Conflict(f"refused request {refusal_id} was moved to booking {refusal.booking_id}")
    refusal.outcome = "moved"
    refusal.booking_id = booking.id
    session.flush()
    return refusal
