"""``fieldwork bookings ...`` and ``fieldwork fleet ...``: the shared fleet on the command line.

The same services as the HTTP API (``fleet.bookings``, ``fleet.usage``), audited as
``cli``. Times are ISO 8601; one without a UTC offset is wall-clock time at the
vehicle's office (``2026-12-07T09:00``). A refused booking lists every conflict, one
line each in German, and exits 2, like any bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fleet.models import Vehicle

bookings_app = typer.Typer(no_args_is_help=True, help="Bookings of the shared vehicles.")
fleet_app = typer.Typer(
    no_args_is_help=True, help="The fleet: maintenance, retiring, usage reports."
)

VehicleKey = Annotated[str, typer.Argument(help="the vehicle's id, e.g. ecar-enn-1")]
Start = Annotated[str, typer.Option("--start", help="ISO time; local to the office without offset")]
End = Annotated[str, typer.Option("--end", help="ISO time; local to the office without offset")]


def _fail(message: str) -> NoReturn:
    from api.cli import fail

    fail(message)


def _say(message: str) -> None:
    from api.cli import stdout

    stdout.print(message, markup=False, highlight=False, soft_wrap=True)


def _instant(text: str, zone: ZoneInfo, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not an ISO time (2026-12-07T09:00 or ...+01:00)")
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _vehicle(session: Session, key: str) -> Vehicle:
    from sqlalchemy import select

    from fleet.models import Vehicle

    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == key)).one_or_none()
    if vehicle is None:
        _fail(f"unknown vehicle {key}")
    return vehicle


def _vehicle_by_id(session: Session, vehicle_id: int) -> Vehicle:
    from fleet.models import Vehicle

    vehicle = session.get(Vehicle, vehicle_id)
    assert vehicle is not None  # a booking's vehicle cannot be deleted (RESTRICT)
    return vehicle


def _when(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    first, last = start.astimezone(zone), end.astimezone(zone)
    tail = (
        last.strftime("%H:%M") if first.date() == last.date() else last.strftime("%d.%m.%Y %H:%M")
    )
    return f"{first:%d.%m.%Y %H:%M}-{tail}"


def _run(work: Callable[[Session], None]) -> None:
    """Run ``work(session)`` in one write transaction; domain errors exit 2."""
    # The fleet's foreign keys name scheduler's tables: their metadata must be loaded.
    import scheduler.models  # noqa: F401
    from api.cli import database
    from core.db import create_session_factory, write_transaction
    from core.errors import DomainError
    from fleet.bookings import BookingConflict

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            with write_transaction(session):
                work(session)
        except BookingConflict as conflict:
            _fail("\n".join(f"abgelehnt: {item.reason_de}" for item in conflict.conflicts))
        except DomainError as error:
            _fail(f"{shown}: {error}")


@bookings_app.command("add")
def bookings_add(
    vehicle: VehicleKey,
    start: Start,
    end: End,
    km: Annotated[float, typer.Option(min=0, help="km planned")] = 0.0,
    caseworker: Annotated[str | None, typer.Option(help="who drives (caseworker id)")] = None,
    purpose: Annotated[str | None, typer.Option(help="what for (no family's name)")] = None,
) -> None:
    """Book a vehicle ad hoc; refused with every conflict if it is taken."""
    from sqlalchemy import select

    from fleet.bookings import book, site_zone
    from scheduler.models import Caseworker

    def work(session: Session) -> None:
        car = _vehicle(session, vehicle)
        zone = site_zone(session, car.site_id)
        driver = None
        if caseworker is not None:
            driver = session.scalar(select(Caseworker.id).where(Caseworker.key == caseworker))
            if driver is None:
                _fail(f"unknown caseworker {caseworker}")
        booking = book(
            session,
            vehicle_id=car.id,
            start=_instant(start, zone, "--start"),
            end=_instant(end, zone, "--end"),
            source="adhoc",
            km_planned=km,
            caseworker_id=driver,
            purpose=purpose,
            actor="cli",
        )
        buffer = booking.blocked_until.astimezone(zone).strftime("%H:%M")
        _say(
            f"Buchung {booking.id}: {car.key} {_when(booking.start, booking.end, zone)}"
            f" (frei ab {buffer})"
        )

    _run(work)


@bookings_app.command("change")
def bookings_change(
    booking_id: Annotated[int, typer.Argument(min=1, help="the booking's id")],
    start: Annotated[str | None, typer.Option(help="new start")] = None,
    end: Annotated[str | None, typer.Option(help="new end")] = None,
    vehicle: Annotated[str | None, typer.Option(help="another vehicle")] = None,
    km: Annotated[float | None, typer.Option(min=0, help="km planned")] = None,
) -> None:
    """Move a booking (time, vehicle, km) under the same rules."""
    from fleet.bookings import change, site_zone
    from fleet.models import VehicleBooking

    def work(session: Session) -> None:
        booking = session.get(VehicleBooking, booking_id)
        if booking is None:
            _fail(f"no booking {booking_id}")
        target = _vehicle(session, vehicle) if vehicle is not None else None
        car = target or _vehicle_by_id(session, booking.vehicle_id)
        zone = site_zone(session, car.site_id)
        changed = change(
            session,
            booking_id=booking_id,
            start=_instant(start, zone, "--start") if start else None,
            end=_instant(end, zone, "--end") if end else None,
            vehicle_id=target.id if target else None,
            km_planned=km,
            actor="cli",
        )
        _say(f"Buchung {changed.id}: jetzt {_when(changed.start, changed.end, zone)}")

    _run(work)


@bookings_app.command("cancel")
def bookings_cancel(
    booking_id: Annotated[int, typer.Argument(min=1, help="the booking's id")],
) -> None:
    """Cancel a booking: it stays in the history, its slot is free again."""
    from fleet.bookings import cancel

    def work(session: Session) -> None:
        cancelled = cancel(session, booking_id=booking_id, actor="cli")
        _say(f"Buchung {cancelled.id} storniert")

    _run(work)


@bookings_app.command("list")
def bookings_list(
    vehicle: Annotated[str | None, typer.Option(help="only this vehicle")] = None,
    first: Annotated[str | None, typer.Option("--from", help="first date (YYYY-MM-DD)")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last date (YYYY-MM-DD)")] = None,
    cancelled: Annotated[bool, typer.Option("--cancelled", help="also cancelled ones")] = False,
) -> None:
    """The bookings, earliest first."""
    from rich.table import Table
    from sqlalchemy import select

    from api.cli import database, stdout
    from core.db import create_session_factory
    from fleet.bookings import site_zone
    from fleet.models import Vehicle, VehicleBooking

    with database() as (engine, _), create_session_factory(engine)() as session:
        query = (
            select(VehicleBooking, Vehicle)
            .join(Vehicle, Vehicle.id == VehicleBooking.vehicle_id)
            .order_by(VehicleBooking.start, VehicleBooking.id)
        )
        if vehicle is not None:
            query = query.where(Vehicle.key == vehicle)
        if not cancelled:
            query = query.where(VehicleBooking.status == "active")
        table = Table("Nr.", "Fahrzeug", "Zeit", "km", "Art", "Status", "Zweck")
        for booking, car in session.execute(query):
            zone = site_zone(session, car.site_id)
            day = booking.start.astimezone(zone).date()
            if first is not None and day < _date(first, "--from"):
                continue
            if last is not None and day > _date(last, "--to"):
                continue
            table.add_row(
                str(booking.id),
                car.key,
                _when(booking.start, booking.end, zone),
                f"{booking.km_planned:g}",
                "Plan" if booking.source == "plan" else "ad hoc",
                "aktiv" if booking.status == "active" else "storniert",
                booking.purpose or "",
            )
        stdout.print(table)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")


@fleet_app.command("block")
def fleet_block(
    vehicle: VehicleKey,
    start: Start,
    end: End,
    reason: Annotated[str | None, typer.Option(help="e.g. Inspektion")] = None,
) -> None:
    """Block a vehicle for maintenance (refused while bookings overlap it)."""
    from fleet.bookings import add_block, site_zone

    def work(session: Session) -> None:
        car = _vehicle(session, vehicle)
        zone = site_zone(session, car.site_id)
        block = add_block(
            session,
            vehicle_id=car.id,
            start=_instant(start, zone, "--start"),
            end=_instant(end, zone, "--end"),
            reason=reason,
            actor="cli",
        )
        _say(f"Sperre {block.id}: {car.key} {_when(block.start, block.end, zone)}")

    _run(work)


@fleet_app.command("retire")
def fleet_retire(vehicle: VehicleKey) -> None:
    """Retire a vehicle: no new bookings; lists its future bookings."""
    from fleet.bookings import retire

    def work(session: Session) -> None:
        car, future = retire(session, vehicle_id=_vehicle(session, vehicle).id, actor="cli")
        _say(f"{car.key} außer Dienst gestellt")
        if future:
            _say("Noch gebucht (andere Fahrzeuge suchen): " + ", ".join(str(b.id) for b in future))

    _run(work)


@fleet_app.command("usage")
def fleet_usage(
    first: Annotated[str, typer.Option("--from", help="first date (YYYY-MM-DD)")],
    last: Annotated[str, typer.Option("--to", help="last date, inclusive")],
    site: Annotated[str | None, typer.Option(help="only this office")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="write the CSV (German Excel) here")
    ] = None,
) -> None:
    """Usage per vehicle (utilisation, km, trips, energy, idle days) for a period."""
    from rich.table import Table
    from sqlalchemy import select

    from api.cli import database, stdout
    from core.db import create_session_factory
    from core.errors import DomainError
    from fleet.usage import UsageOptions, to_csv, usage
    from scheduler.models import Site

    options = UsageOptions(first=_date(first, "--from"), last=_date(last, "--to"))
    with database() as (engine, shown), create_session_factory(engine)() as session:
        keys = dict(session.execute(select(Site.id, Site.key)).all())
        site_ids = None
        if site is not None:
            site_ids = [id_ for id_, key in keys.items() if key == site]
            if not site_ids:
                _fail(f"unknown site {site}")
        try:
            result = usage(session, options=options, site_ids=site_ids)
        except DomainError as error:
            _fail(f"{shown}: {error}")
    if output is not None:
        output.write_bytes(to_csv(result, keys))
        _say(f"{output}: {len(result.vehicles)} Fahrzeuge")
        return
    table = Table("Fahrzeug", "Auslastung", "km", "davon geplant", "Fahrten", "kWh", "Leerlauftage")
    for row in result.vehicles:
        share = "-" if row.utilisation is None else f"{row.utilisation * 100:.1f} %"
        table.add_row(
            row.vehicle,
            share.replace(".", ","),
            f"{row.km:.1f}".replace(".", ","),
            f"{row.km_planned:.1f}".replace(".", ","),
            str(row.trips_confirmed + row.trips_planned),
            "-" if row.energy_kwh is None else f"{row.energy_kwh:.1f}".replace(".", ","),
            str(row.idle_days),
        )
    stdout.print(table)
