"""The trip log: confirmed tours, ad-hoc trips, corrections; planned tours not yet confirmed.

A record is never edited. A correction is a new record naming the one it replaces
(``corrects_id``); the current record of a trip is the one no other record corrects.
Every record written here is audited. These functions never commit.

Tours belong to scheduler, which fleet does not import: the published plans' tours are
read by table name (``tour``, ``plan``), as the foreign keys of ``fleet.models`` name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, and_, column, exists, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core.audit import record
from core.errors import Conflict, Infeasible, NotFound
from core.paperless import record_paperless
from fleet.models import Trip, Vehicle, VehicleBooking
from fleet.modes import KIND_MODE, MODES_WITH_VEHICLE, Mode

_tour = table(
    "tour",
    column("plan_id"),
    column("key"),
    column("caseworker_id"),
    column("date"),
    column("mode"),
    column("vehicle_id"),
    column("distance_km"),
    column("depart"),
)
_plan = table("plan", column("id"), column("status"), column("week_id"))
# The same tables once more, for a tour of an earlier plan of the same week.
_earlier = table(
    "tour", column("plan_id"), column("key"), column("caseworker_id"), column("date")
).alias("earlier_tour")
_earlier_plan = table("plan", column("id"), column("week_id")).alias("earlier_plan")
_caseworker = table("caseworker", column("id"), column("key"), column("site_id"))


@dataclass(frozen=True, slots=True)
class PlannedTour:
    """A published tour nobody has confirmed yet: counted as planned, flagged as such."""

    plan_id: int
    tour_key: str
    caseworker_id: int
    site_id: int
    date: date
    mode: str
    vehicle_id: int | None
    km_planned: float


def current_trips() -> Select[Trip]:
    """The current records: those no other record corrects."""
    newer = aliased(Trip)
    return select(Trip).where(~exists(select(newer.id).where(newer.corrects_id == Trip.id)))


def _published_tours() -> Select[Any]:
    """Tours of published plans, with the columns a ``PlannedTour`` is made of."""
    return (
        select(
            _tour.c.plan_id,
            _tour.c.key,
            _tour.c.caseworker_id,
            _caseworker.c.site_id,
            _tour.c.date,
            _tour.c.mode,
            _tour.c.vehicle_id,
            _tour.c.distance_km,
        )
        .join(_plan, _plan.c.id == _tour.c.plan_id)
        .join(_caseworker, _caseworker.c.id == _tour.c.caseworker_id)
        .where(_plan.c.status == "published")
    )


def _planned_tour(row: Any) -> PlannedTour:
    return PlannedTour(
        plan_id=int(row[0]),
        tour_key=str(row[1]),
        caseworker_id=int(row[2]),
        site_id=int(row[3]),
        date=_as_date(row[4]),
        mode=str(row[5]),
        vehicle_id=None if row[6] is None else int(row[6]),
        km_planned=float(row[7]),
    )


def published_tour(session: Session, *, plan_id: int, tour_key: str) -> PlannedTour:
    row = session.execute(
        _published_tours().where(_tour.c.plan_id == plan_id, _tour.c.key == tour_key)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no published tour {tour_key} in plan {plan_id}")
    return _planned_tour(row)


def confirmed_under(session: Session, tour: PlannedTour) -> int | None:
    """The earlier plan of the tour's week under which a trip confirmed the same tour
    (same key, caseworker and date; a re-plan carried it over), or None."""
    week = select(_plan.c.week_id).where(_plan.c.id == tour.plan_id).scalar_subquery()
    plan_id = session.scalar(
        select(Trip.plan_id)
        .join(_earlier, (_earlier.c.plan_id == Trip.plan_id) & (_earlier.c.key == Trip.tour_key))
        .join(_earlier_plan, _earlier_plan.c.id == _earlier.c.plan_id)
        .where(
            Trip.tour_key == tour.tour_key,
            Trip.plan_id != tour.plan_id,
            _earlier.c.caseworker_id == tour.caseworker_id,
            _earlier.c.date == tour.date,
            _earlier_plan.c.week_id == week,
        )
        .order_by(Trip.id)
        .limit(1)
    )
    return None if plan_id is None else int(plan_id)


def _as_date(value: Any) -> date:
    # A lightweight table has no types: SQLite hands back the ISO text.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def planned_tours(
    session: Session,
    *,
    first: date,
    last: date,
    site_ids: list[int] | None = None,
    caseworker_id: int | None = None,
) -> list[PlannedTour]:
    """Tours of published plans on ``first``..``last`` that no trip confirms yet.

    A re-plan carries a tour over into the new plan (same key, caseworker and date): a
    trip that confirmed it under an earlier plan of the week confirms it still.
    """
    confirmed = exists(
        select(Trip.id).where(Trip.plan_id == _tour.c.plan_id, Trip.tour_key == _tour.c.key)
    ) | exists(
        select(Trip.id)
        .join(_earlier, (_earlier.c.plan_id == Trip.plan_id) & (_earlier.c.key == Trip.tour_key))
        .join(_earlier_plan, _earlier_plan.c.id == _earlier.c.plan_id)
        .where(
            Trip.tour_key == _tour.c.key,
            _earlier.c.caseworker_id == _tour.c.caseworker_id,
            _earlier.c.date == _tour.c.date,
            _earlier_plan.c.week_id == _plan.c.week_id,
        )
    )
    query = (
        _published_tours()
        .where(_tour.c.date >= first, _tour.c.date <= last, ~confirmed)
        .order_by(_tour.c.date, _tour.c.key)
    )
    if site_ids is not None:
        query = query.where(_caseworker.c.site_id.in_(site_ids))
    if caseworker_id is not None:
        query = query.where(_tour.c.caseworker_id == caseworker_id)
    return [_planned_tour(row) for row in session.execute(query)]


def caseworker_site(session: Session, caseworker_id: int) -> int:
    site_id = session.scalar(select(_caseworker.c.site_id).where(_caseworker.c.id == caseworker_id))
    if site_id is None:
        raise Infeasible(f"unknown caseworker {caseworker_id}")
    return int(site_id)


def _km(km: float | None, odometer_start: float | None, odometer_end: float | None) -> float:
    """The km a record states: given, or the odometer's difference (both must agree)."""
    if (odometer_start is None) != (odometer_end is None):
        raise Infeasible("odometer_start and odometer_end go together")
    if odometer_start is not None and odometer_end is not None:
        if odometer_start < 0 or odometer_end < odometer_start:
            raise Infeasible("the odometer must not run backwards (odometer_end >= odometer_start)")
        driven = round(odometer_end - odometer_start, 3)
        if km is not None and abs(km - driven) > 0.05:
            raise Infeasible(f"km {km:g} disagrees with the odometer ({driven:g} km)")
        return driven
    if km is None:
        raise Infeasible("give km or odometer_start and odometer_end")
    if km < 0:
        raise Infeasible("km must not be negative")
    return km


def _vehicle_for(
    session: Session, *, mode: str, vehicle_id: int | None, booking_id: int | None
) -> tuple[int | None, int | None]:
    """The vehicle and booking of a trip, checked against each other and the mode."""
    booking: VehicleBooking | None = None
    if booking_id is not None:
        booking = session.get(VehicleBooking, booking_id)
        if booking is None:
            raise Infeasible(f"unknown booking {booking_id}")
        if vehicle_id is not None and vehicle_id != booking.vehicle_id:
            raise Infeasible(f"booking {booking_id} is for another vehicle")
        vehicle_id = booking.vehicle_id
    if vehicle_id is not None:
        vehicle = session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise Infeasible(f"unknown vehicle {vehicle_id}")
        # A cargo bike's trips are e-bike trips (``KIND_MODE``).
        if KIND_MODE[vehicle.kind] != mode:
            raise Infeasible(f"vehicle {vehicle.key} is a {vehicle.kind}, the trip says {mode}")
    if mode not in MODES_WITH_VEHICLE and vehicle_id is not None:
        raise Infeasible(f"mode {mode} takes no vehicle")
    return vehicle_id, booking_id


def _write(session: Session, trip: Trip, *, actor: str, action: str) -> Trip:
    try:
        with session.begin_nested():
            session.add(trip)
            session.flush()
    except IntegrityError as error:
        if trip.corrects_id is not None:
            raise Conflict(
                f"trip record {trip.corrects_id} has been corrected already; "
                "correct the current record"
            ) from error
        raise Conflict(
            f"tour {trip.tour_key} of plan {trip.plan_id} is confirmed already; "
            "correct that record instead"
        ) from error
    record(
        session=session,
        actor=actor,
        user_id=trip.recorded_by_id,
        action=action,
        entity="trip",
        entity_id=str(trip.id),
        detail=trip_detail(trip),
    )
    if trip.corrects_id is None:
        # Logged in fieldwork instead of a line in the paper log book (a correction
        # replaces a line, it adds none).
        # Dated by the trip, as its log-book line would be, so the step counts in the
        # report period of the trip's km.
        record_paperless(
            session=session,
            kind="trip_confirmed",
            site_id=trip.site_id,
            ref=f"trip:{trip.id}",
            at=datetime.combine(trip.date, time(12), UTC),
        )
    return trip


def trip_detail(trip: Trip) -> dict[str, Any]:
    return {
        "source": trip.source,
        "caseworker_id": trip.caseworker_id,
        "date": trip.date.isoformat(),
        "mode": trip.mode,
        "vehicle_id": trip.vehicle_id,
        "booking_id": trip.booking_id,
        "plan_id": trip.plan_id,
        "tour_key": trip.tour_key,
        "km": trip.km,
        "odometer_start": trip.odometer_start,
        "odometer_end": trip.odometer_end,
        "confirmed": trip.confirmed,
        "corrects_id": trip.corrects_id,
        "note": trip.note,
    }


def confirm_tour(
    session: Session,
    *,
    plan_id: int,
    tour_key: str,
    mode: Mode | None = None,
    km: float | None = None,
    odometer_start: float | None = None,
    odometer_end: float | None = None,
    note: str | None = None,
    recorded_by_id: int | None = None,
    actor: str = "system",
) -> Trip:
    """Confirm a published tour in one step: actual km (or odometer) and mode.

    The mode defaults to the planned one; a tour is confirmed once (a second
    confirmation is a ``Conflict``: correct the first instead).
    """
    tour = published_tour(session, plan_id=plan_id, tour_key=tour_key)
    earlier = confirmed_under(session, tour)
    if earlier is not None:
        raise Conflict(
            f"tour {tour_key} was confirmed under plan {earlier} of the same week already "
            "(a re-plan kept it); correct that record instead"
        )
    chosen = mode or tour.mode
    booking_id = session.scalar(
        select(VehicleBooking.id).where(
            VehicleBooking.plan_id == plan_id,
            VehicleBooking.tour_key == tour_key,
            VehicleBooking.status == "active",
        )
    )
    vehicle_id = tour.vehicle_id if chosen == tour.mode else None
    if chosen != tour.mode:
        booking_id = None  # the booked vehicle was not used
    vehicle_id, booking_id = _vehicle_for(
        session, mode=chosen, vehicle_id=vehicle_id, booking_id=booking_id
    )
    trip = Trip(
        source="tour",
        caseworker_id=tour.caseworker_id,
        site_id=tour.site_id,
        date=tour.date,
        mode=chosen,
        vehicle_id=vehicle_id,
        booking_id=booking_id,
        plan_id=plan_id,
        tour_key=tour_key,
        km_planned=tour.km_planned,
        km=_km(km, odometer_start, odometer_end),
        odometer_start=odometer_start,
        odometer_end=odometer_end,
        confirmed=True,
        recorded_by_id=recorded_by_id,
        note=note,
    )
    return _write(session, trip, actor=actor, action="confirm")


def log_adhoc(
    session: Session,
    *,
    caseworker_id: int,
    day: date,
    mode: Mode,
    km: float | None = None,
    odometer_start: float | None = None,
    odometer_end: float | None = None,
    vehicle_id: int | None = None,
    booking_id: int | None = None,
    note: str | None = None,
    recorded_by_id: int | None = None,
    actor: str = "system",
) -> Trip:
    """An ad-hoc trip (not part of a plan), confirmed as it is logged."""
    vehicle_id, booking_id = _vehicle_for(
        session, mode=mode, vehicle_id=vehicle_id, booking_id=booking_id
    )
    km_planned = None
    if booking_id is not None:
        booking = session.get(VehicleBooking, booking_id)
        assert booking is not None
        if booking.caseworker_id is not None and booking.caseworker_id != caseworker_id:
            raise Infeasible(f"booking {booking_id} is another caseworker's")
        km_planned = booking.km_planned
    trip = Trip(
        source="adhoc",
        caseworker_id=caseworker_id,
        site_id=caseworker_site(session, caseworker_id),
        date=day,
        mode=mode,
        vehicle_id=vehicle_id,
        booking_id=booking_id,
        km_planned=km_planned,
        km=_km(km, odometer_start, odometer_end),
        odometer_start=odometer_start,
        odometer_end=odometer_end,
        confirmed=True,
        recorded_by_id=recorded_by_id,
        note=note,
    )
    return _write(session, trip, actor=actor, action="create")


_UNSET: Any = object()


def correct(
    session: Session,
    *,
    trip_id: int,
    note: str,
    mode: Mode | None = None,
    km: float | None = None,
    odometer_start: float | None = None,
    odometer_end: float | None = None,
    day: date | None = None,
    vehicle_id: int | None = _UNSET,
    recorded_by_id: int | None = None,
    actor: str = "system",
) -> Trip:
    """A new record replacing the current record ``trip_id``; the old one stays.

    Fields not given are taken over; ``note`` says why (required: a correction without
    a reason is a silent edit). Correcting a record that was corrected already is a
    ``Conflict``: the chain has one current end.
    """
    old = session.get(Trip, trip_id)
    if old is None:
        raise NotFound(f"no trip {trip_id}")
    newer = session.scalar(select(Trip.id).where(Trip.corrects_id == trip_id))
    if newer is not None:
        raise Conflict(f"trip record {trip_id} was corrected by {newer}; correct that one")
    chosen_mode = mode or old.mode
    if odometer_start is not None or odometer_end is not None:
        stated = _km(km, odometer_start, odometer_end)
        reading = (odometer_start, odometer_end)
    elif km is not None:
        stated = _km(km, None, None)
        reading = (None, None)
    else:
        stated = old.km
        reading = (old.odometer_start, old.odometer_end)
    new_vehicle = old.vehicle_id if vehicle_id is _UNSET else vehicle_id
    if mode is not None and mode != old.mode and vehicle_id is _UNSET:
        new_vehicle = None
    booking_id = old.booking_id if new_vehicle == old.vehicle_id else None
    new_vehicle, booking_id = _vehicle_for(
        session, mode=chosen_mode, vehicle_id=new_vehicle, booking_id=booking_id
    )
    trip = Trip(
        source=old.source,
        caseworker_id=old.caseworker_id,
        site_id=old.site_id,
        date=day or old.date,
        mode=chosen_mode,
        vehicle_id=new_vehicle,
        booking_id=booking_id,
        plan_id=old.plan_id,
        tour_key=old.tour_key,
        km_planned=old.km_planned,
        km=stated,
        odometer_start=reading[0],
        odometer_end=reading[1],
        confirmed=True,
        corrects_id=old.id,
        recorded_by_id=recorded_by_id,
        note=note,
    )
    return _write(session, trip, actor=actor, action="correct")


def history(session: Session, *, trip_id: int) -> list[Trip]:
    """Every record of the trip ``trip_id`` belongs to, oldest first."""
    trip = session.get(Trip, trip_id)
    if trip is None:
        raise NotFound(f"no trip {trip_id}")
    while trip.corrects_id is not None:
        older = session.get(Trip, trip.corrects_id)
        assert older is not None
        trip = older
    chain = [trip]
    while True:
        newer = session.scalars(select(Trip).where(Trip.corrects_id == chain[-1].id)).first()
        if newer is None:
            return chain
        chain.append(newer)


def is_current(session: Session, trip: Trip) -> bool:
    return not session.scalar(select(exists().where(and_(Trip.corrects_id == trip.id))))
