"""The scenario as the planner sees it: minutes on one timeline, indices, matrices.

``Context`` is built once per scenario and answers every rule question: when a
caseworker can be out on a date, when a household can be visited, which vehicles are
free, how far and how long a leg is. ``visit_options`` lists, for one visit, every
(caseworker, date, mode) that could make it alone; when there is none it says why,
with the format's reason code and a detail a coordinator understands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import numpy as np

from fleet.modes import MODE_LABELS_DE, MODES_WITH_VEHICLE
from scheduler.format import (
    Caseworker,
    Household,
    Objective,
    Scenario,
    UnassignedReason,
    Vehicle,
    Visit,
)
from scheduler.rules import (
    Timeline,
    TravelParams,
    emission_factors,
    horizon_dates,
    region_holidays,
    travel_params,
    weekday_key,
)
from scheduler.travel import geodesic_km, geodesic_km_matrix

Interval = tuple[int, int]
WEEKDAY_NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``intervals`` minus ``holes`` (half-open), keeping pieces of positive length."""
    pieces = sorted(intervals)
    for hole_start, hole_end in sorted(holes):
        cut: list[Interval] = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        pieces = cut
    return [(start, end) for start, end in pieces if end > start]


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals, as sorted disjoint intervals."""
    result: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def clock(minute_of_day: time) -> str:
    return minute_of_day.strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class Option:
    """One way to make a visit alone: caseworker, date, mode, and when it may start."""

    caseworker: str
    date: date
    mode: str
    #: Inclusive ranges of the visit's start minute that leave room for the direct
    #: trip out and back inside one working piece and one availability interval.
    starts: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    reason: UnassignedReason
    detail: str


@dataclass
class Context:
    """Everything the planner derives from a scenario once, for all its passes."""

    scenario: Scenario
    timeline: Timeline = field(init=False)
    travel: dict[str, TravelParams] = field(init=False)
    factors: dict[str, float] = field(init=False)
    objective: Objective = field(init=False)
    dates: list[date] = field(init=False)
    holidays: dict[date, str] = field(init=False)
    caseworkers: dict[str, Caseworker] = field(init=False)
    households: dict[str, Household] = field(init=False)
    visits: dict[str, Visit] = field(init=False)
    vehicles: dict[str, Vehicle] = field(init=False)
    site_ids: list[str] = field(init=False)
    #: Location index: sites first, then households, in scenario order.
    location_index: dict[str, int] = field(init=False)
    _absences: dict[str, list[Interval]] = field(init=False, default_factory=dict)
    _pieces: dict[tuple[str, date], list[Interval]] = field(init=False, default_factory=dict)
    _availability: dict[tuple[str, date], list[Interval]] = field(init=False, default_factory=dict)
    _eligible: dict[str, list[Caseworker]] = field(init=False, default_factory=dict)
    #: Each visit's options in an otherwise empty week (``visit_options`` fills it).
    options: dict[str, tuple[list[Option], Diagnosis | None]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        scenario = self.scenario
        self.timeline = Timeline.of(scenario)
        self.travel = travel_params(scenario)
        self.factors = emission_factors(scenario)
        self.objective = scenario.objective or Objective()
        self.dates = list(horizon_dates(scenario))
        years = range(scenario.horizon.start.year, scenario.horizon.end.year + 1)
        self.holidays = region_holidays(scenario.region, years)
        self.caseworkers = {c.id: c for c in scenario.caseworkers}
        self.households = {h.id: h for h in scenario.households}
        self.visits = {v.id: v for v in scenario.visits}
        self.vehicles = {v.id: v for v in scenario.vehicles}
        self.site_ids = [s.id for s in scenario.sites]
        self.location_index = {site: i for i, site in enumerate(self.site_ids)}
        for household in scenario.households:
            self.location_index[household.id] = len(self.location_index)

    # ----------------------------------------------------------------- geography

    @cached_property
    def _coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        points = [s.location for s in self.scenario.sites]
        points += [h.location for h in self.scenario.households]
        lats = np.array([p.lat for p in points], dtype=np.float64)
        lons = np.array([p.lon for p in points], dtype=np.float64)
        return lats, lons

    @cached_property
    def geodesic_km(self) -> np.ndarray:
        """Geodesic km between all locations (sites, then households).

        Quadratic: only the routing of a part needs it; questions about offices use
        ``office_km``.
        """
        return geodesic_km_matrix(*self._coordinates)

    @cached_property
    def office_km(self) -> np.ndarray:
        """Geodesic km from every site (rows) to every location (columns)."""
        lats, lons = self._coordinates
        sites = len(self.site_ids)
        rows = np.repeat(np.arange(sites), len(lats))
        columns = np.tile(np.arange(len(lats)), sites)
        distances = geodesic_km(lats[rows], lons[rows], lats[columns], lons[columns])
        return distances.reshape(sites, len(lats))

    def location_of_visit(self, visit_id: str) -> int:
        return self.location_index[self.visits[visit_id].household]

    def geodesic(self, origin: int, destination: int) -> float:
        sites = len(self.site_ids)
        if "geodesic_km" not in self.__dict__:
            if origin < sites:
                return float(self.office_km[origin, destination])
            if destination < sites:
                return float(self.office_km[destination, origin])
        return float(self.geodesic_km[origin, destination])

    def leg_km(self, mode: str, origin: int, destination: int) -> float:
        return self.travel[mode].leg_km(self.geodesic(origin, destination))

    def leg_minutes(self, mode: str, km: float) -> int:
        return self.travel[mode].leg_minutes(km)

    # ---------------------------------------------------------------------- time

    def day_span(self, day: date) -> Interval:
        return self.timeline.day_start(day), self.timeline.day_start(day + timedelta(days=1))

    @cached_property
    def horizon_minutes(self) -> int:
        return self.day_span(self.dates[-1])[1]

    def absence_intervals(self, caseworker: Caseworker) -> list[Interval]:
        cached = self._absences.get(caseworker.id)
        if cached is None:
            cached = self._absences[caseworker.id] = self._absence_intervals(caseworker)
        return cached

    def _absence_intervals(self, caseworker: Caseworker) -> list[Interval]:
        result: list[Interval] = []
        for absence in caseworker.absences:
            if isinstance(absence.start, datetime):
                start = self.timeline.minute(absence.start)
            else:
                start = self.timeline.day_start(absence.start)
            if isinstance(absence.end, datetime):
                end = self.timeline.minute(absence.end)
            else:
                end = self.timeline.day_start(absence.end + timedelta(days=1))
            result.append((start, end))
        return result

    def working_pieces(
        self, caseworker: Caseworker, day: date, busy: Sequence[Interval] = ()
    ) -> list[Interval]:
        """When the caseworker can be out on ``day``: hours minus absences and ``busy``."""
        key = (caseworker.id, day)
        pieces = self._pieces.get(key)
        if pieces is None:
            pieces = self._pieces[key] = self._working_pieces(caseworker, day)
        return subtract(pieces, busy) if busy else pieces

    def _working_pieces(self, caseworker: Caseworker, day: date) -> list[Interval]:
        if day in self.holidays:
            return []
        hours = caseworker.working_hours.get(weekday_key(day))
        if hours is None:
            return []
        shift = (self.timeline.minute_of(day, hours[0]), self.timeline.minute_of(day, hours[1]))
        return subtract([shift], self.absence_intervals(caseworker))

    def availability(self, household: Household, day: date) -> list[Interval]:
        key = (household.id, day)
        cached = self._availability.get(key)
        if cached is None:
            cached = self._availability[key] = self._household_windows(household, day)
        return cached

    def _household_windows(self, household: Household, day: date) -> list[Interval]:
        if household.availability is None:
            return [self.day_span(day)]
        return [
            (self.timeline.minute_of(day, start), self.timeline.minute_of(day, end))
            for start, end in household.availability.get(weekday_key(day), [])
        ]

    def visit_dates(self, visit: Visit) -> list[date]:
        """Horizon dates inside the visit's window that are no public holiday."""
        window = visit.window
        return [
            day
            for day in self.dates
            if day not in self.holidays
            and (window is None or window.earliest is None or day >= window.earliest)
            and (window is None or window.latest is None or day <= window.latest)
        ]

    def vehicle_free(
        self, vehicle: Vehicle, day: date, busy: Sequence[Interval] = ()
    ) -> list[Interval]:
        blocked = [
            (self.timeline.minute(b.start), self.timeline.minute(b.end)) for b in vehicle.blocked
        ]
        return subtract([self.day_span(day)], [*blocked, *busy])

    # -------------------------------------------------------------------- people

    def eligible_caseworkers(self, household: Household) -> list[Caseworker]:
        """Who may visit the household and holds every required skill."""
        cached = self._eligible.get(household.id)
        if cached is None:
            cached = self._eligible[household.id] = self._eligible_caseworkers(household)
        return cached

    def _eligible_caseworkers(self, household: Household) -> list[Caseworker]:
        allowed = self.allowed_ids(household)
        required = set(household.required_skills)
        return [
            c
            for c in self.scenario.caseworkers
            if (allowed is None or c.id in allowed) and required <= set(c.skills)
        ]

    @staticmethod
    def allowed_ids(household: Household) -> set[str] | None:
        if household.primary_caseworker is None and not household.allowed_caseworkers:
            return None
        allowed = set(household.allowed_caseworkers)
        if household.primary_caseworker is not None:
            allowed.add(household.primary_caseworker)
        return allowed

    def is_continuity_break(self, household: Household, caseworker_id: str) -> bool:
        primary = household.primary_caseworker
        return primary is not None and primary != caseworker_id

    @cached_property
    def _vehicles_by_site(self) -> dict[tuple[str, str], list[Vehicle]]:
        grouped: dict[tuple[str, str], list[Vehicle]] = defaultdict(list)
        for vehicle in self.scenario.vehicles:
            grouped[(vehicle.site, vehicle.kind)].append(vehicle)
        return grouped

    def site_vehicles(self, site: str, kind: str) -> list[Vehicle]:
        return self._vehicles_by_site.get((site, kind), [])


def start_ranges(
    piece: Interval, windows: Iterable[Interval], duration: int, out: int, back: int
) -> list[Interval]:
    """Start minutes of a visit that fit one availability window and the trip in ``piece``."""
    result = []
    for window_start, window_end in windows:
        earliest = max(window_start, piece[0] + out)
        latest = min(window_end - duration, piece[1] - duration - back)
        if earliest <= latest:
            result.append((earliest, latest))
    return result


def describe_availability(context: Context, household: Household) -> str:
    if household.availability is None:
        return "at any time"
    parts = [
        f"{WEEKDAY_NAMES[day]} " + ", ".join(f"{clock(a)}-{clock(b)}" for a, b in ranges)
        for day, ranges in household.availability.items()
        if ranges
    ]
    return ", ".join(parts) if parts else "on no day"


def describe_hours(caseworker: Caseworker) -> str:
    if not caseworker.working_hours:
        return "no day"
    return ", ".join(
        f"{WEEKDAY_NAMES[day]} {clock(a)}-{clock(b)}"
        for day, (a, b) in caseworker.working_hours.items()
    )


def visit_options(
    context: Context,
    visit: Visit,
    *,
    busy: dict[tuple[str, date], list[Interval]] | None = None,
) -> tuple[list[Option], Diagnosis | None]:
    """Every (caseworker, date, mode) that can make ``visit`` alone, or why none can.

    Travel is the direct trip from the office and back, the shortest a tour can make;
    ``busy`` removes time already taken by fixed tours (re-planning passes).
    """
    if busy:
        return _visit_options(context, visit, busy)
    cached = context.options.get(visit.id)
    if cached is None:
        cached = context.options[visit.id] = _visit_options(context, visit, {})
    return cached


def _visit_options(
    context: Context, visit: Visit, busy: dict[tuple[str, date], list[Interval]]
) -> tuple[list[Option], Diagnosis | None]:
    household = context.households[visit.household]
    location = context.location_index[household.id]
    eligible = context.eligible_caseworkers(household)
    pin = visit.pinned
    if not eligible:
        return [], _no_caseworker(context, household)
    if pin is not None and pin.caseworker not in {c.id for c in eligible}:
        return [], Diagnosis(
            "pin_infeasible",
            f"visit {visit.id} is pinned to {pin.caseworker}, who may not visit household "
            f"{household.id} or lacks a required skill",
        )
    dates = context.visit_dates(visit)
    if pin is not None:
        dates = [d for d in dates if d == pin.start.date()]
        if not dates:
            return [], Diagnosis(
                "pin_infeasible",
                f"visit {visit.id} is pinned to {pin.start:%Y-%m-%d}, outside its date window "
                "or on a public holiday",
            )
        eligible = [c for c in eligible if c.id == pin.caseworker]
    if not dates:
        return [], _no_date(context, visit)

    pin_minute = context.timeline.minute(pin.start) if pin is not None else None
    options: list[Option] = []
    stage = {"works": False, "present": False, "time": False, "reach": False, "vehicle_mode": False}
    for caseworker in eligible:
        site = context.location_index[caseworker.site]
        trips = []
        for mode in caseworker.modes:
            km = context.leg_km(mode, site, location)
            trips.append((mode, context.travel[mode].reaches(km), context.leg_minutes(mode, km)))
        for day in dates:
            windows = context.availability(household, day)
            if not windows or caseworker.working_hours.get(weekday_key(day)) is None:
                continue
            stage["works"] = True
            pieces = context.working_pieces(caseworker, day, busy.get((caseworker.id, day), ()))
            if not pieces:
                continue
            stage["present"] = True
            if pin_minute is not None:
                # The pinned start, if the whole visit still lies in an availability
                # interval (a pin fixes the time, it does not overrule the family).
                pinned = (pin_minute, pin_minute + visit.duration_minutes)
                windows = (
                    [pinned] if any(a <= pinned[0] and pinned[1] <= b for a, b in windows) else []
                )
            if not any(start_ranges(p, windows, visit.duration_minutes, 0, 0) for p in pieces):
                continue
            stage["time"] = True
            for mode, reaches, minutes in trips:
                if not reaches:
                    continue
                stage["reach"] = True
                if mode in MODES_WITH_VEHICLE and not context.site_vehicles(caseworker.site, mode):
                    stage["vehicle_mode"] = True
                    continue
                starts = [
                    r
                    for p in pieces
                    for r in start_ranges(p, windows, visit.duration_minutes, minutes, minutes)
                ]
                if starts:
                    options.append(Option(caseworker.id, day, mode, tuple(starts)))
    if options:
        return options, None
    return [], _explain(context, visit, household, eligible, stage)


def _no_caseworker(context: Context, household: Household) -> Diagnosis:
    allowed = context.allowed_ids(household)
    if household.required_skills:
        who = ", ".join(sorted(allowed)) if allowed else "any caseworker"
        return Diagnosis(
            "no_caseworker",
            f"household {household.id} needs {', '.join(household.required_skills)}; "
            f"none of its caseworkers ({who}) has it",
        )
    return Diagnosis("no_caseworker", f"nobody may visit household {household.id}")


def _no_date(context: Context, visit: Visit) -> Diagnosis:
    in_window = [
        d
        for d in context.dates
        if (visit.window is None or visit.window.earliest is None or d >= visit.window.earliest)
        and (visit.window is None or visit.window.latest is None or d <= visit.window.latest)
    ]
    if not in_window:
        window = visit.window
        earliest = window.earliest if window and window.earliest else "…"
        latest = window.latest if window and window.latest else "…"
        return Diagnosis(
            "no_time_window",
            f"visit {visit.id} must take place {earliest}..{latest}, outside the planned "
            f"{context.dates[0]}..{context.dates[-1]}",
        )
    names = ", ".join(f"{d} {context.holidays[d]}" for d in in_window)
    return Diagnosis("no_time_window", f"visit {visit.id} falls only on public holidays ({names})")


def _explain(
    context: Context,
    visit: Visit,
    household: Household,
    eligible: list[Caseworker],
    stage: dict[str, bool],
) -> Diagnosis:
    names = ", ".join(c.id for c in eligible)
    pinned = visit.pinned is not None
    if not stage["works"]:
        hours = "; ".join(f"{c.id} works {describe_hours(c)}" for c in eligible)
        reason: UnassignedReason = "pin_infeasible" if pinned else "no_time_window"
        return Diagnosis(
            reason,
            f"household {household.id} is available {describe_availability(context, household)}; "
            f"{hours}",
        )
    if not stage["present"]:
        reason_absent: UnassignedReason = "pin_infeasible" if pinned else "caseworker_absent"
        return Diagnosis(
            reason_absent, f"{names} absent on every day household {household.id} is available"
        )
    if not stage["time"]:
        if pinned:
            return Diagnosis(
                "pin_infeasible",
                f"pinned start {visit.pinned.start:%Y-%m-%d %H:%M} ({visit.duration_minutes} min) "  # type: ignore[union-attr]
                "is outside the caseworker's hours, an absence or the household's availability",
            )
        return Diagnosis(
            "no_time_window",
            f"no {visit.duration_minutes} min inside household {household.id}'s availability "
            f"({describe_availability(context, household)}) while {names} work and are present",
        )
    if not stage["reach"]:
        modes = sorted({m for c in eligible for m in c.modes})
        longest = ", ".join(
            f"{MODE_LABELS_DE[m]} {context.travel[m].max_leg_km:g} km"
            for m in modes
            if context.travel[m].max_leg_km is not None
        )
        return Diagnosis(
            "out_of_reach",
            f"household {household.id} is beyond the longest leg of every allowed mode "
            f"({longest}) from the office of {names}",
        )
    if stage["vehicle_mode"]:
        return Diagnosis(
            "no_vehicle",
            f"household {household.id} is reachable only by a mode whose vehicle the office of "
            f"{names} does not have",
        )
    reason_far: UnassignedReason = "pin_infeasible" if pinned else "out_of_reach"
    return Diagnosis(
        reason_far,
        f"the trip to household {household.id} and back does not fit around the "
        f"{visit.duration_minutes} min visit within {names}'s hours and the household's "
        "availability",
    )


def vehicle_options(
    context: Context, visit: Visit, options: Sequence[Option]
) -> tuple[bool, Diagnosis | None]:
    """Whether some option also gets a vehicle (free, within range) when planned alone."""
    household = context.households[visit.household]
    location = context.location_index[household.id]
    for option in options:
        if option.mode not in MODES_WITH_VEHICLE:
            return True, None
        caseworker = context.caseworkers[option.caseworker]
        site = context.location_index[caseworker.site]
        km = context.leg_km(option.mode, site, location) + context.leg_km(
            option.mode, location, site
        )
        out = context.leg_minutes(option.mode, context.leg_km(option.mode, site, location))
        back = context.leg_minutes(option.mode, context.leg_km(option.mode, location, site))
        for vehicle in context.site_vehicles(caseworker.site, option.mode):
            if vehicle.range_km + 1e-9 < km:
                continue
            for free_start, free_end in context.vehicle_free(vehicle, option.date):
                for earliest, latest in option.starts:
                    low = max(earliest, free_start + out)
                    high = min(latest, free_end - visit.duration_minutes - back)
                    if low <= high:
                        return True, None
    kinds = sorted({MODE_LABELS_DE[o.mode] for o in options})
    return False, Diagnosis(
        "no_vehicle",
        f"no {' or '.join(kinds)} is free and in range for visit {visit.id} when it could "
        "take place",
    )


def alone_feasible(context: Context, visit: Visit) -> Diagnosis | None:
    """None when the visit could be planned in an otherwise empty week, else why not."""
    options, diagnosis = visit_options(context, visit)
    if diagnosis is not None:
        return diagnosis
    ok, vehicle_diagnosis = vehicle_options(context, visit, options)
    if ok:
        return None
    assert vehicle_diagnosis is not None
    if visit.pinned is not None:
        return Diagnosis("pin_infeasible", vehicle_diagnosis.detail)
    return vehicle_diagnosis
