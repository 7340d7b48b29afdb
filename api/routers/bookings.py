"""Bookings of the shared fleet: book, change, cancel, list, and "find me a vehicle".

Who may book what: a caseworker books for themselves and sees, changes and cancels
only their own bookings; coordinators, fleet managers and admins book for anyone and
see every booking. A plan's booking changes with its plan (re-plan), not here; it can
be cancelled. Bookings hold no household data (purpose is the booker's free text).

Every booking runs in ``core.db.write_transaction``, so concurrent requests for one slot
are decided one after the other: exactly one wins, the others get 409 with the
conflicts (problem+json ``conflicts``: vehicle, interval, the booking or block in the
way, a German and an English reason). A request refused while no vehicle of that kind
at the site was free is recorded as unmet demand (the fleet's usage report).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api.crud import KeyFilter, Limit, Offset, RecordId, page, referenced
from api.deps import CurrentUser, SessionDep
from api.problems import problem
from api.schemas import (
    BookingCreate,
    BookingPublic,
    BookingUpdate,
    FindRequest,
    FindResult,
    Page,
    ProposalPublic,
)
from calendars.notify import deliver, prepare_booking_mails
from calendars.service import options_from
from core.db import write_transaction
from core.errors import Infeasible, NotFound
from fleet.bookings import (
    BookingConflict,
    Proposal,
    book,
    cancel,
    change,
    find_vehicles,
    free_vehicle_exists,
    mark_moved,
    record_refusal,
)
from fleet.models import BookingStatus, Vehicle, VehicleBooking
from fleet.modes import FLEET_VEHICLE_KINDS, TRAVEL_DEFAULTS
from scheduler.models import Caseworker, Site, User
from scheduler.travel import geodesic_km

router = APIRouter(prefix="/bookings", tags=["bookings"])

#: Roles that book for anyone and see every booking.
FLEET_STAFF = ("admin", "coordinator", "fleet_manager")


def install(app: FastAPI) -> None:
    """409 problem+json for a refused booking, with every conflict listed."""

    @app.exception_handler(BookingConflict)
    def booking_conflict(request: Request, error: BookingConflict) -> JSONResponse:
        response = problem(409, str(error), request.url.path)
        body = {
            **_json(response),
            "conflicts": [item.as_dict() for item in error.conflicts],
            "refusal_id": error.refusal_id,
        }
        return JSONResponse(body, status_code=409, media_type=response.media_type)


def _json(response: JSONResponse) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads(bytes(response.body))
    return loaded


def utc(instant: datetime) -> datetime:
    """Instants leave the API in UTC, whatever offset they came in with."""
    return instant.astimezone(UTC)


def public(session: Session, booking: VehicleBooking) -> BookingPublic:
    vehicle = session.get(Vehicle, booking.vehicle_id)
    assert vehicle is not None
    caseworker = session.get(Caseworker, booking.caseworker_id) if booking.caseworker_id else None
    booker = session.get(User, booking.booked_by_id) if booking.booked_by_id else None
    return BookingPublic(
        id=booking.id,
        vehicle=vehicle.key,
        vehicle_id=vehicle.id,
        start=utc(booking.start),
        end=utc(booking.end),
        blocked_until=utc(booking.blocked_until),
        source=booking.source,
        status=booking.status,
        plan_id=booking.plan_id,
        tour_key=booking.tour_key,
        km_planned=booking.km_planned,
        caseworker=caseworker.key if caseworker else None,
        booked_by=booker.name if booker else None,
        purpose=booking.purpose,
        created_at=utc(booking.created_at),
        cancelled_at=utc(booking.cancelled_at) if booking.cancelled_at else None,
    )


def driver(session: Session, user: User, key: str | None) -> int | None:
    """The caseworker a booking is for: a caseworker user books only for themselves."""
    if user.role == "caseworker":
        if key is None:
            return user.caseworker_id
        caseworker = referenced(session, Caseworker, Caseworker.key, key, "caseworker")
        if caseworker.id != user.caseworker_id:
            raise HTTPException(403, "a caseworker books for themselves only")
        return caseworker.id
    if user.role not in FLEET_STAFF:
        raise HTTPException(403, f"the role {user.role} may not book")
    if key is None:
        return None
    return referenced(session, Caseworker, Caseworker.key, key, "caseworker").id


def visible(query: Select[VehicleBooking], user: User) -> Select[VehicleBooking]:
    if user.role in FLEET_STAFF:
        return query
    return query.where(
        or_(
            VehicleBooking.caseworker_id == user.caseworker_id,
            VehicleBooking.booked_by_id == user.id,
        )
    )


def booking_for(session: Session, user: User, booking_id: int) -> VehicleBooking:
    """The booking if the user may see it; another caseworker's is 404."""
    booking = session.scalars(
        visible(select(VehicleBooking).where(VehicleBooking.id == booking_id), user)
    ).one_or_none()
    if booking is None:
        raise NotFound(f"no booking {booking_id}")
    return booking


def _note_refusal(
    session: Session,
    user: User,
    vehicle: Vehicle,
    wanted: tuple[datetime, datetime, float],
    caseworker_id: int | None,
    conflict: BookingConflict,
) -> int | None:
    """Record the request (start, end, km wanted) as unmet demand if no vehicle of its
    kind was free either."""
    start, end, km = wanted
    with write_transaction(session):
        if free_vehicle_exists(
            session, site_id=vehicle.site_id, kind=vehicle.kind, start=start, end=end, km=km
        ):
            return None
        refusal = record_refusal(
            session,
            site_id=vehicle.site_id,
            kind=vehicle.kind,
            start=start,
            end=end,
            km=km,
            reason=str(conflict),
            requested_by_id=user.id,
            caseworker_id=caseworker_id,
            actor=user.name,
        )
    return refusal.id


@router.post("", status_code=201)
def create_booking(session: SessionDep, user: CurrentUser, body: BookingCreate) -> BookingPublic:
    vehicle = referenced(session, Vehicle, Vehicle.key, body.vehicle, "vehicle")
    caseworker_id = driver(session, user, body.caseworker)
    try:
        with write_transaction(session):
            booking = book(
                session,
                vehicle_id=vehicle.id,
                start=body.start,
                end=body.end,
                source="adhoc",
                km_planned=body.km_planned,
                booked_by_id=user.id,
                caseworker_id=caseworker_id,
                purpose=body.purpose,
                actor=user.name,
            )
            if body.refusal_id is not None:
                mark_moved(session, refusal_id=body.refusal_id, booking=booking)
    except BookingConflict as conflict:
        wanted = (body.start, body.end, body.km_planned)
        conflict.refusal_id = _note_refusal(session, user, vehicle, wanted, caseworker_id, conflict)
        raise
    return public(session, booking)


@router.get("")
def list_bookings(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
    vehicle: KeyFilter = None,
    site: KeyFilter = None,
    caseworker: KeyFilter = None,
    status: BookingStatus | None = None,
    source: Annotated[str | None, Query(pattern="^(plan|adhoc)$")] = None,
    start_after: Annotated[
        datetime | None, Query(alias="from", description="bookings ending after this")
    ] = None,
    end_before: Annotated[
        datetime | None, Query(alias="to", description="bookings starting before this")
    ] = None,
) -> Page[BookingPublic]:
    query = visible(select(VehicleBooking), user).order_by(VehicleBooking.start, VehicleBooking.id)
    if vehicle is not None:
        query = query.where(
            VehicleBooking.vehicle_id.in_(select(Vehicle.id).where(Vehicle.key == vehicle))
        )
    if site is not None:
        query = query.where(
            VehicleBooking.vehicle_id.in_(
                select(Vehicle.id).join(Site, Site.id == Vehicle.site_id).where(Site.key == site)
            )
        )
    if caseworker is not None:
        query = query.where(
            VehicleBooking.caseworker_id.in_(
                select(Caseworker.id).where(Caseworker.key == caseworker)
            )
        )
    if status is not None:
        query = query.where(VehicleBooking.status == status)
    if source is not None:
        query = query.where(VehicleBooking.source == source)
    for name, value in (("from", start_after), ("to", end_before)):
        if value is not None and value.tzinfo is None:
            raise Infeasible(f"query.{name}: give a UTC offset (2026-11-30T09:00:00+01:00)")
    if start_after is not None:
        query = query.where(VehicleBooking.end > start_after)
    if end_before is not None:
        query = query.where(VehicleBooking.start < end_before)
    rows, total = page(session, query, limit, offset)
    return Page(
        items=[public(session, row) for row in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{booking_id}")
def read_booking(session: SessionDep, user: CurrentUser, booking_id: RecordId) -> BookingPublic:
    return public(session, booking_for(session, user, booking_id))


@router.patch("/{booking_id}")
def update_booking(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    booking_id: RecordId,
    body: BookingUpdate,
    background: BackgroundTasks,
) -> BookingPublic:
    """Change times, vehicle, km or purpose; a change for today or tomorrow is mailed to
    the caseworker (calendars.notify), after the answer."""
    booking = booking_for(session, user, booking_id)
    old_start, old_end = booking.start, booking.end
    if user.role not in FLEET_STAFF and user.role != "caseworker":
        raise HTTPException(403, f"the role {user.role} may not change bookings")
    if booking.source == "plan":
        raise HTTPException(409, "a plan's booking changes with its plan (re-plan the week)")
    vehicle_id = None
    if body.vehicle is not None:
        vehicle_id = referenced(session, Vehicle, Vehicle.key, body.vehicle, "vehicle").id
    try:
        with write_transaction(session):
            changed = change(
                session,
                booking_id=booking.id,
                start=body.start,
                end=body.end,
                vehicle_id=vehicle_id,
                km_planned=body.km_planned,
                purpose=body.purpose,
                changed_by_id=user.id,
                actor=user.name,
            )
    except BookingConflict as conflict:
        # A refused change is unmet demand too (a longer or later slot nobody could give).
        target = session.get(Vehicle, vehicle_id or booking.vehicle_id)
        assert target is not None
        wanted = (
            body.start or old_start,
            body.end or old_end,
            body.km_planned if body.km_planned is not None else booking.km_planned,
        )
        conflict.refusal_id = _note_refusal(
            session, user, target, wanted, booking.caseworker_id, conflict
        )
        raise
    _mail_short_notice(request, session, background, changed, "moved", old_start, old_end)
    return public(session, changed)


@router.post("/{booking_id}/cancel")
def cancel_booking(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    booking_id: RecordId,
    background: BackgroundTasks,
) -> BookingPublic:
    """Cancel: the booking stays (status ``cancelled``) and its slot is free again; a
    cancellation for today or tomorrow is mailed to the caseworker."""
    booking = booking_for(session, user, booking_id)
    if user.role not in FLEET_STAFF and user.role != "caseworker":
        raise HTTPException(403, f"the role {user.role} may not cancel bookings")
    if booking.source == "plan" and user.role == "caseworker":
        raise HTTPException(403, "a plan's booking is cancelled by a coordinator or re-plan")
    with write_transaction(session):
        cancelled = cancel(session, booking_id=booking.id, cancelled_by_id=user.id, actor=user.name)
    _mail_short_notice(
        request, session, background, cancelled, "cancelled", cancelled.start, cancelled.end
    )
    return public(session, cancelled)


def _mail_short_notice(
    request: Request,
    session: Session,
    background: BackgroundTasks,
    booking: VehicleBooking,
    kind: Literal["moved", "cancelled"],
    old_start: datetime,
    old_end: datetime,
) -> None:
    """Feeds refresh slowly: a booking moved or cancelled for today or tomorrow is
    mailed too. Sent after the answer; a mail server that fails undoes nothing."""
    settings = request.app.state.settings
    outbox = prepare_booking_mails(
        session=session,
        booking_id=booking.id,
        kind=kind,
        old_start=old_start,
        old_end=old_end,
        settings=settings,
        options=options_from(settings),
    )
    if outbox.mails:
        background.add_task(deliver, outbox, settings)


def _proposal(item: Proposal) -> ProposalPublic:
    return ProposalPublic(
        vehicle=item.vehicle,
        vehicle_id=item.vehicle_id,
        kind=item.kind,
        start=utc(item.start),
        end=utc(item.end),
        co2e_kg=item.co2e_kg,
        range_left_km=item.range_left_km,
    )


@router.post("/find")
def find_vehicle(session: SessionDep, user: CurrentUser, body: FindRequest) -> FindResult:
    """The lowest-emission free vehicle of the site that can ride the trip, or the
    nearest free slots when none is free (the request is then recorded as unmet demand).

    A destination ``[lat, lon]`` is an out-and-back trip from the site: twice the
    geodesic distance times the largest detour factor of the kinds asked for.
    """
    site = referenced(session, Site, Site.key, body.site, "site")
    kinds = tuple(body.kinds) if body.kinds else FLEET_VEHICLE_KINDS
    if body.destination is not None:
        import numpy as np

        one_way = float(
            geodesic_km(
                np.array([site.lat]),
                np.array([site.lon]),
                np.array([body.destination[0]]),
                np.array([body.destination[1]]),
            )[0]
        )
        detour = max(TRAVEL_DEFAULTS[kind].detour_factor for kind in kinds)
        km = round(2 * one_way * detour, 3)
    else:
        assert body.km is not None
        km = body.km
    free, nearest, capable = find_vehicles(
        session,
        site_id=site.id,
        start=body.start,
        end=body.end,
        km=km,
        longest_leg_km=body.longest_leg_km,
        kinds=kinds,
    )
    refusal_id = None
    if not free and capable:
        # Vehicles that could ride it exist, only not then: unmet demand.
        with write_transaction(session):
            refusal_id = record_refusal(
                session,
                site_id=site.id,
                kind=capable[0],
                start=body.start,
                end=body.end,
                km=km,
                reason="kein Fahrzeug frei",
                requested_by_id=user.id,
                caseworker_id=user.caseworker_id,
                actor=user.name,
            ).id
    return FindResult(
        km=km,
        free=[_proposal(item) for item in free],
        nearest_slots=[_proposal(item) for item in nearest],
        refusal_id=refusal_id,
    )
