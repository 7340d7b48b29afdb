"""Caseworker pages: my week, my households (only mine), booking a vehicle, on a phone.

Another caseworker's household is a 404 page, exactly like one that does not exist
(the API's ``household_for`` decides, so the page and the API cannot disagree).
Booking a vehicle ad hoc asks ``fleet.bookings.find_vehicles`` for the free vehicles of
the caseworker's office (lowest emissions first) or, when none is free, the nearest
free slots, and books the one chosen with ``fleet.bookings.book`` in a write
transaction, so two caseworkers cannot take the same vehicle at once.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.deps import SessionDep
from api.routers import households as household_routes
from api.web import forms
from api.web.pages import (
    PREFIX,
    CaseworkerPage,
    CheckedForm,
    PageError,
    language,
    not_found,
    redirect,
    render,
)
from calendars.service import feed_url, qr_code, webcal_url
from calendars.tokens import Subject, active_token, create_token, rotate_token
from core.db import transaction, utc_now, write_transaction
from core.errors import DomainError
from fleet.bookings import (
    BookingConflict,
    Proposal,
    book,
    cancel,
    find_vehicles,
    mark_moved,
    record_refusal,
)
from fleet.models import BookingRefusal, Trip, Vehicle, VehicleBooking
from fleet.modes import MODES, FleetVehicleKind
from fleet.trips import PlannedTour, confirm_tour, current_trips, planned_tours, published_tour
from scheduler.documentation import (
    DocumentationRefused,
    document_visit,
    documented,
    published_appointment,
)
from scheduler.models import (
    DOCUMENTATION_KINDS,
    Appointment,
    Caseworker,
    DocumentationKind,
    Plan,
    Tour,
    User,
    VisitRequest,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@router.get("/me")
def my_week(
    request: Request,
    session: SessionDep,
    user: CaseworkerPage,
    week: date | None = None,
    msg: str | None = None,
) -> Response:
    caseworker = session.scalars(
        select(Caseworker)
        .where(Caseworker.id == user.caseworker_id)
        .options(selectinload(Caseworker.site))
    ).one()
    zone = ZoneInfo(caseworker.site.timezone)
    rows = session.execute(
        select(Appointment, VisitRequest, Tour)
        .join(Plan, Plan.id == Appointment.plan_id)
        .join(VisitRequest, VisitRequest.id == Appointment.visit_request_id)
        .outerjoin(Tour, (Tour.plan_id == Appointment.plan_id) & (Tour.key == Appointment.tour_key))
        .where(Appointment.caseworker_id == caseworker.id, Plan.status == "published")
        .options(selectinload(VisitRequest.household))
        .order_by(Appointment.start)
    ).all()
    days = sorted({appointment.start.astimezone(zone).date() for appointment, _v, _t in rows})
    first = week or (
        _monday(date.today())
        if any(_monday(d) == _monday(date.today()) for d in days)
        else (_monday(days[0]) if days else _monday(date.today()))
    )
    shown = [
        (
            appointment.start.astimezone(zone),
            appointment.end.astimezone(zone),
            appointment,
            visit,
            tour,
        )
        for appointment, visit, tour in rows
        if first <= appointment.start.astimezone(zone).date() < first + timedelta(days=7)
    ]
    open_tours, confirmed = trips_of_week(session, caseworker, first)
    notes = documented(session, uids=[item[2].uid for item in shown])
    by_day: dict[date, list[Any]] = {}
    for item in shown:
        by_day.setdefault(item[0].date(), []).append(item)
    return render(
        request,
        "me.html",
        caseworker=caseworker,
        appointments=shown,
        days=sorted(by_day.items()),
        week_start=first,
        previous_week=first - timedelta(days=7),
        next_week=first + timedelta(days=7),
        zone=zone,
        vehicle_keys=dict(session.execute(select(Vehicle.id, Vehicle.key)).tuples().all()),
        open_tours=open_tours,
        confirmed=confirmed,
        modes=MODES,
        now=utc_now(),
        documented={
            uid: {note.kind: note for note, _name in found} for uid, found in notes.items()
        },
        documentation_kinds=DOCUMENTATION_LABELS,
        message={
            "confirmed": "Fahrt bestätigt.",
            "documented": "Digitale Ablage vermerkt.",
        }.get(msg or ""),
    )


@router.get("/me/households")
def my_households(request: Request, session: SessionDep, user: CaseworkerPage) -> Response:
    found = household_routes.list_households(
        session, user, limit=500, offset=0, site=None, caseworker=None
    )
    return render(request, "my_households.html", page=found)


@router.get("/me/households/{household_id}")
def my_household(
    request: Request, session: SessionDep, user: CaseworkerPage, household_id: int
) -> Response:
    try:
        household = household_routes.read_household(session, user, household_id)
    except DomainError:
        raise not_found() from None
    visits = list(
        session.scalars(
            select(VisitRequest)
            .where(VisitRequest.household_id == household_id)
            .options(selectinload(VisitRequest.week), selectinload(VisitRequest.pinned_caseworker))
            .order_by(VisitRequest.week_id.desc(), VisitRequest.key)
        )
    )
    return render(
        request,
        "household.html",
        household=household,
        errors=[],
        message=None,
        visits=visits,
        readonly=True,
        sites=[],
        caseworkers=[],
    )


# ----------------------------------------------------------------------------- booking

KINDS: dict[str, tuple[FleetVehicleKind, ...] | None] = {
    "any": None,
    "e_bike": ("e_bike",),
    "cargo_bike": ("cargo_bike",),
    "e_car": ("e_car",),
    "car": ("car",),
}


def _me(session: SessionDep, user: User) -> Caseworker:
    return session.scalars(
        select(Caseworker)
        .where(Caseworker.id == user.caseworker_id)
        .options(selectinload(Caseworker.site))
    ).one()


def my_bookings(
    session: SessionDep, caseworker: Caseworker
) -> list[tuple[VehicleBooking, Vehicle]]:
    """The caseworker's active ad-hoc bookings from today on."""
    zone = ZoneInfo(caseworker.site.timezone)
    today = datetime.combine(date.today(), time(0), zone)
    return [
        (booking, vehicle)
        for booking, vehicle in session.execute(
            select(VehicleBooking, Vehicle)
            .join(Vehicle, Vehicle.id == VehicleBooking.vehicle_id)
            .where(
                VehicleBooking.caseworker_id == caseworker.id,
                VehicleBooking.status == "active",
                VehicleBooking.source == "adhoc",
                VehicleBooking.end > today,
            )
            .order_by(VehicleBooking.start)
        ).tuples()
    ]


@router.get("/me/book")
def booking_page(request: Request, session: SessionDep, user: CaseworkerPage) -> Response:
    caseworker = _me(session, user)
    return render(
        request,
        "book.html",
        caseworker=caseworker,
        wanted=None,
        free=[],
        nearest=[],
        refusal_id=None,
        searched=False,
        errors=[],
        bookings=my_bookings(session, caseworker),
        zone=ZoneInfo(caseworker.site.timezone),
        today=date.today(),
    )


@router.post("/me/book")
def find_vehicle(
    request: Request, session: SessionDep, user: CaseworkerPage, form: CheckedForm
) -> Response:
    """The vehicles that are free for the trip (or the nearest free slots), to choose."""
    caseworker = _me(session, user)
    zone = ZoneInfo(caseworker.site.timezone)
    day = forms.text(form, "date")
    start = forms.local_instant(f"{day}T{forms.text(form, 'start')}", zone)
    end = forms.local_instant(f"{day}T{forms.text(form, 'end')}", zone)
    km_text = forms.number(form, "km") or ""
    errors = []
    try:
        km = float(km_text)
    except ValueError:
        km = -1.0
    if start is None:
        errors.append("Beginn")
    if end is None or (start is not None and end <= start):
        errors.append("Ende")
    if not 0 <= km <= 1000:
        errors.append("Kilometer (hin und zurück)")
    kind = forms.text(form, "kind")
    free: list[Proposal] = []
    nearest: list[Proposal] = []
    refusal_id: int | None = None
    if not errors:
        assert start is not None and end is not None
        try:
            free, nearest, capable = find_vehicles(
                session,
                site_id=caseworker.site_id,
                start=start,
                end=end,
                km=km,
                kinds=KINDS.get(kind),
            )
        except DomainError as error:
            errors.append(str(error))
        else:
            if not free and capable:
                # Vehicles that could ride it exist, only not then: unmet demand, as the
                # API records it (and "moved" once a nearest slot is booked instead).
                with write_transaction(session):
                    refusal_id = record_refusal(
                        session,
                        site_id=caseworker.site_id,
                        kind=capable[0],
                        start=start,
                        end=end,
                        km=km,
                        reason="kein Fahrzeug frei",
                        requested_by_id=user.id,
                        caseworker_id=caseworker.id,
                        actor=user.name,
                    ).id
    return render(
        request,
        "book.html",
        status_code=422 if errors else 200,
        caseworker=caseworker,
        wanted={
            "date": day,
            "start": forms.text(form, "start"),
            "end": forms.text(form, "end"),
            "km": km_text,
            "kind": kind,
            "purpose": forms.text(form, "purpose"),
        },
        free=free,
        nearest=nearest,
        refusal_id=refusal_id,
        searched=not errors,
        errors=errors,
        bookings=my_bookings(session, caseworker),
        zone=zone,
        today=date.today(),
    )


@router.post("/me/bookings")
def book_vehicle(
    request: Request, session: SessionDep, user: CaseworkerPage, form: CheckedForm
) -> Response:
    caseworker = _me(session, user)
    vehicle_id = forms.text(form, "vehicle")
    refusal_id = forms.text(form, "refusal")
    vehicle = session.get(Vehicle, int(vehicle_id)) if vehicle_id.isdigit() else None
    # Only the own office's vehicles: the form could name any id.
    if vehicle is None or vehicle.site_id != caseworker.site_id:
        raise not_found()
    try:
        start = datetime.fromisoformat(forms.text(form, "start"))
        end = datetime.fromisoformat(forms.text(form, "end"))
        km = float(forms.number(form, "km") or "0")
    except ValueError:
        raise PageError(422, "Bitte prüfen:", "Beginn") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise PageError(422, "Bitte prüfen:", "Beginn")
    try:
        with write_transaction(session):
            booking = book(
                session,
                vehicle_id=vehicle.id,
                start=start,
                end=end,
                source="adhoc",
                km_planned=km,
                booked_by_id=user.id,
                caseworker_id=caseworker.id,
                purpose=forms.optional(form, "purpose"),
                actor=user.name,
            )
            refusal = session.get(BookingRefusal, int(refusal_id)) if refusal_id.isdigit() else None
            if refusal is not None and refusal.caseworker_id == caseworker.id:
                mark_moved(session, refusal_id=refusal.id, booking=booking)
    except BookingConflict as error:
        raise PageError(
            409,
            "Buchung nicht möglich",
            "; ".join(
                item.reason_en if language(request) == "en" else item.reason_de
                for item in error.conflicts
            ),
        ) from None
    except DomainError as error:
        raise PageError(409, "Buchung nicht möglich", str(error)) from None
    return redirect(f"{PREFIX}/me/book?booked={booking.id}")


@router.post("/me/bookings/{booking_id}/cancel")
def cancel_booking(
    request: Request, session: SessionDep, user: CaseworkerPage, booking_id: int, form: CheckedForm
) -> Response:
    booking = session.get(VehicleBooking, booking_id)
    if booking is None or booking.caseworker_id != user.caseworker_id:
        raise not_found()
    try:
        with write_transaction(session):
            cancel(session, booking_id=booking_id, cancelled_by_id=user.id, actor=user.name)
    except DomainError as error:
        raise PageError(409, "Buchung nicht möglich", str(error)) from None
    return redirect(f"{PREFIX}/me/book?cancelled={booking_id}")


# ------------------------------------------------------------------------------- trips


def trips_of_week(
    session: SessionDep, caseworker: Caseworker, first: date
) -> tuple[list[PlannedTour], list[Trip]]:
    """The week's published tours still to confirm (those of today and before: km are
    confirmed after the trip) and the trips confirmed already."""
    last = min(first + timedelta(days=6), date.today())
    open_tours = (
        planned_tours(session, first=first, last=last, caseworker_id=caseworker.id)
        if last >= first
        else []
    )
    confirmed = list(
        session.scalars(
            current_trips()
            .where(
                Trip.caseworker_id == caseworker.id,
                Trip.date >= first,
                Trip.date <= first + timedelta(days=6),
            )
            .order_by(Trip.date, Trip.id)
        )
    )
    return open_tours, confirmed


@router.post("/me/trips")
def confirm_trip(
    request: Request, session: SessionDep, user: CaseworkerPage, form: CheckedForm
) -> Response:
    """Confirm a tour's km (and mode, if it was another) in one step."""
    plan_id = forms.text(form, "plan")
    tour_key = forms.text(form, "tour")
    if not plan_id.isdigit():
        raise not_found()
    try:
        tour = published_tour(session, plan_id=int(plan_id), tour_key=tour_key)
    except DomainError:
        raise not_found() from None
    if tour.caseworker_id != user.caseworker_id:
        raise not_found()
    if tour.date > date.today():
        raise PageError(
            409, "Fahrt nicht bestätigt", "Fahrten werden nach der Fahrt bestätigt, nicht vorher."
        )
    mode = forms.text(form, "mode") or tour.mode
    try:
        km = float(forms.number(form, "km") or "")
    except ValueError:
        raise PageError(422, "Bitte prüfen:", "Gefahrene Kilometer") from None
    if mode not in MODES:  # narrows the text to a Mode
        raise PageError(422, "Bitte prüfen:", "Verkehrsmittel")
    try:
        with transaction(session):
            confirm_tour(
                session,
                plan_id=tour.plan_id,
                tour_key=tour.tour_key,
                mode=mode,
                km=km,
                recorded_by_id=user.id,
                actor=user.name,
            )
    except DomainError as error:
        raise PageError(409, "Fahrt nicht bestätigt", str(error)) from None
    return redirect(
        f"{PREFIX}/me?week={tour.date - timedelta(days=tour.date.weekday())}&msg=confirmed"
    )


# ----------------------------------------------------------------------- documentation

#: The form's checkboxes: what was kept digitally after the visit.
DOCUMENTATION_LABELS: dict[DocumentationKind, str] = {
    "visit_record": "Besuchsdokumentation digital abgelegt",
    "consent": "Einwilligung digital erfasst",
}


@router.post("/me/appointments/{appointment_id}/documentation")
def document_appointment(
    request: Request,
    session: SessionDep,
    user: CaseworkerPage,
    appointment_id: int,
    form: CheckedForm,
) -> Response:
    """Note THAT the visit's record and/or a consent was kept digitally (never what
    they say), with the same service and checks as the API."""
    try:
        appointment = published_appointment(session, appointment_id=appointment_id)
    except DomainError:
        raise not_found() from None
    if appointment.caseworker_id != user.caseworker_id:
        raise not_found()
    ticked = set(forms.listed(form, "kind"))
    kinds = [kind for kind in DOCUMENTATION_KINDS if kind in ticked]
    if not kinds:
        raise PageError(422, "Bitte prüfen:", "Bitte mindestens ein Kästchen ankreuzen.")
    try:
        with write_transaction(session):
            document_visit(
                session,
                appointment=appointment,
                kinds=kinds,
                recorded_by_id=user.id,
                actor=user.name,
            )
    except DocumentationRefused as error:
        message = str(error) if language(request) == "en" else error.message_de
        raise PageError(409, "Nicht vermerkt", message) from None
    zone = ZoneInfo(_me(session, user).site.timezone)
    day = appointment.start.astimezone(zone).date()
    return redirect(f"{PREFIX}/me?week={_monday(day)}&msg=documented#appointment-{appointment.id}")


# ---------------------------------------------------------------------------- calendar


@router.get("/me/calendar")
def calendar_page(request: Request, session: SessionDep, user: CaseworkerPage) -> Response:
    subject = Subject(kind="caseworker", id=_me(session, user).id)
    return render(
        request,
        "calendar.html",
        active=active_token(session=session, subject=subject),
        link=None,
    )


@router.post("/me/calendar")
def new_calendar_link(
    request: Request, session: SessionDep, user: CaseworkerPage, form: CheckedForm
) -> Response:
    """A new subscription link (the old one, if any, stops working): shown once, with
    its QR code, since only its hash is stored."""
    subject = Subject(kind="caseworker", id=_me(session, user).id)
    make = rotate_token if active_token(session=session, subject=subject) else create_token
    _row, token = make(session=session, subject=subject, actor=user.name, user_id=user.id)
    public_url = request.app.state.settings.public_url
    link = webcal_url(public_url, token)
    qr = base64.b64encode(qr_code(link, "svg")).decode("ascii")
    return render(
        request,
        "calendar.html",
        active=active_token(session=session, subject=subject),
        link=link,
        https_link=feed_url(public_url, token),
        qr=f"data:image/svg+xml;base64,{qr}",
    )
