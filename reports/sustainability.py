"""The sustainability report: trips, tours, bookings and paperless steps of a period,
turned into km, energy, CO2e by mode and GHG scope, avoided CO2e and paper avoided.

What counts as a trip:
- every *current* record of the trip log (``fleet.models.Trip``; the current record is
  the one no other record corrects): a confirmed tour, an ad-hoc trip, or a tour's
  record not yet confirmed (``confirmed`` false: counted with its planned km, flagged
  ``planned``);
- every tour of a published plan that has no current record in the log: counted with
  its planned km and flagged ``planned``.

Each trip's CO2e comes from the factor set of its own year (``fleet.emissions``):
electric modes use the energy the vehicle needs (its own consumption, else its kind's)
times the grid mix; other modes km times g/km, tailpipe and upstream apart. The GHG
Protocol view assigns pool cars' fuel to scope 1 (its supply to scope 3 cat. 3), pool
e-vehicles' electricity to scope 2, and private cars, car-sharing and public transport
to scope 3 cat. 6. Avoided CO2e is the baseline mode's CO2e for the same km minus the
actual, reported beside the inventory and never subtracted from it.

Nothing here writes: the report is a read of the database at one instant.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.errors import DomainError
from core.paperless import PAPERLESS_KINDS, PaperlessEvent
from fleet.emissions import FactorFile, FactorSet, factor_file, factor_set
from fleet.models import Trip, Vehicle, VehicleBlock, VehicleBooking
from reports.german import KIND_DE
from reports.periods import Period
from reports.schemas import (
    Factors,
    FactorUsed,
    ModeLine,
    Paper,
    PaperLine,
    PlannedConfirmed,
    ReportPeriod,
    Scope,
    ScopeLine,
    SustainabilityReport,
    Totals,
    TripLine,
    TripStatus,
    VehicleLine,
)
from scheduler.models import Appointment, Caseworker, Plan, Site, Tour
from scheduler.rules import region_holidays

#: A pool vehicle is available on working days (Monday to Friday, not a public holiday
#: of its site's region) from 08:00 to 18:00 local time, less its blocked times.
SERVICE_START = time(8, 0)
SERVICE_END = time(18, 0)
#: The timezone of a programme whose sites do not share one.
DEFAULT_TIMEZONE = "Europe/Berlin"

SCOPE_LABELS: dict[Scope, str] = {
    "scope1": "Scope 1: Kraftstoff der Dienstwagen",
    "scope2": "Scope 2: Strom der E-Fahrzeuge",
    "scope3_cat3": "Scope 3 Kat. 3: Vorkette von Kraftstoff und Strom",
    "scope3_cat6": "Scope 3 Kat. 6: Dienstreisen (Privat-Pkw, Carsharing, ÖPNV)",
}

PAPERLESS_LABELS: dict[str, str] = {
    "plan_published": "Wochenplan in Kalender statt gedruckter Dienstplan",
    "trip_confirmed": "Fahrt digital bestätigt statt Fahrtenbuchzeile",
    "booking_online": "Fahrzeug online gebucht statt Papierliste",
    "visit_record": "Besuchsdokumentation digital",
    "consent": "Einwilligung digital",
}

STATUS_LABELS: dict[str, str] = {
    "planned": "geplant (unbestätigt)",
    "confirmed": "bestätigt",
    "adhoc": "ad hoc",
}


class ReportOptionInvalid(DomainError):
    """An option the report cannot work with; ``option`` names it (``period``,
    ``site``, ``factor_set``, ``baseline``) for the API's field path and the CLI."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What a report is about and which factors it uses."""

    period: Period
    #: A site's key, or None for the whole programme.
    site: str | None = None
    #: The factor set (``uba`` by default) and the baseline mode (the file's default,
    #: a private petrol car).
    factor_source: str | None = None
    baseline_mode: str | None = None
    #: A factor file of one's own instead of the packaged one.
    factors: FactorFile | None = None


@dataclass(slots=True)
class _Trip:
    """A trip on its way into the report: the trip log's record or a planned tour."""

    ref: str
    day: date
    caseworker_id: int | None
    site_id: int
    mode: str
    vehicle_id: int | None
    status: TripStatus
    corrected: bool
    km_planned: float | None
    km: float
    tour: tuple[int, str] | None


@dataclass(slots=True)
class _Sums:
    trips: int = 0
    km: float = 0.0
    energy_kwh: float = 0.0
    co2e_g: float = 0.0
    tailpipe_g: float = 0.0
    upstream_g: float = 0.0
    unsplit_g: float = 0.0
    baseline_g: float = 0.0

    def add(self, line: _Computed) -> None:
        self.trips += 1
        self.km += line.km
        self.energy_kwh += line.energy_kwh or 0.0
        self.co2e_g += line.co2e_g
        if line.tailpipe_g is None or line.upstream_g is None:
            self.unsplit_g += line.co2e_g
        else:
            self.tailpipe_g += line.tailpipe_g
            self.upstream_g += line.upstream_g
        self.baseline_g += line.baseline_g


@dataclass(slots=True)
class _Computed:
    trip: _Trip
    km: float
    energy_kwh: float | None
    co2e_g: float
    tailpipe_g: float | None
    upstream_g: float | None
    scopes: dict[Scope, float] = field(default_factory=dict)
    baseline_g: float = 0.0


def kg(grams: float) -> float:
    """Grams as kg, rounded to the gram (and never ``-0.0``)."""
    return round(grams / 1000.0, 3) + 0.0


def _km(value: float) -> float:
    return round(value, 3) + 0.0


def _kwh(value: float) -> float:
    return round(value, 3) + 0.0


# ------------------------------------------------------------------------ the factors


class _FactorBook:
    """The factor set of each year a report touches, resolved once."""

    def __init__(self, options: ReportOptions) -> None:
        self.file = options.factors or factor_file()
        self.source = options.factor_source or self.file.default_set
        self.baseline_mode = options.baseline_mode or self.file.baseline_mode
        if self.baseline_mode not in self.file.modes:
            known = ", ".join(self.file.modes)
            raise ReportOptionInvalid(
                "baseline", f"unknown baseline mode {self.baseline_mode!r}; known: {known}"
            )
        sets = sorted({key for year in self.file.years.values() for key in year})
        if self.source not in sets:
            raise ReportOptionInvalid(
                "factor_set", f"unknown factor set {self.source!r}; known: {', '.join(sets)}"
            )
        self._sets: dict[int, FactorSet] = {}
        # Fail early: a period before the first reference year, a set that lacks a figure.
        try:
            self.for_year(options.period.start.year)
        except ValueError as error:
            raise ReportOptionInvalid("period", str(error)) from None

    def for_year(self, year: int) -> FactorSet:
        if year not in self._sets:
            self._sets[year] = factor_set(year=year, source=self.source, factors=self.file)
        return self._sets[year]

    @property
    def used(self) -> list[FactorSet]:
        unique = {factors.year: factors for factors in self._sets.values()}
        return [unique[year] for year in sorted(unique)]


def _compute(trip: _Trip, book: _FactorBook, consumption: dict[int, float | None]) -> _Computed:
    factors = book.for_year(trip.day.year)
    if trip.mode not in factors.classes:
        raise ValueError(f"{trip.ref}: no factors for the mode {trip.mode!r}")
    mode_class = factors.classes[trip.mode]
    km = trip.km
    energy_kwh: float | None = None
    scopes: dict[Scope, float] = {}
    if mode_class.energy_kind is not None:
        own = consumption.get(trip.vehicle_id) if trip.vehicle_id is not None else None
        per_100km = own if own is not None else factors.consumption[mode_class.energy_kind].value
        energy_kwh = km * per_100km / 100.0
        tailpipe_g: float | None = 0.0
        upstream_g: float | None = energy_kwh * factors.grid_g_per_kwh
        co2e_g = upstream_g or 0.0
        direct = energy_kwh * factors.grid.direct_g_per_kwh
        scopes["scope2"] = direct
        if co2e_g - direct:
            scopes["scope3_cat3"] = co2e_g - direct
    else:
        factor = factors.modes[trip.mode]
        co2e_g = km * factor.total_g_per_km
        # None: the source gives the total only. A source that gives the tailpipe
        # alone (tank-to-wheel) includes no upstream part: zero, not unknown.
        tailpipe_g = None if factor.tailpipe_g_per_km is None else km * factor.tailpipe_g_per_km
        upstream_g = (
            None if factor.tailpipe_g_per_km is None else km * (factor.upstream_g_per_km or 0.0)
        )
        if mode_class.ghg == "pool_fuel":
            scopes["scope1"] = tailpipe_g if tailpipe_g is not None else co2e_g
            if upstream_g:
                scopes["scope3_cat3"] = upstream_g
        elif mode_class.ghg == "business_travel":
            scopes["scope3_cat6"] = co2e_g
    baseline = book.baseline_mode
    baseline_g = km * factors.mode_g_per_km(baseline)
    return _Computed(
        trip=trip,
        km=km,
        energy_kwh=energy_kwh,
        co2e_g=co2e_g,
        tailpipe_g=tailpipe_g,
        upstream_g=upstream_g,
        scopes=scopes,
        baseline_g=baseline_g,
    )


# ------------------------------------------------------------------------ the reading


def _site(session: Session, key: str | None) -> Site | None:
    if key is None:
        return None
    site = session.scalar(select(Site).where(Site.key == key))
    if site is None:
        raise ReportOptionInvalid("site", f"unknown site {key!r}")
    return site


def _trips(session: Session, period: Period, site: Site | None) -> list[_Trip]:
    """Current records of the trip log in the period, and published tours without one."""
    newer = aliased(Trip)
    current = ~select(newer.id).where(newer.corrects_id == Trip.id).exists()
    query = select(Trip).where(Trip.date >= period.start, Trip.date <= period.end, current)
    if site is not None:
        query = query.where(Trip.site_id == site.id)
    trips: list[_Trip] = []
    for record in session.scalars(query.order_by(Trip.date, Trip.id)):
        status: TripStatus = (
            "adhoc" if record.source == "adhoc" else "confirmed" if record.confirmed else "planned"
        )
        trips.append(
            _Trip(
                ref=f"trip:{record.id}",
                day=record.date,
                caseworker_id=record.caseworker_id,
                site_id=record.site_id,
                mode=record.mode,
                vehicle_id=record.vehicle_id,
                status=status,
                corrected=record.corrects_id is not None,
                km_planned=record.km_planned,
                km=record.km,
                tour=(
                    (record.plan_id, record.tour_key)
                    if record.plan_id is not None and record.tour_key is not None
                    else None
                ),
            )
        )

    # A tour is logged when any current record names it, whatever that record's date
    # (a correction may move a trip to another day). Looked up in one query per report
    # rather than per tour: PostgreSQL plans a doubly correlated NOT EXISTS badly.
    tours = (
        select(Tour, Caseworker.site_id)
        .join(Plan, Plan.id == Tour.plan_id)
        .join(Caseworker, Caseworker.id == Tour.caseworker_id)
        .where(Plan.status == "published", Tour.date >= period.start, Tour.date <= period.end)
    )
    if site is not None:
        tours = tours.where(Caseworker.site_id == site.id)
    published = list(session.execute(tours.order_by(Tour.date, Tour.id)))
    plan_ids = sorted({tour.plan_id for tour, _ in published})
    logged: set[tuple[int | None, str | None]] = set()
    for chunk in range(0, len(plan_ids), 500):
        rows = session.execute(
            select(Trip.plan_id, Trip.tour_key).where(
                Trip.plan_id.in_(plan_ids[chunk : chunk + 500]), current
            )
        )
        logged.update((plan_id, tour_key) for plan_id, tour_key in rows)
    # A re-plan carries a confirmed tour over into the new plan (same key, caseworker
    # and date): the trip that confirmed it under an earlier plan of the week counts.
    weeks: dict[int, int] = {
        plan_id: week_id
        for plan_id, week_id in session.execute(
            select(Plan.id, Plan.week_id).where(Plan.id.in_(plan_ids))
        )
    }
    logged_in_week: set[tuple[int, str, int, date]] = set()
    week_ids = sorted(set(weeks.values()))
    for chunk in range(0, len(week_ids), 500):
        earlier = session.execute(
            select(Plan.week_id, Tour.key, Tour.caseworker_id, Tour.date)
            .select_from(Trip)
            .join(Tour, (Tour.plan_id == Trip.plan_id) & (Tour.key == Trip.tour_key))
            .join(Plan, Plan.id == Tour.plan_id)
            .where(Plan.week_id.in_(week_ids[chunk : chunk + 500]), current)
        )
        logged_in_week.update(
            (week_id, key, caseworker_id, day) for week_id, key, caseworker_id, day in earlier
        )
    for tour, site_id in published:
        if (tour.plan_id, tour.key) in logged or (
            weeks[tour.plan_id],
            tour.key,
            tour.caseworker_id,
            tour.date,
        ) in logged_in_week:
            continue
        trips.append(
            _Trip(
                ref=f"tour:{tour.id}",
                day=tour.date,
                caseworker_id=tour.caseworker_id,
                site_id=site_id,
                mode=tour.mode,
                vehicle_id=tour.vehicle_id,
                status="planned",
                corrected=False,
                km_planned=tour.distance_km,
                km=tour.distance_km,
                tour=(tour.plan_id, tour.key),
            )
        )
    trips.sort(key=lambda trip: (trip.day, trip.ref.split(":")[0], int(trip.ref.split(":")[1])))
    return trips


def _home_visits(session: Session, tours: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    wanted = set(tours)
    if not wanted:
        return {}
    plan_ids = {plan_id for plan_id, _ in wanted}
    query = (
        select(Appointment.plan_id, Appointment.tour_key, func.count())
        .where(Appointment.plan_id.in_(plan_ids), Appointment.status != "cancelled")
        .group_by(Appointment.plan_id, Appointment.tour_key)
    )
    counts: dict[tuple[int, str], int] = {}
    for plan_id, tour_key, count in session.execute(query):
        if tour_key is not None and (plan_id, tour_key) in wanted:
            counts[(plan_id, tour_key)] = count
    return counts


def _pseudonyms(caseworker_ids: Iterable[int], salt: str) -> dict[int, str]:
    """``MA-01``, ``MA-02``... in an order that depends on the report (period and
    site), so the numbers neither follow the caseworkers' ids nor link two reports."""
    ordered = sorted(
        set(caseworker_ids),
        key=lambda cid: hashlib.sha256(f"{salt}:{cid}".encode()).hexdigest(),
    )
    width = max(2, len(str(len(ordered))))
    return {cid: f"MA-{number:0{width}d}" for number, cid in enumerate(ordered, start=1)}


def _zone(sites: Sequence[Site], site: Site | None) -> ZoneInfo:
    if site is not None:
        return ZoneInfo(site.timezone)
    zones = {candidate.timezone for candidate in sites}
    return ZoneInfo(zones.pop() if len(zones) == 1 else DEFAULT_TIMEZONE)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _overlap(
    intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> float:
    """Hours of the union of ``intervals`` inside ``start``..``end``."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    hours = 0.0
    cursor = start
    for a, b in clipped:
        a = max(a, cursor)
        if b > a:
            hours += (b - a).total_seconds() / 3600.0
            cursor = b
    return hours


def _vehicle_lines(
    session: Session,
    period: Period,
    site: Site | None,
    sites: dict[int, Site],
    computed: Sequence[_Computed],
) -> list[VehicleLine]:
    """Each pool e-vehicle: trips, km, energy, booked against available hours."""
    query = select(Vehicle).where(Vehicle.kind.in_(("e_car", "e_bike", "cargo_bike")))
    if site is not None:
        query = query.where(Vehicle.site_id == site.id)
    period_start = datetime.combine(period.start, time(0), tzinfo=UTC) - timedelta(days=1)
    period_end = datetime.combine(period.end, time(0), tzinfo=UTC) + timedelta(days=2)
    lines: list[VehicleLine] = []
    years = range(period.start.year, period.end.year + 1)
    holidays_by_region: dict[str | None, dict[date, str]] = {}
    for vehicle in session.scalars(query.order_by(Vehicle.key)):
        if vehicle.retired_at is not None and vehicle.retired_at < period_start:
            continue
        home = sites[vehicle.site_id]
        zone = ZoneInfo(home.timezone)
        if home.region not in holidays_by_region:
            holidays_by_region[home.region] = region_holidays(home.region, years)
        holidays = holidays_by_region[home.region]
        bookings = [
            (booking.start, booking.end)
            for booking in session.scalars(
                select(VehicleBooking).where(
                    VehicleBooking.vehicle_id == vehicle.id,
                    VehicleBooking.status == "active",
                    VehicleBooking.start < period_end,
                    VehicleBooking.end > period_start,
                )
            )
        ]
        blocks = [
            (block.start, block.end)
            for block in session.scalars(
                select(VehicleBlock).where(
                    VehicleBlock.vehicle_id == vehicle.id,
                    VehicleBlock.start < period_end,
                    VehicleBlock.end > period_start,
                )
            )
        ]
        booked = available = 0.0
        day = period.start
        while day <= period.end:
            if day.weekday() < 5 and day not in holidays:
                start = _instant(day, SERVICE_START, zone)
                end = _instant(day, SERVICE_END, zone)
                if vehicle.retired_at is not None:
                    end = min(end, vehicle.retired_at)
                if end > start:
                    open_hours = (end - start).total_seconds() / 3600.0
                    available += open_hours - _overlap(blocks, start, end)
                    booked += _overlap(bookings, start, end)
            day += timedelta(days=1)
        own = [line for line in computed if line.trip.vehicle_id == vehicle.id]
        lines.append(
            VehicleLine(
                vehicle=vehicle.key,
                kind=vehicle.kind,
                site=home.key,
                trips=len(own),
                km=_km(sum(line.km for line in own)),
                energy_kwh=_kwh(sum(line.energy_kwh or 0.0 for line in own)),
                booked_hours=round(booked, 2),
                available_hours=round(available, 2),
                utilisation=round(booked / available, 4) if available > 0 else None,
            )
        )
    return lines


def _paper(
    session: Session, period: Period, site: Site | None, zone: ZoneInfo, book: _FactorBook
) -> Paper:
    start = _instant(period.start, time(0), zone)
    end = _instant(period.end + timedelta(days=1), time(0), zone)
    query = select(PaperlessEvent.kind, PaperlessEvent.at, PaperlessEvent.count).where(
        PaperlessEvent.at >= start, PaperlessEvent.at < end
    )
    if site is not None:
        query = query.where(PaperlessEvent.site_id == site.id)
    events: dict[str, int] = defaultdict(int)
    pages: dict[str, float] = defaultdict(float)
    sheets: dict[str, float] = defaultdict(float)
    paper_g: dict[str, float] = defaultdict(float)
    co2e_g: dict[str, float] = defaultdict(float)
    for kind, at, count in session.execute(query):
        factors = book.for_year(at.astimezone(zone).year)
        event_pages = count * factors.paperless_pages[kind].pages_per_event
        event_sheets = event_pages / factors.paper.pages_per_sheet
        events[kind] += count
        pages[kind] += event_pages
        sheets[kind] += event_sheets
        paper_g[kind] += event_sheets * factors.paper.g_per_sheet
        co2e_g[kind] += event_sheets * factors.paper.g_co2e_per_sheet
    current = book.for_year(period.end.year)
    lines = [
        PaperLine(
            kind=kind,
            label=PAPERLESS_LABELS[kind],
            events=events[kind],
            pages_per_event=current.paperless_pages[kind].pages_per_event,
            pages=round(pages[kind], 3),
            sheets=round(sheets[kind], 3),
            paper_kg=kg(paper_g[kind]),
            co2e_kg=kg(co2e_g[kind]),
        )
        for kind in PAPERLESS_KINDS
    ]
    return Paper(
        lines=lines,
        sheets=round(sum(sheets.values()), 3),
        paper_kg=kg(sum(paper_g.values())),
        co2e_kg=kg(sum(co2e_g.values())),
    )


def _factor_items(book: _FactorBook, modes_used: set[str]) -> list[FactorUsed]:
    items: list[FactorUsed] = []
    for factors in book.used:
        common = {"reference_year": factors.year, "set": factors.key}
        wanted = modes_used | {book.baseline_mode}
        for mode in factors.classes:
            if mode not in wanted or factors.classes[mode].energy_kind is not None:
                continue
            factor = factors.modes[mode]
            items.append(
                FactorUsed(
                    **common,
                    what=f"{factors.classes[mode].label} je km",
                    key=f"mode.{mode}",
                    value=factor.total_g_per_km,
                    unit="g CO2e/km",
                    tailpipe=factor.tailpipe_g_per_km,
                    upstream=factor.upstream_g_per_km,
                    boundary=factor.boundary,
                    source=factor.source,
                    publisher=factor.publisher,
                    year=factor.year,
                    verified=factor.verified,
                    note=factor.note,
                )
            )
        grid = factors.grid
        items.append(
            FactorUsed(
                **common,
                what="Strommix Deutschland je kWh",
                key="grid",
                value=factors.grid_g_per_kwh,
                unit="g CO2e/kWh",
                tailpipe=grid.direct_g_per_kwh,
                upstream=grid.upstream_g_per_kwh,
                boundary=grid.boundary,
                source=grid.source,
                publisher=grid.publisher,
                year=grid.year,
                verified=grid.verified,
                note=grid.note,
            )
        )
        for kind, consumption in sorted(factors.consumption.items()):
            label = KIND_DE.get(kind, kind)
            items.append(
                FactorUsed(
                    **common,
                    what=f"Verbrauch {label} (ohne Fahrzeugangabe)",
                    key=f"consumption.{kind}",
                    value=consumption.value,
                    unit="kWh/100 km",
                    boundary="at_the_plug",
                    source=consumption.source,
                    publisher=consumption.publisher,
                    year=consumption.year,
                    verified=consumption.verified,
                    note=consumption.note,
                )
            )
        paper = factors.paper
        items.append(
            FactorUsed(
                **common,
                what="Papier je Blatt A4",
                key="paper",
                value=paper.g_co2e_per_sheet,
                unit="g CO2e/Blatt",
                boundary=paper.boundary,
                source=paper.source,
                publisher=paper.publisher,
                year=paper.year,
                verified=paper.verified,
                note=paper.note,
            )
        )
        for kind in PAPERLESS_KINDS:
            pages = factors.paperless_pages[kind]
            items.append(
                FactorUsed(
                    **common,
                    what=f"Seiten je Schritt: {PAPERLESS_LABELS[kind]}",
                    key=f"paperless.{kind}",
                    value=pages.pages_per_event,
                    unit="Seiten",
                    boundary="none",
                    source=pages.source,
                    publisher=pages.publisher,
                    year=pages.year,
                    verified=pages.verified,
                    note=pages.note,
                )
            )
    return items


def _method(book: _FactorBook) -> list[str]:
    years = ", ".join(str(factors.year) for factors in book.used)
    baseline_label = book.file.modes[book.baseline_mode].label
    return [
        "Erfasst sind alle Fahrten des Fahrtenbuchs im Zeitraum in ihrer aktuellen Fassung "
        "(eine Korrektur ersetzt den korrigierten Eintrag) sowie alle Touren "
        "veröffentlichter Pläne, zu denen noch keine Fahrt bestätigt ist; diese zählen mit "
        "ihren geplanten km und sind als „geplant“ gekennzeichnet.",
        "CO2e je Fahrt: Verbrenner und ÖPNV km × Faktor je km (Auspuff und Vorkette getrennt, "
        "soweit die Quelle sie trennt); E-Fahrzeuge Energie (km × Verbrauch des Fahrzeugs, "
        "sonst der Fahrzeugart) × Strommix. Faktoren des Faktorsatzes "
        f"„{book.source}“, Bezugsjahr {years}, jeweils das neueste Bezugsjahr bis zum Jahr "
        "der Fahrt (Faktordatei fleet/data/emission_factors.json).",
        "GHG Protocol: Kraftstoff der Dienstwagen Scope 1 (seine Vorkette Scope 3 Kat. 3), "
        "Strom der E-Fahrzeuge Scope 2 (standortbasiert, Strommix), Privat-Pkw, Carsharing "
        "und ÖPNV Scope 3 Kat. 6 (Dienstreisen). Zu Fuß: keine Emissionen.",
        f"Vermiedene Emissionen: dieselben km mit der Vergleichsbasis „{baseline_label}“ "
        "abzüglich der tatsächlichen Emissionen. Sie werden getrennt ausgewiesen und nie "
        "mit dem Inventar verrechnet.",
        "CO2e je Hausbesuch: CO2e der Touren geteilt durch die Hausbesuche dieser Touren; "
        "Ad-hoc-Fahrten nennen keine Besuche und zählen hier nicht mit.",
        "Emissionsarm: zu Fuß, E-Bike, E-Auto und ÖPNV. Auslastung der E-Fahrzeuge: "
        "gebuchte Stunden je verfügbare Stunden (Werktage ohne Feiertage der Region, "
        f"{SERVICE_START:%H:%M}–{SERVICE_END:%H:%M} Uhr, ohne Sperrzeiten).",
        "Papier: papierlose Schritte werden dort gezählt, wo sie geschehen (Plan "
        "veröffentlicht, Fahrt bestätigt, Fahrzeug online gebucht, Dokumentation und "
        "Einwilligung digital); Seiten je Schritt und CO2e je Blatt laut Faktordatei.",
        "Mitarbeitende erscheinen nur unter Pseudonymen dieses Berichts (MA-01, ...); "
        "Haushalte erscheinen nicht. Massen in kg CO2e, auf das Gramm gerundet; Summen "
        "werden vor dem Runden gebildet.",
    ]


# ------------------------------------------------------------------------- the report


def sustainability_report(*, session: Session, options: ReportOptions) -> SustainabilityReport:
    """The report for ``options`` (period, site, factors), read from the database.

    Raises ``ReportOptionInvalid`` for an unknown site, factor set or baseline mode and
    for a period the factors do not cover.
    """
    period = options.period
    book = _FactorBook(options)
    site = _site(session, options.site)
    all_sites = list(session.scalars(select(Site).order_by(Site.key)))
    sites = {candidate.id: candidate for candidate in all_sites}
    zone = _zone(all_sites, site)

    trips = _trips(session, period, site)
    vehicle_ids = {trip.vehicle_id for trip in trips if trip.vehicle_id is not None}
    vehicles = {
        vehicle.id: vehicle
        for vehicle in (
            session.scalars(select(Vehicle).where(Vehicle.id.in_(vehicle_ids)))
            if vehicle_ids
            else []
        )
    }
    consumption = {vid: vehicle.consumption_kwh_per_100km for vid, vehicle in vehicles.items()}
    computed = [_compute(trip, book, consumption) for trip in trips]
    visits = _home_visits(session, (trip.tour for trip in trips if trip.tour is not None))
    pseudonyms = _pseudonyms(
        (trip.caseworker_id for trip in trips if trip.caseworker_id is not None),
        salt=f"{period.start}:{period.end}:{options.site or '*'}",
    )

    # Totals, by mode and by scope.
    total = _Sums()
    by_mode: dict[str, _Sums] = defaultdict(_Sums)
    by_scope: dict[Scope, float] = defaultdict(float)
    scope_modes: dict[Scope, set[str]] = defaultdict(set)
    low_km = 0.0
    tour_g = 0.0
    home_visits = 0
    for line in computed:
        total.add(line)
        by_mode[line.trip.mode].add(line)
        for scope, grams in line.scopes.items():
            by_scope[scope] += grams
            scope_modes[scope].add(line.trip.mode)
        if book.file.modes[line.trip.mode].low_emission:
            low_km += line.km
        if line.trip.tour is not None:
            tour_g += line.co2e_g
            home_visits += visits.get(line.trip.tour, 0)

    mode_order = list(book.file.modes)
    mode_lines = [
        ModeLine(
            mode=mode,
            label=book.file.modes[mode].label,
            low_emission=book.file.modes[mode].low_emission,
            trips=sums.trips,
            km=_km(sums.km),
            km_share=round(sums.km / total.km, 4) if total.km > 0 else None,
            co2e_kg=kg(sums.co2e_g),
            co2e_tailpipe_kg=kg(sums.tailpipe_g),
            co2e_upstream_kg=kg(sums.upstream_g),
            co2e_unsplit_kg=kg(sums.unsplit_g),
            energy_kwh=_kwh(sums.energy_kwh),
            baseline_co2e_kg=kg(sums.baseline_g),
            avoided_co2e_kg=kg(sums.baseline_g - sums.co2e_g),
        )
        for mode, sums in sorted(by_mode.items(), key=lambda item: mode_order.index(item[0]))
    ]
    scope_lines = [
        ScopeLine(
            scope=scope,
            label=label,
            co2e_kg=kg(by_scope.get(scope, 0.0)),
            modes=sorted(scope_modes.get(scope, set()), key=mode_order.index),
        )
        for scope, label in SCOPE_LABELS.items()
    ]

    # Planned against confirmed.
    tour_trips = [trip for trip in trips if trip.tour is not None]
    confirmed = [trip for trip in tour_trips if trip.status == "confirmed"]
    unconfirmed = [trip for trip in tour_trips if trip.status == "planned"]
    adhoc = [trip for trip in trips if trip.tour is None]
    planned_km_confirmed = sum(
        trip.km_planned if trip.km_planned is not None else trip.km for trip in confirmed
    )
    confirmed_km = sum(trip.km for trip in confirmed)
    planned_confirmed = PlannedConfirmed(
        tours=len(tour_trips),
        tours_confirmed=len(confirmed),
        tours_unconfirmed=len(unconfirmed),
        km_planned_confirmed_tours=_km(planned_km_confirmed),
        km_confirmed_tours=_km(confirmed_km),
        km_difference=_km(confirmed_km - planned_km_confirmed),
        km_unconfirmed=_km(sum(trip.km for trip in unconfirmed)),
        adhoc_trips=len(adhoc),
        adhoc_km=_km(sum(trip.km for trip in adhoc)),
        corrected_trips=sum(1 for trip in trips if trip.corrected),
    )

    trip_lines = [
        TripLine(
            ref=line.trip.ref,
            date=line.trip.day,
            caseworker=(
                pseudonyms[line.trip.caseworker_id] if line.trip.caseworker_id is not None else "–"
            ),
            site=sites[line.trip.site_id].key,
            mode=line.trip.mode,
            vehicle=vehicles[line.trip.vehicle_id].key
            if line.trip.vehicle_id in vehicles
            else None,
            status=line.trip.status,
            corrected=line.trip.corrected,
            km_planned=_km(line.trip.km_planned) if line.trip.km_planned is not None else None,
            km=_km(line.km),
            energy_kwh=_kwh(line.energy_kwh) if line.energy_kwh is not None else None,
            co2e_kg=kg(line.co2e_g),
            co2e_tailpipe_kg=kg(line.tailpipe_g) if line.tailpipe_g is not None else None,
            co2e_upstream_kg=kg(line.upstream_g) if line.upstream_g is not None else None,
            scope=max(line.scopes, key=lambda scope: line.scopes[scope]) if line.scopes else None,
            baseline_co2e_kg=kg(line.baseline_g),
            avoided_co2e_kg=kg(line.baseline_g - line.co2e_g),
            home_visits=visits.get(line.trip.tour, 0) if line.trip.tour is not None else None,
        )
        for line in computed
    ]

    totals = Totals(
        trips=total.trips,
        km=_km(total.km),
        low_emission_km=_km(low_km),
        low_emission_share=round(low_km / total.km, 4) if total.km > 0 else None,
        co2e_kg=kg(total.co2e_g),
        co2e_tailpipe_kg=kg(total.tailpipe_g),
        co2e_upstream_kg=kg(total.upstream_g),
        co2e_unsplit_kg=kg(total.unsplit_g),
        co2e_g_per_km=round(total.co2e_g / total.km, 1) if total.km > 0 else None,
        home_visits=home_visits,
        co2e_per_home_visit_kg=kg(tour_g / home_visits) if home_visits else None,
        baseline_mode=book.baseline_mode,
        baseline_co2e_kg=kg(total.baseline_g),
        avoided_co2e_kg=kg(total.baseline_g - total.co2e_g),
        energy_kwh=_kwh(total.energy_kwh),
    )
    paper = _paper(session, period, site, zone, book)
    vehicle_lines = _vehicle_lines(session, period, site, sites, computed)
    used = book.used
    return SustainabilityReport(
        title="Nachhaltigkeitsbericht Mobilität und Papier",
        period=ReportPeriod(
            start=period.start, end=period.end, label=period.label_de(), days=period.days
        ),
        site=site.key if site is not None else None,
        site_label=(site.name or site.key) if site is not None else "Gesamtes Programm",
        generated_at=datetime.now(UTC).replace(microsecond=0),
        totals=totals,
        by_mode=mode_lines,
        by_scope=scope_lines,
        planned_vs_confirmed=planned_confirmed,
        vehicles=vehicle_lines,
        paper=paper,
        factors=Factors(
            version=book.file.version,
            set=book.source,
            label=used[0].label,
            reference_years=[factors.year for factors in used],
            baseline_mode=book.baseline_mode,
            items=_factor_items(book, {trip.mode for trip in trips}),
        ),
        method=_method(book),
        trips=trip_lines,
    )
