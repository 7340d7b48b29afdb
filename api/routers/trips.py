"""The trip log: confirm a tour, log an ad-hoc trip, correct a record, list trips.

A caseworker confirms, logs and corrects only their own trips and sees only those;
coordinators and admins may do so for anyone; fleet managers see every trip and may
correct one (an odometer read at the car park), as trips hold no household data.
Records are never edited: a correction is a new record (``POST /trips/{id}/corrections``)
and the list shows the current records unless ``all=true``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.crud import KeyFilter, Limit, Offset, RecordId, page, referenced
from api.deps import CurrentUser, SessionDep
from api.schemas import (
    Page,
    PlannedTripPublic,
    TripAdhoc,
    TripConfirm,
    TripCorrection,
    TripHistory,
    TripPublic,
)
from core.db import transaction
from core.errors import Infeasible, NotFound
from fleet.models import Trip, Vehicle
from fleet.trips import (
    confirm_tour,
    correct,
    current_trips,
    history,
    is_current,
    log_adhoc,
    planned_tours,
    published_tour,
)
from scheduler.models import Caseworker, Site, User

router = APIRouter(prefix="/trips", tags=["trips"])

READERS = ("admin", "coordinator", "fleet_manager", "caseworker")
LOGGERS = ("admin", "coordinator", "caseworker")
CORRECTORS = ("admin", "coordinator", "fleet_manager", "caseworker")


def _allowed(user: User, roles: tuple[str, ...]) -> None:
    if user.role not in roles:
        raise HTTPException(403, f"the role {user.role} may not do this")


def _own(user: User, caseworker_id: int | None) -> None:
    """A caseworker acts on their own trips only (others' are 404, as if missing)."""
    if user.role == "caseworker" and caseworker_id != user.caseworker_id:
        raise NotFound("no such trip of yours")


def public(session: Session, trip: Trip, current: bool | None = None) -> TripPublic:
    caseworker = session.get(Caseworker, trip.caseworker_id) if trip.caseworker_id else None
    site = session.get(Site, trip.site_id)
    vehicle = session.get(Vehicle, trip.vehicle_id) if trip.vehicle_id else None
    recorder = session.get(User, trip.recorded_by_id) if trip.recorded_by_id else None
    assert site is not None
    return TripPublic(
        id=trip.id,
        source=trip.source,
        caseworker=caseworker.key if caseworker else None,
        site=site.key,
        date=trip.date,
        mode=trip.mode,
        vehicle=vehicle.key if vehicle else None,
        booking_id=trip.booking_id,
        plan_id=trip.plan_id,
        tour_key=trip.tour_key,
        km_planned=trip.km_planned,
        km=trip.km,
        odometer_start=trip.odometer_start,
        odometer_end=trip.odometer_end,
        confirmed=trip.confirmed,
        corrects_id=trip.corrects_id,
        current=is_current(session, trip) if current is None else current,
        recorded_at=trip.recorded_at,
        recorded_by=recorder.name if recorder else None,
        note=trip.note,
    )


@router.post("/confirm", status_code=201)
def confirm(session: SessionDep, user: CurrentUser, body: TripConfirm) -> TripPublic:
    """Confirm a published tour: actual km (or odometer start and end) and mode."""
    _allowed(user, LOGGERS)
    tour = published_tour(session, plan_id=body.plan_id, tour_key=body.tour)
    _own(user, tour.caseworker_id)
    with transaction(session):
        trip = confirm_tour(
            session,
            plan_id=body.plan_id,
            tour_key=body.tour,
            mode=body.mode,
            km=body.km,
            odometer_start=body.odometer_start,
            odometer_end=body.odometer_end,
            note=body.note,
            recorded_by_id=user.id,
            actor=user.name,
        )
    return public(session, trip, current=True)


@router.post("", status_code=201)
def log_trip(session: SessionDep, user: CurrentUser, body: TripAdhoc) -> TripPublic:
    """An ad-hoc trip (not in a plan), with or without a pool vehicle or its booking."""
    _allowed(user, LOGGERS)
    if body.caseworker is None:
        if user.caseworker_id is None:
            raise Infeasible("caseworker: whose trip is it?")
        caseworker_id = user.caseworker_id
    else:
        caseworker_id = referenced(
            session, Caseworker, Caseworker.key, body.caseworker, "caseworker"
        ).id
        if user.role == "caseworker" and caseworker_id != user.caseworker_id:
            raise HTTPException(403, "a caseworker logs their own trips only")
    vehicle_id = None
    if body.vehicle is not None:
        vehicle_id = referenced(session, Vehicle, Vehicle.key, body.vehicle, "vehicle").id
    with transaction(session):
        trip = log_adhoc(
            session,
            caseworker_id=caseworker_id,
            day=body.date,
            mode=body.mode,
            km=body.km,
            odometer_start=body.odometer_start,
            odometer_end=body.odometer_end,
            vehicle_id=vehicle_id,
            booking_id=body.booking_id,
            note=body.note,
            recorded_by_id=user.id,
            actor=user.name,
        )
    return public(session, trip, current=True)


@router.post("/{trip_id}/corrections", status_code=201)
def correct_trip(
    session: SessionDep, user: CurrentUser, trip_id: RecordId, body: TripCorrection
) -> TripPublic:
    """A new record replacing the current record ``trip_id`` (which stays, audited)."""
    _allowed(user, CORRECTORS)
    old = session.get(Trip, trip_id)
    if old is None:
        raise NotFound(f"no trip {trip_id}")
    _own(user, old.caseworker_id)
    with transaction(session):
        trip = correct(
            session,
            trip_id=trip_id,
            note=body.note,
            mode=body.mode,
            km=body.km,
            odometer_start=body.odometer_start,
            odometer_end=body.odometer_end,
            day=body.date,
            recorded_by_id=user.id,
            actor=user.name,
        )
    return public(session, trip, current=True)


def _filtered(
    session: Session,
    user: User,
    query: Select[Trip],
    caseworker: str | None,
    site: str | None,
    vehicle: str | None,
) -> Select[Trip]:
    if user.role == "caseworker":
        query = query.where(Trip.caseworker_id == user.caseworker_id)
    if caseworker is not None:
        query = query.where(
            Trip.caseworker_id.in_(select(Caseworker.id).where(Caseworker.key == caseworker))
        )
    if site is not None:
        query = query.where(Trip.site_id.in_(select(Site.id).where(Site.key == site)))
    if vehicle is not None:
        query = query.where(Trip.vehicle_id.in_(select(Vehicle.id).where(Vehicle.key == vehicle)))
    return query


@router.get("")
def list_trips(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    caseworker: KeyFilter = None,
    site: KeyFilter = None,
    vehicle: KeyFilter = None,
    all_records: Annotated[
        bool, Query(alias="all", description="also the records corrections replaced")
    ] = False,
) -> Page[TripPublic]:
    _allowed(user, READERS)
    query = select(Trip) if all_records else current_trips()
    query = _filtered(session, user, query, caseworker, site, vehicle)
    if first is not None:
        query = query.where(Trip.date >= first)
    if last is not None:
        query = query.where(Trip.date <= last)
    rows, total = page(session, query.order_by(Trip.date, Trip.id), limit, offset)
    return Page(
        items=[public(session, row, current=None if all_records else True) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/planned")
def list_planned(
    session: SessionDep,
    user: CurrentUser,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    site: KeyFilter = None,
) -> list[PlannedTripPublic]:
    """Tours of published plans nobody has confirmed yet (counted as planned)."""
    _allowed(user, READERS)
    if last < first:
        raise Infeasible("query.to: the period ends before it starts")
    if (last - first).days > 366:
        raise Infeasible("query.to: at most a year at a time")
    site_ids = None
    if site is not None:
        site_ids = [referenced(session, Site, Site.key, site, "site").id]
    tours = planned_tours(
        session,
        first=first,
        last=last,
        site_ids=site_ids,
        caseworker_id=user.caseworker_id if user.role == "caseworker" else None,
    )
    caseworkers = dict(session.execute(select(Caseworker.id, Caseworker.key)).all())
    sites = dict(session.execute(select(Site.id, Site.key)).all())
    vehicles = dict(session.execute(select(Vehicle.id, Vehicle.key)).all())
    return [
        PlannedTripPublic(
            plan_id=tour.plan_id,
            tour_key=tour.tour_key,
            caseworker=caseworkers[tour.caseworker_id],
            site=sites[tour.site_id],
            date=tour.date,
            mode=tour.mode,
            vehicle=vehicles.get(tour.vehicle_id) if tour.vehicle_id else None,
            km_planned=tour.km_planned,
        )
        for tour in tours
    ]


@router.get("/{trip_id}")
def read_trip(session: SessionDep, user: CurrentUser, trip_id: RecordId) -> TripHistory:
    """A trip record with every record of its trip (the corrections), oldest first."""
    _allowed(user, READERS)
    trip = session.get(Trip, trip_id)
    if trip is None:
        raise NotFound(f"no trip {trip_id}")
    _own(user, trip.caseworker_id)
    chain = history(session, trip_id=trip_id)
    records = [public(session, item, current=item is chain[-1]) for item in chain]
    return TripHistory(current=records[-1], records=records)
