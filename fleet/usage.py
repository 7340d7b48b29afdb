"""How the fleet is used: per vehicle and per site, for a period of local dates.

Definitions (the README's "Fleet" section repeats them for fleet managers):

- *Service hours*: each date of the period (Monday to Friday unless weekends are asked
  for) from ``day_start`` to ``day_end`` in the site's timezone, until the vehicle was
  retired. *Available hours* are the service hours less maintenance blocks; *booked
  hours* the service hours covered by active bookings (``start``..``end``, handover
  buffers not counted); *utilisation* = booked / available.
- *km* and *trips*: current trip records of the vehicle dated in the period
  (confirmed), plus what is only planned (flagged as such): tours of published plans no
  trip confirms yet, and active ad-hoc bookings no trip names. *Energy* = km x the
  vehicle's consumption (kWh per 100 km), unknown without one.
- *Idle days*: service dates with available hours but no booking.
- Per site and kind: the *peak concurrent demand* in each local hour of the day (the
  most vehicles booked at one instant within that hour on any date of the period; the
  demand adds the requests that found no vehicle), the requests *refused* and *moved*
  for lack of a vehicle, and how many more vehicles of that kind would have served all
  of them (each request on the first extra vehicle free at its start, its handover
  buffer and its day's range respected).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.errors import Infeasible
from fleet.bookings import site_zone
from fleet.models import BookingRefusal, Trip, Vehicle, VehicleBlock, VehicleBooking
from fleet.modes import DEFAULT_HANDOVER_BUFFER_MINUTES, FLEET_VEHICLE_KINDS, MODE_LABELS_DE
from fleet.trips import current_trips, planned_tours

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class UsageOptions:
    first: date
    last: date
    day_start: time = time(7)
    day_end: time = time(19)
    weekends: bool = False


@dataclass(slots=True)
class VehicleUsage:
    vehicle_id: int
    vehicle: str
    site_id: int
    kind: str
    available_hours: float = 0.0
    booked_hours: float = 0.0
    km_confirmed: float = 0.0
    km_planned: float = 0.0
    trips_confirmed: int = 0
    trips_planned: int = 0
    energy_kwh: float | None = None
    idle_days: int = 0
    service_days: int = 0

    @property
    def utilisation(self) -> float | None:
        if self.available_hours <= 0:
            return None
        return self.booked_hours / self.available_hours

    @property
    def km(self) -> float:
        return self.km_confirmed + self.km_planned


@dataclass(slots=True)
class KindUsage:
    """One kind of vehicle at one site."""

    site_id: int
    kind: str
    vehicles: int = 0
    refused: int = 0
    moved: int = 0
    extra_vehicles_needed: int = 0
    #: Per local hour of the day (0..23).
    peak_booked: list[int] = field(default_factory=lambda: [0] * 24)
    peak_demand: list[int] = field(default_factory=lambda: [0] * 24)


@dataclass(frozen=True, slots=True)
class Usage:
    options: UsageOptions
    vehicles: list[VehicleUsage]
    kinds: list[KindUsage]


# ---------------------------------------------------------------------- interval maths


def merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def covered(spans: Sequence[Span], window: Span) -> timedelta:
    """How much of ``window`` the (merged) ``spans`` cover."""
    total = timedelta()
    for start, end in spans:
        low, high = max(start, window[0]), min(end, window[1])
        if high > low:
            total += high - low
    return total


def peak(spans: Iterable[Span], window: Span) -> int:
    """The most ``spans`` overlapping one instant inside ``window`` (half-open)."""
    events: list[tuple[datetime, int]] = []
    for start, end in spans:
        low, high = max(start, window[0]), min(end, window[1])
        if high > low:
            events.append((low, 1))
            events.append((high, -1))
    best = current = 0
    for _, step in sorted(events):  # ends (-1) sort before starts at the same instant
        current += step
        best = max(best, current)
    return best


def service_windows(options: UsageOptions, zone: ZoneInfo) -> list[tuple[date, Span]]:
    windows = []
    day = options.first
    while day <= options.last:
        if options.weekends or day.weekday() < 5:
            windows.append(
                (
                    day,
                    (
                        datetime.combine(day, options.day_start, tzinfo=zone),
                        datetime.combine(day, options.day_end, tzinfo=zone),
                    ),
                )
            )
        day += timedelta(days=1)
    return windows


def _period(options: UsageOptions, zone: ZoneInfo) -> Span:
    return (
        datetime.combine(options.first, time(), tzinfo=zone),
        datetime.combine(options.last + timedelta(days=1), time(), tzinfo=zone),
    )


# ------------------------------------------------------------------------------ usage


def usage(session: Session, *, options: UsageOptions, site_ids: list[int] | None) -> Usage:
    """Usage of the fleet (every site, or these) over ``options``' period."""
    if options.last < options.first:
        raise Infeasible("the period ends before it starts")
    if (options.last - options.first).days > 366:
        raise Infeasible("at most a year at a time")
    if options.day_end <= options.day_start:
        raise Infeasible("day_end must be after day_start")
    query = select(Vehicle).order_by(Vehicle.site_id, Vehicle.key)
    if site_ids is not None:
        query = query.where(Vehicle.site_id.in_(site_ids))
    vehicles = list(session.scalars(query))
    sites = sorted({v.site_id for v in vehicles} | set(site_ids or []))
    zones = {site_id: site_zone(session, site_id) for site_id in sites}
    rows: list[VehicleUsage] = []
    booked_by_vehicle: dict[int, list[Span]] = {}
    for vehicle in vehicles:
        zone = zones[vehicle.site_id]
        period = _period(options, zone)
        if vehicle.retired_at is not None and vehicle.retired_at <= period[0]:
            continue
        row, booked = _vehicle_usage(session, vehicle, options, zone, period)
        rows.append(row)
        booked_by_vehicle[vehicle.id] = booked
    _add_trips(session, rows, options)
    kinds = [
        _kind_usage(session, site_id, kind, vehicles, booked_by_vehicle, options, zones[site_id])
        for site_id in sites
        for kind in FLEET_VEHICLE_KINDS
        if any(v.site_id == site_id and v.kind == kind for v in vehicles)
        or _has_refusals(session, site_id, kind, options, zones[site_id])
    ]
    return Usage(options=options, vehicles=rows, kinds=kinds)


def _vehicle_usage(
    session: Session,
    vehicle: Vehicle,
    options: UsageOptions,
    zone: ZoneInfo,
    period: Span,
) -> tuple[VehicleUsage, list[Span]]:
    blocks = merged(
        session.execute(
            select(VehicleBlock.start, VehicleBlock.end).where(
                VehicleBlock.vehicle_id == vehicle.id,
                VehicleBlock.end > period[0],
                VehicleBlock.start < period[1],
            )
        )
    )
    booked = [
        (start, end)
        for start, end in session.execute(
            select(VehicleBooking.start, VehicleBooking.end).where(
                VehicleBooking.vehicle_id == vehicle.id,
                VehicleBooking.status == "active",
                VehicleBooking.end > period[0],
                VehicleBooking.start < period[1],
            )
        )
    ]
    booked_merged = merged(booked)
    row = VehicleUsage(
        vehicle_id=vehicle.id, vehicle=vehicle.key, site_id=vehicle.site_id, kind=vehicle.kind
    )
    for _, (start, end) in service_windows(options, zone):
        if vehicle.retired_at is not None:
            end = min(end, vehicle.retired_at)
        if end <= start:
            continue
        available = (end - start) - covered(blocks, (start, end))
        if available <= timedelta():
            continue
        row.service_days += 1
        taken = covered(booked_merged, (start, end))
        row.available_hours += available.total_seconds() / 3600
        row.booked_hours += taken.total_seconds() / 3600
        if taken <= timedelta():
            row.idle_days += 1
    return row, booked


def _add_trips(session: Session, rows: list[VehicleUsage], options: UsageOptions) -> None:
    by_id = {row.vehicle_id: row for row in rows}
    if not by_id:
        return
    trips = session.scalars(
        current_trips().where(
            Trip.vehicle_id.in_(by_id),
            Trip.date >= options.first,
            Trip.date <= options.last,
            Trip.confirmed.is_(True),
        )
    )
    for trip in trips:
        row = by_id[trip.vehicle_id or 0]
        row.km_confirmed += trip.km
        row.trips_confirmed += 1
    for tour in planned_tours(session, first=options.first, last=options.last):
        if tour.vehicle_id in by_id:
            by_id[tour.vehicle_id].km_planned += tour.km_planned
            by_id[tour.vehicle_id].trips_planned += 1
    # Ad-hoc bookings nobody has logged a trip for count as planned, like tours.
    logged = exists(select(Trip.id).where(Trip.booking_id == VehicleBooking.id))
    for vehicle_id, start, km in session.execute(
        select(VehicleBooking.vehicle_id, VehicleBooking.start, VehicleBooking.km_planned).where(
            VehicleBooking.vehicle_id.in_(by_id),
            VehicleBooking.source == "adhoc",
            VehicleBooking.status == "active",
            ~logged,
        )
    ):
        row = by_id[vehicle_id]
        vehicle = session.get(Vehicle, vehicle_id)
        assert vehicle is not None
        day = start.astimezone(site_zone(session, vehicle.site_id)).date()
        if options.first <= day <= options.last:
            row.km_planned += km
            row.trips_planned += 1
    for row in rows:
        vehicle = session.get(Vehicle, row.vehicle_id)
        assert vehicle is not None
        if vehicle.consumption_kwh_per_100km is not None:
            row.energy_kwh = row.km * vehicle.consumption_kwh_per_100km / 100


def _refusals(
    session: Session, site_id: int, kind: str, options: UsageOptions, zone: ZoneInfo
) -> list[BookingRefusal]:
    period = _period(options, zone)
    return list(
        session.scalars(
            select(BookingRefusal)
            .where(
                BookingRefusal.site_id == site_id,
                BookingRefusal.kind == kind,
                BookingRefusal.start < period[1],
                BookingRefusal.end > period[0],
            )
            .order_by(BookingRefusal.start, BookingRefusal.id)
        )
    )


def _has_refusals(
    session: Session, site_id: int, kind: str, options: UsageOptions, zone: ZoneInfo
) -> bool:
    return bool(_refusals(session, site_id, kind, options, zone))


def extra_vehicles(
    requests: Sequence[tuple[datetime, datetime, float]],
    *,
    buffer: timedelta,
    range_km: float,
    zone: ZoneInfo,
) -> int:
    """How many more vehicles would have served every request (start, end, km): each on
    the first extra vehicle free at its start (earliest start first), a handover buffer
    after each, at most ``range_km`` per local date."""
    fleet: list[tuple[datetime, dict[date, float]]] = []
    for start, end, km in sorted(requests):
        day = start.astimezone(zone).date()
        for index, (free_from, used) in enumerate(fleet):
            if free_from <= start and used.get(day, 0.0) + km <= range_km + 1e-9:
                used[day] = used.get(day, 0.0) + km
                fleet[index] = (end + buffer, used)
                break
        else:
            fleet.append((end + buffer, {day: km}))
    return len(fleet)


def _kind_usage(
    session: Session,
    site_id: int,
    kind: str,
    vehicles: list[Vehicle],
    booked_by_vehicle: dict[int, list[Span]],
    options: UsageOptions,
    zone: ZoneInfo,
) -> KindUsage:
    mine = [v for v in vehicles if v.site_id == site_id and v.kind == kind]
    row = KindUsage(site_id=site_id, kind=kind, vehicles=sum(1 for v in mine if v.active))
    booked = [span for v in mine for span in booked_by_vehicle.get(v.id, [])]
    refusals = _refusals(session, site_id, kind, options, zone)
    row.refused = sum(1 for r in refusals if r.outcome == "refused")
    row.moved = sum(1 for r in refusals if r.outcome == "moved")
    unmet = [(r.start, r.end) for r in refusals]
    day = options.first
    while day <= options.last:
        if options.weekends or day.weekday() < 5:
            # Only the spans touching this date can touch its hours (a month of bookings
            # is not scanned 24 times a day).
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            today = (midnight, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))
            booked_today = [span for span in booked if span[0] < today[1] and span[1] > today[0]]
            demand_today = booked_today + [
                span for span in unmet if span[0] < today[1] and span[1] > today[0]
            ]
            for hour in range(24):
                start = datetime.combine(day, time(hour), tzinfo=zone)
                window = (start, start + timedelta(hours=1))
                row.peak_booked[hour] = max(row.peak_booked[hour], peak(booked_today, window))
                row.peak_demand[hour] = max(row.peak_demand[hour], peak(demand_today, window))
        day += timedelta(days=1)
    if refusals:
        active = [v for v in mine if v.active] or mine
        row.extra_vehicles_needed = extra_vehicles(
            [(r.start, r.end, r.km) for r in refusals],
            buffer=timedelta(
                minutes=max(
                    (v.handover_buffer_minutes for v in active),
                    default=DEFAULT_HANDOVER_BUFFER_MINUTES[kind],
                )
            ),
            range_km=max((v.range_km for v in active), default=float("inf")),
            zone=zone,
        )
    return row


# -------------------------------------------------------------------------------- CSV


def _number(value: float | None, digits: int = 1) -> str:
    """German Excel reads a decimal comma; unknown stays empty."""
    if value is None:
        return ""
    return f"{value:.{digits}f}".replace(".", ",")


VEHICLE_COLUMNS = (
    "Fahrzeug",
    "Standort",
    "Art",
    "Verfügbare Stunden",
    "Gebuchte Stunden",
    "Auslastung (%)",
    "km bestätigt",
    "km nur geplant",
    "Fahrten bestätigt",
    "Fahrten nur geplant",
    "Energie (kWh)",
    "Einsatztage",
    "Tage ohne Buchung",
)
HOUR_COLUMNS = (
    "Standort",
    "Art",
    "Stunde",
    "Fahrzeuge",
    "Spitze gebucht",
    "Spitze Bedarf",
    "Abgelehnt",
    "Verschoben",
    "Fehlende Fahrzeuge",
)


def csv_rows(result: Usage, site_keys: dict[int, str]) -> list[list[str]]:
    """The usage as CSV rows: per vehicle, then a blank line, then per site, kind, hour."""
    rows: list[list[str]] = [list(VEHICLE_COLUMNS)]
    for item in result.vehicles:
        utilisation = item.utilisation
        rows.append(
            [
                item.vehicle,
                site_keys.get(item.site_id, str(item.site_id)),
                MODE_LABELS_DE.get(item.kind, item.kind),
                _number(item.available_hours),
                _number(item.booked_hours),
                _number(None if utilisation is None else utilisation * 100),
                _number(item.km_confirmed),
                _number(item.km_planned),
                str(item.trips_confirmed),
                str(item.trips_planned),
                _number(item.energy_kwh),
                str(item.service_days),
                str(item.idle_days),
            ]
        )
    rows.append([])
    rows.append(list(HOUR_COLUMNS))
    for kind in result.kinds:
        for hour in range(24):
            rows.append(
                [
                    site_keys.get(kind.site_id, str(kind.site_id)),
                    MODE_LABELS_DE.get(kind.kind, kind.kind),
                    f"{hour:02d}:00",
                    str(kind.vehicles),
                    str(kind.peak_booked[hour]),
                    str(kind.peak_demand[hour]),
                    str(kind.refused),
                    str(kind.moved),
                    str(kind.extra_vehicles_needed),
                ]
            )
    return rows


def to_csv(result: Usage, site_keys: dict[int, str]) -> bytes:
    """German Excel's CSV: UTF-8 with a byte-order mark, semicolons, decimal commas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(csv_rows(result, site_keys))
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
