"""What a feed shows, read from the database: feed events and the feed's version.

Calendars show the appointments of **published** plans only (a superseded plan's rows
are history; a draft is nobody's calendar yet), with their tours' travel blocks, mode
and vehicle, and the bookings of vehicles. A feed covers the last ``HISTORY_DAYS`` days
and everything after: older events leave it, and so does a cancelled appointment
``HISTORY_DAYS`` after its cancellation (until then it shows as STATUS:CANCELLED, so
every client that saw it removes it).

``feed_version`` answers "has this feed changed?" with one small aggregate query over
the same rows ``feed_events`` reads (count, latest change, sum of sequences), without
reading or rendering them: that is all a 304 costs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from calendars.ical import EventStatus, Feed, FeedEvent
from calendars.texts import Language, Texts, texts
from calendars.tokens import Subject
from core.errors import NotFound
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import Appointment, Caseworker, Household, Plan, Site, Tour, VisitRequest

HISTORY_DAYS = 30
#: The domain part of UIDs this service makes itself (travel blocks, bookings).
UID_DOMAIN = "fieldwork"
_STATUS: dict[str, EventStatus] = {
    "tentative": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """The organisation's choices that shape every feed (from ``core.settings``)."""

    language: Language = "de"
    show_address: bool = False
    reminder_minutes: int = 30
    refresh_minutes: int = 15

    @property
    def texts(self) -> Texts:
        return texts(self.language)


@dataclass(frozen=True, slots=True)
class FeedVersion:
    """Enough to tell whether a feed changed: the rows counted and the latest change."""

    rows: int
    last_modified: datetime | None
    sequences: int
    #: The latest plan's id (and what stands for the addresses, when they are shown).
    marker: str

    def key(self) -> str:
        stamp = self.last_modified.isoformat() if self.last_modified else "-"
        return f"{self.rows}:{stamp}:{self.sequences}:{self.marker}"


def _since(now: datetime) -> datetime:
    return now - timedelta(days=HISTORY_DAYS)


# ------------------------------------------------------------------------ appointments


def _appointment_filter(subject: Subject, since: datetime) -> list[ColumnElement[bool]]:
    """The appointments a caseworker's or a site's feed shows (joined with their plan)."""
    shown = [
        Plan.status == "published",
        Appointment.end >= since,
        or_(Appointment.status != "cancelled", Appointment.updated_at >= since),
    ]
    if subject.kind == "caseworker":
        shown.append(Appointment.caseworker_id == subject.id)
    else:
        shown.append(
            Appointment.caseworker_id.in_(
                select(Caseworker.id).where(Caseworker.site_id == subject.id)
            )
        )
    return shown


def _appointment_version(
    session: Session, subject: Subject, since: datetime, places: bool
) -> FeedVersion:
    columns: list[Any] = [
        func.count(Appointment.id),
        func.max(Appointment.updated_at),
        func.max(Plan.published_at),
        func.coalesce(func.sum(Appointment.sequence), 0),
        # A publish that replaces the plan (new tours, vehicles) without touching
        # this feed's appointments still changes the version.
        func.coalesce(func.max(Plan.id), 0),
    ]
    query = select(*columns).select_from(Appointment).join(Plan, Plan.id == Appointment.plan_id)
    if places:
        # Feeds that show addresses must change when a household is erased or its
        # address edited (no cached copy may keep an erased address): the latest
        # erasure and the addresses' count and total length stand for them.
        query = (
            query.add_columns(
                func.max(Household.erased_at),
                func.count(Household.address),
                func.coalesce(func.sum(func.length(Household.address)), 0),
            )
            .join(VisitRequest, VisitRequest.id == Appointment.visit_request_id)
            .join(Household, Household.id == VisitRequest.household_id)
        )
    row = session.execute(query.where(*_appointment_filter(subject, since))).one()
    rows, latest, published, sequences, plan = row[:5]
    stamps = [stamp for stamp in (latest, published) if stamp is not None]
    marker = repr(tuple(row[4:])) if places else str(plan)
    return FeedVersion(int(rows), max(stamps) if stamps else None, int(sequences), marker)


@dataclass(frozen=True, slots=True)
class _Appointment:
    """The columns of an appointment a feed reads (plain values: loading ORM objects
    was a third of a feed's build time)."""

    plan_id: int
    caseworker_id: int
    tour_key: str | None
    start: datetime
    end: datetime
    uid: str
    sequence: int
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class _Tour:
    plan_id: int
    key: str
    mode: str
    depart: datetime
    return_: datetime
    #: The vehicle's name (or id), None for a tour without a vehicle.
    vehicle: str | None


@dataclass(frozen=True, slots=True)
class _Visit:
    appointment: _Appointment
    visit_key: str
    duration_minutes: int
    pseudonym: str
    address: str | None
    lat: float | None
    lon: float | None
    caseworker_key: str


def _clock(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _transport(tour: _Tour, words: Texts) -> str:
    """``E-Bike Ennigerloh 1`` (the vehicle's name) or the mode (``zu Fuß``)."""
    if tour.vehicle is not None:
        return tour.vehicle
    return words.modes.get(tour.mode, tour.mode)


def _departure(tour: _Tour, site: Site, words: Texts) -> str:
    zone = ZoneInfo(site.timezone)
    return (
        words.departure.format(
            transport=_transport(tour, words),
            site=site.name or site.key,
            time=_clock(tour.depart, zone),
        )
        + ", "
        + words.back.format(time=_clock(tour.return_, zone))
    )


def _safe_uid_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _appointment_events(
    session: Session, subject: Subject, options: FeedOptions, now: datetime, site: Site
) -> list[FeedEvent]:
    since = _since(now)
    words = options.texts
    rows = session.execute(
        select(
            Appointment.plan_id,
            Appointment.caseworker_id,
            Appointment.tour_key,
            Appointment.start,
            Appointment.end,
            Appointment.uid,
            Appointment.sequence,
            Appointment.status,
            Appointment.updated_at,
            VisitRequest.key,
            VisitRequest.duration_minutes,
            Household.pseudonym,
            Household.address,
            Household.lat,
            Household.lon,
            Caseworker.key,
        )
        .join(Plan, Plan.id == Appointment.plan_id)
        .join(VisitRequest, VisitRequest.id == Appointment.visit_request_id)
        .join(Household, Household.id == VisitRequest.household_id)
        .join(Caseworker, Caseworker.id == Appointment.caseworker_id)
        .where(*_appointment_filter(subject, since))
        .order_by(Appointment.start, Appointment.id)
    ).all()
    # One event per UID: should two published plans hold the same visit, the later
    # revision wins (a client would merge them into one event anyway).
    visits: dict[str, _Visit] = {}
    for row in rows:
        appointment = _Appointment(*row[:9])
        key, minutes, pseudonym, address, lat, lon, caseworker_key = row[9:]
        seen = visits.get(appointment.uid)
        if seen is not None and (seen.appointment.sequence, seen.appointment.updated_at) >= (
            appointment.sequence,
            appointment.updated_at,
        ):
            continue
        visits[appointment.uid] = _Visit(
            appointment, key, minutes, pseudonym, address, lat, lon, caseworker_key
        )

    tour_keys = {
        (visit.appointment.plan_id, visit.appointment.tour_key)
        for visit in visits.values()
        if visit.appointment.tour_key is not None
    }
    tours: dict[tuple[int, str], _Tour] = {}
    if tour_keys:
        plan_ids = {plan_id for plan_id, _ in tour_keys}
        for plan_id, tour_key, mode, depart, return_, vehicle_name, vehicle_key in session.execute(
            select(
                Tour.plan_id,
                Tour.key,
                Tour.mode,
                Tour.depart,
                Tour.return_,
                Vehicle.name,
                Vehicle.key,
            )
            .outerjoin(Vehicle, Vehicle.id == Tour.vehicle_id)
            .where(Tour.plan_id.in_(plan_ids), Tour.caseworker_id.in_(_caseworkers(visits)))
        ):
            if (plan_id, tour_key) in tour_keys:
                tours[(plan_id, tour_key)] = _Tour(
                    plan_id, tour_key, mode, depart, return_, vehicle_name or vehicle_key
                )

    events: list[FeedEvent] = []
    in_tour: dict[tuple[int, str], list[_Appointment]] = defaultdict(list)
    # Reminders in a caseworker's own calendar only: a site's team calendar would ring
    # for everybody's visits.
    reminder = (
        options.reminder_minutes
        if subject.kind == "caseworker" and options.reminder_minutes
        else None
    )
    # A tour's departure line is the same for each of its visits.
    departures: dict[tuple[int, str], str] = {}
    for visit in visits.values():
        appointment = visit.appointment
        summary = f"{visit.pseudonym} · {words.visit_kind}"
        if subject.kind == "site":
            summary += f" · {visit.caseworker_key}"
        status = _STATUS[appointment.status]
        if status == "CANCELLED":
            summary = words.cancelled_prefix + summary
        lines: list[str] = []
        found = (
            tours.get((appointment.plan_id, appointment.tour_key))
            if appointment.tour_key is not None
            else None
        )
        if found is not None and status != "CANCELLED":
            tour = found
            tour_id = (tour.plan_id, tour.key)
            if tour_id not in departures:
                departures[tour_id] = _departure(tour, site, words)
            lines.append(departures[tour_id])
            in_tour[tour_id].append(appointment)
        details = [
            words.visit.format(key=visit.visit_key),
            words.duration.format(minutes=visit.duration_minutes),
        ]
        if appointment.tour_key is not None and status != "CANCELLED":
            details.append(words.tour.format(key=appointment.tour_key))
        if subject.kind == "site":
            details.append(words.caseworker.format(key=visit.caseworker_key))
        lines.append(" · ".join(details))
        show_place = options.show_address and status != "CANCELLED"
        geo = (
            (visit.lat, visit.lon)
            if show_place and visit.lat is not None and visit.lon is not None
            else None
        )
        events.append(
            FeedEvent(
                uid=appointment.uid,
                start=appointment.start,
                end=appointment.end,
                summary=summary,
                description="\n".join(lines),
                status=status,
                sequence=appointment.sequence,
                last_modified=appointment.updated_at,
                categories=(words.visit_kind,),
                location=visit.address if show_place else None,
                geo=geo,
                alarm_minutes=reminder,
                alarm_text=words.reminder.format(summary=summary),
            )
        )
    if subject.kind == "caseworker":
        for tour_id, appointments in in_tour.items():
            events.extend(_travel_blocks(tours[tour_id], site, appointments, words))
    return events


def _caseworkers(visits: dict[str, _Visit]) -> set[int]:
    return {visit.appointment.caseworker_id for visit in visits.values()}


def _travel_blocks(
    tour: _Tour, site: Site, appointments: Sequence[_Appointment], words: Texts
) -> list[FeedEvent]:
    """The way out (departure from the office to the first visit) and back."""
    first = min(appointment.start for appointment in appointments)
    last = max(appointment.end for appointment in appointments)
    transport = _transport(tour, words)
    description = _departure(tour, site, words) + "\n" + words.tour.format(key=tour.key)
    sequence = max(appointment.sequence for appointment in appointments)
    modified = max(appointment.updated_at for appointment in appointments)
    uid = f"tour-{_safe_uid_part(tour.key)}"
    blocks: list[FeedEvent] = []
    for part, start, end, summary in (
        ("out", tour.depart, first, words.travel_out.format(transport=transport)),
        ("back", last, tour.return_, words.travel_back.format(transport=transport)),
    ):
        if end <= start:
            continue
        blocks.append(
            FeedEvent(
                uid=f"{uid}-{part}@{UID_DOMAIN}",
                start=start,
                end=end,
                summary=summary,
                description=description,
                status="CONFIRMED",
                sequence=sequence,
                last_modified=modified,
                categories=(words.modes.get(tour.mode, tour.mode),),
            )
        )
    return blocks


# ----------------------------------------------------------------------------- vehicles


def _booking_filter(vehicle_id: int, since: datetime) -> list[ColumnElement[bool]]:
    published = select(Plan.id).where(Plan.status == "published")
    return [
        VehicleBooking.vehicle_id == vehicle_id,
        VehicleBooking.end >= since,
        or_(VehicleBooking.source == "adhoc", VehicleBooking.plan_id.in_(published)),
        or_(
            VehicleBooking.status == "active",
            and_(VehicleBooking.status == "cancelled", VehicleBooking.cancelled_at >= since),
        ),
    ]


def _booking_version(session: Session, vehicle_id: int, since: datetime) -> FeedVersion:
    rows, created, cancelled, cancellations, marker = session.execute(
        select(
            func.count(VehicleBooking.id),
            func.max(VehicleBooking.created_at),
            func.max(VehicleBooking.cancelled_at),
            func.count(VehicleBooking.cancelled_at),
            func.coalesce(func.max(VehicleBooking.id), literal(0)),
        ).where(*_booking_filter(vehicle_id, since))
    ).one()
    stamps = [stamp for stamp in (created, cancelled) if stamp is not None]
    return FeedVersion(
        int(rows), max(stamps) if stamps else None, int(cancellations), str(marker or 0)
    )


def _booking_events(
    session: Session, vehicle: Vehicle, options: FeedOptions, now: datetime
) -> list[FeedEvent]:
    words = options.texts
    rows = session.execute(
        select(VehicleBooking, Caseworker.key, Tour.key)
        .outerjoin(
            Tour,
            and_(Tour.plan_id == VehicleBooking.plan_id, Tour.key == VehicleBooking.tour_key),
        )
        .outerjoin(
            Caseworker,
            Caseworker.id == func.coalesce(Tour.caseworker_id, VehicleBooking.caseworker_id),
        )
        .where(*_booking_filter(vehicle.id, _since(now)))
        .order_by(VehicleBooking.start, VehicleBooking.id)
    ).all()
    events = []
    for booking, caseworker_key, tour_key in rows:
        if caseworker_key is not None:
            summary = words.booking_plan.format(caseworker=caseworker_key)
        else:
            summary = words.booking_adhoc
        status: EventStatus = "CANCELLED" if booking.status == "cancelled" else "CONFIRMED"
        if status == "CANCELLED":
            summary = words.booking_cancelled + summary
        details = [words.km_planned.format(km=booking.km_planned)]
        if tour_key is not None:
            details.append(words.tour.format(key=tour_key))
        if booking.purpose and booking.source == "adhoc":
            details.append(booking.purpose)
        modified = booking.cancelled_at or booking.created_at
        events.append(
            FeedEvent(
                uid=f"booking-{booking.id}@{UID_DOMAIN}",
                start=booking.start,
                end=booking.end,
                summary=summary,
                description=" · ".join(details),
                status=status,
                # A booking changes once at most: when it is cancelled.
                sequence=1 if status == "CANCELLED" else 0,
                last_modified=modified,
                categories=(words.modes.get(vehicle.kind, vehicle.kind),),
            )
        )
    return events


# --------------------------------------------------------------------------- the feeds


def _site_of(session: Session, subject: Subject) -> Site:
    if subject.kind == "site":
        site = session.get(Site, subject.id)
    elif subject.kind == "caseworker":
        site = session.scalar(
            select(Site)
            .join(Caseworker, Caseworker.site_id == Site.id)
            .where(Caseworker.id == subject.id)
        )
    else:
        site = session.scalar(
            select(Site).join(Vehicle, Vehicle.site_id == Site.id).where(Vehicle.id == subject.id)
        )
    if site is None:
        raise NotFound(f"no {subject.kind} {subject.id}")
    return site


def feed_version(
    *,
    session: Session,
    subject: Subject,
    options: FeedOptions | None = None,
    now: datetime | None = None,
) -> FeedVersion:
    """The feed's version: changes whenever what ``feed_events`` would read changes."""
    since = _since(now or datetime.now(UTC))
    if subject.kind == "vehicle":
        return _booking_version(session, subject.id, since)
    places = options is not None and options.show_address
    return _appointment_version(session, subject, since, places)


def build_feed(
    *, session: Session, subject: Subject, options: FeedOptions, now: datetime | None = None
) -> Feed:
    """The feed of a caseworker, a vehicle or a site, ready to render."""
    now = now or datetime.now(UTC)
    words = options.texts
    site = _site_of(session, subject)
    if subject.kind == "vehicle":
        vehicle = session.get(Vehicle, subject.id)
        if vehicle is None:
            raise NotFound(f"no vehicle {subject.id}")
        name = words.calendar_vehicle.format(name=vehicle.name or vehicle.key)
        events = _booking_events(session, vehicle, options, now)
    elif subject.kind == "caseworker":
        caseworker = session.get(Caseworker, subject.id)
        if caseworker is None:
            raise NotFound(f"no caseworker {subject.id}")
        name = words.calendar_caseworker.format(name=caseworker.key)
        events = _appointment_events(session, subject, options, now, site)
    else:
        name = words.calendar_site.format(name=site.name or site.key)
        events = _appointment_events(session, subject, options, now, site)
    return Feed(
        name=name,
        description=words.calendar_description,
        timezone=site.timezone,
        refresh_minutes=options.refresh_minutes,
        language=options.language,
        events=events,
    )
