"""Independent checker of a plan against its scenario (planning-format-v1, "What a plan promises").

``check_plan`` verifies every promise of the format from the scenario alone, without
asking the planner: distances are recomputed here with geopy, times are compared in the
scenario's timezone. Rule numbers are the numbered lines of the spec section:

1. every visit exactly once (appointments or unassigned), consistent references;
2. each appointment's date, time, caseworker, skills and pin;
3. each tour's route, travel model, timing, totals and non-overlap;
4. modes, vehicles, bookings, vehicle range and longest leg;
5. visits per day and one visit per household and date;
6. the KPIs;
7. unassigned reasons and details.

A hand-edited plan with dangling references yields violations, never an exception.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar, get_args
from zoneinfo import ZoneInfo

from geopy.distance import geodesic

from fleet.modes import MODES_WITH_VEHICLE
from scheduler.format import (
    Absence,
    Appointment,
    Caseworker,
    Household,
    Location,
    Plan,
    Scenario,
    Site,
    Tour,
    UnassignedReason,
    Vehicle,
    VehicleBooking,
    Visit,
)
from scheduler.rules import (
    Timeline,
    TravelParams,
    emission_factors,
    is_known_region,
    region_holidays,
    travel_params,
    weekday_key,
)

#: A leg's km may be below the model's by this much (plans round km to 3 decimals).
LEG_KM_TOLERANCE = 0.0005
#: Tolerance of a tour's distance and CO2e against its legs, and of a vehicle's range.
TOTAL_TOLERANCE = 0.001
#: KPI kg and km figures: absolute plus relative tolerance (plans round to 4 decimals).
KPI_ABS_TOLERANCE = 0.001
KPI_REL_TOLERANCE = 0.001

_REASONS: frozenset[str] = frozenset(get_args(UnassignedReason))


@dataclass(frozen=True)
class Violation:
    """One broken promise of a plan."""

    rule: int
    """The number 1..7 of the promise in the spec section "What a plan promises"."""
    path: str
    """JSON path into the plan, e.g. ``$.tours[3].legs[1].km``."""
    message: str
    """One line a coordinator understands, naming ids and times."""


def check_plan(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Every violation of the format's promises by ``plan``, ordered by rule and path."""
    ctx = _Context.build(scenario, plan)
    checks = (
        _rule1_visits,
        _rule2_appointments,
        _rule3_tours,
        _rule4_vehicles,
        _rule5_capacity,
        _rule6_kpis,
        _rule7_unassigned,
    )
    found = [violation for check in checks for violation in check(ctx)]
    return sorted(found, key=lambda v: (v.rule, _path_key(v.path)))


def _path_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of JSON paths: ``[2]`` before ``[10]``."""
    parts = re.split(r"(\d+)", path)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


# ------------------------------------------------------------------------------ context


@dataclass
class _Context:
    """Indexes of the scenario and the plan, built once; lookups never raise."""

    scenario: Scenario
    plan: Plan
    zone: ZoneInfo
    timeline: Timeline
    travel: dict[str, TravelParams]
    factors: dict[str, float]
    holidays: dict[date, str]
    visits: dict[str, Visit]
    households: dict[str, Household]
    caseworkers: dict[str, Caseworker]
    sites: dict[str, Site]
    vehicles: dict[str, Vehicle]
    tours: dict[str, tuple[int, Tour]]
    appointments_by_visit: dict[str, list[tuple[int, Appointment]]]
    _geodesic_cache: dict[tuple[str, str], float | None] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: Scenario, plan: Plan) -> _Context:
        timeline = Timeline.of(scenario)
        tours: dict[str, tuple[int, Tour]] = {}
        for index, tour in enumerate(plan.tours):
            tours.setdefault(tour.id, (index, tour))
        by_visit: dict[str, list[tuple[int, Appointment]]] = defaultdict(list)
        for index, appointment in enumerate(plan.appointments):
            by_visit[appointment.visit].append((index, appointment))
        return cls(
            scenario=scenario,
            plan=plan,
            zone=timeline.timezone,
            timeline=timeline,
            travel=travel_params(scenario),
            factors=emission_factors(scenario),
            holidays=_holidays(scenario),
            visits=_first_by_id(scenario.visits),
            households=_first_by_id(scenario.households),
            caseworkers=_first_by_id(scenario.caseworkers),
            sites=_first_by_id(scenario.sites),
            vehicles=_first_by_id(scenario.vehicles),
            tours=tours,
            appointments_by_visit=dict(by_visit),
        )

    # -- time

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def at(self, day: date, clock: time) -> datetime:
        return self.timeline.aware(datetime.combine(day, clock))

    def fmt(self, moment: datetime) -> str:
        return self.local(moment).isoformat(timespec="minutes")

    def span(self, start: datetime, end: datetime) -> str:
        return f"{self.fmt(start)} to {self.local(end):%H:%M}"

    def absence_bounds(self, absence: Absence) -> tuple[datetime, datetime]:
        """An absence as an aware half-open interval; whole dates are inclusive."""
        if isinstance(absence.start, datetime):
            start = self.timeline.aware(absence.start)
        else:
            start = self.at(absence.start, time(0, 0))
        if isinstance(absence.end, datetime):
            end = self.timeline.aware(absence.end)
        else:
            end = self.at(absence.end + timedelta(days=1), time(0, 0))
        return start, end

    # -- places

    def household_of(self, visit_id: str) -> Household | None:
        visit = self.visits.get(visit_id)
        return None if visit is None else self.households.get(visit.household)

    def location(self, place: str) -> Location | None:
        """A site id or a visit id (the visit's household) as a location."""
        site = self.sites.get(place)
        if site is not None:
            return site.location
        household = self.household_of(place)
        return None if household is None else household.location

    def geodesic_km(self, origin: str, destination: str) -> float | None:
        """Geodesic WGS-84 km between two places, None if either is unknown or invalid."""
        key = (origin, destination)
        if key not in self._geodesic_cache:
            self._geodesic_cache[key] = self._compute_geodesic(origin, destination)
        return self._geodesic_cache[key]

    def _compute_geodesic(self, origin: str, destination: str) -> float | None:
        a, b = self.location(origin), self.location(destination)
        if a is None or b is None:
            return None
        try:
            return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).km)
        except ValueError:
            return None

    # -- plan lookups

    def appointment_in_tour(self, visit_id: str, tour_id: str) -> tuple[int, Appointment] | None:
        for index, appointment in self.appointments_by_visit.get(visit_id, []):
            if appointment.tour == tour_id:
                return index, appointment
        return None

    def leg_km_sum(self, tour: Tour) -> float:
        return sum(leg.km for leg in tour.legs)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_HasId)


def _first_by_id(items: Iterable[_T]) -> dict[str, _T]:
    result: dict[str, _T] = {}
    for item in items:
        result.setdefault(item.id, item)
    return result


def _holidays(scenario: Scenario) -> dict[date, str]:
    region = scenario.region
    if not region or not is_known_region(region):
        return {}
    years = range(scenario.horizon.start.year, scenario.horizon.end.year + 1)
    return region_holidays(region, years)


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Half-open intervals overlap (touching is fine)."""
    return a[0] < b[1] and b[0] < a[1]


def _hhmm(interval: tuple[time, time]) -> str:
    return f"{interval[0]:%H:%M}-{interval[1]:%H:%M}"


def _day(day: date) -> str:
    return f"{weekday_key(day).capitalize()} {day.isoformat()}"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _kpi_close(actual: float, expected: float) -> bool:
    scale = max(abs(actual), abs(expected))
    return abs(actual - expected) <= KPI_ABS_TOLERANCE + KPI_REL_TOLERANCE * scale


# ---------------------------------------------------------------------- rule 1: visits


def _rule1_visits(ctx: _Context) -> Iterator[Violation]:
    yield from _visit_occurrences(ctx)
    for index, appointment in enumerate(ctx.plan.appointments):
        yield from _appointment_references(ctx, index, appointment)
    for index, tour in enumerate(ctx.plan.tours):
        yield from _tour_stop_references(ctx, index, tour)


def _visit_occurrences(ctx: _Context) -> Iterator[Violation]:
    seen: dict[str, str] = {}
    entries = [
        (f"$.appointments[{i}]", a.visit, "appointments")
        for i, a in enumerate(ctx.plan.appointments)
    ] + [(f"$.unassigned[{i}]", u.visit, "unassigned") for i, u in enumerate(ctx.plan.unassigned)]
    for path, visit_id, where in entries:
        if visit_id not in ctx.visits:
            yield Violation(
                1, f"{path}.visit", f"visit {visit_id} in {where} is not in the scenario"
            )
        elif visit_id in seen:
            yield Violation(
                1, path, f"visit {visit_id} appears more than once (already at {seen[visit_id]})"
            )
        else:
            seen[visit_id] = path
    for visit_id in ctx.visits:
        if visit_id not in seen:
            yield Violation(
                1,
                "$.appointments",
                f"visit {visit_id} appears neither in appointments nor in unassigned",
            )


def _appointment_references(ctx: _Context, index: int, appt: Appointment) -> Iterator[Violation]:
    path = f"$.appointments[{index}]"
    visit = ctx.visits.get(appt.visit)
    if visit is not None and appt.household != visit.household:
        yield Violation(
            1,
            f"{path}.household",
            f"appointment of visit {visit.id} names household {appt.household}, "
            f"but the visit belongs to household {visit.household}",
        )
    lasts = _utc(appt.end) - _utc(appt.start)
    if visit is not None and lasts != timedelta(minutes=visit.duration_minutes):
        minutes = lasts.total_seconds() / 60
        yield Violation(
            1,
            f"{path}.end",
            f"appointment of visit {visit.id} lasts {minutes:g} min "
            f"({ctx.span(appt.start, appt.end)}), the visit takes {visit.duration_minutes} min",
        )
    found = ctx.tours.get(appt.tour)
    if found is None:
        yield Violation(
            1, f"{path}.tour", f"appointment of visit {appt.visit} names unknown tour {appt.tour}"
        )
        return
    _, tour = found
    if tour.caseworker != appt.caseworker:
        yield Violation(
            1,
            f"{path}.caseworker",
            f"appointment of visit {appt.visit} is made by {appt.caseworker}, "
            f"but its tour {tour.id} belongs to {tour.caseworker}",
        )
    if appt.visit not in tour.stops:
        yield Violation(
            1,
            f"{path}.tour",
            f"appointment of visit {appt.visit} names tour {tour.id}, "
            "which does not list the visit among its stops",
        )


def _tour_stop_references(ctx: _Context, index: int, tour: Tour) -> Iterator[Violation]:
    listed: set[str] = set()
    for k, stop in enumerate(tour.stops):
        path = f"$.tours[{index}].stops[{k}]"
        if stop in listed:
            yield Violation(1, path, f"tour {tour.id} lists visit {stop} more than once")
        elif stop not in ctx.visits:
            yield Violation(1, path, f"tour {tour.id} stops at unknown visit {stop}")
        elif ctx.appointment_in_tour(stop, tour.id) is None:
            yield Violation(
                1, path, f"tour {tour.id} stops at visit {stop}, which has no appointment in it"
            )
        listed.add(stop)


# ------------------------------------------------------------------ rule 2: appointments


def _rule2_appointments(ctx: _Context) -> Iterator[Violation]:
    region = ctx.scenario.region
    if region and not is_known_region(region) and ctx.plan.appointments:
        yield Violation(
            2, "$.appointments", f"region {region} is unknown, so holidays cannot be checked"
        )
    for index, appt in enumerate(ctx.plan.appointments):
        visit = ctx.visits.get(appt.visit)
        if visit is None:
            continue  # reported under rule 1
        path = f"$.appointments[{index}]"
        yield from _appointment_calendar(ctx, path, appt, visit)
        household = ctx.households.get(visit.household)
        if household is not None:
            yield from _appointment_availability(ctx, path, appt, household)
        caseworker = ctx.caseworkers.get(appt.caseworker)
        if caseworker is None:
            yield Violation(
                2,
                f"{path}.caseworker",
                f"appointment of visit {visit.id} names unknown caseworker {appt.caseworker}",
            )
        else:
            yield from _appointment_working_hours(ctx, path, appt, caseworker)
            yield from _appointment_absences(ctx, path, appt, caseworker)
            if household is not None:
                yield from _appointment_eligibility(path, appt, household, caseworker)
        yield from _appointment_pin(ctx, path, appt, visit)


def _appointment_calendar(
    ctx: _Context, path: str, appt: Appointment, visit: Visit
) -> Iterator[Violation]:
    day = ctx.local_date(appt.start)
    horizon = ctx.scenario.horizon
    what = f"appointment of visit {visit.id} on {_day(day)}"
    if not horizon.start <= day <= horizon.end:
        yield Violation(
            2,
            f"{path}.start",
            f"{what} is outside the horizon "
            f"{horizon.start.isoformat()} to {horizon.end.isoformat()}",
        )
    if day in ctx.holidays:
        yield Violation(
            2, f"{path}.start", f"{what} falls on a public holiday ({ctx.holidays[day]})"
        )
    window = visit.window
    if window is not None and window.earliest is not None and day < window.earliest:
        yield Violation(
            2, f"{path}.start", f"{what} is before its window ({window.earliest.isoformat()})"
        )
    if window is not None and window.latest is not None and day > window.latest:
        yield Violation(
            2, f"{path}.start", f"{what} is after its window ({window.latest.isoformat()})"
        )


def _appointment_availability(
    ctx: _Context, path: str, appt: Appointment, household: Household
) -> Iterator[Violation]:
    if household.availability is None:
        return
    day = ctx.local_date(appt.start)
    intervals = household.availability.get(weekday_key(day), [])
    for interval in intervals:
        if ctx.at(day, interval[0]) <= appt.start and appt.end <= ctx.at(day, interval[1]):
            return
    offered = ", ".join(_hhmm(i) for i in intervals) or "none"
    yield Violation(
        2,
        f"{path}.start",
        f"appointment of visit {appt.visit} ({ctx.span(appt.start, appt.end)}) is not inside "
        f"one of household {household.id}'s availability intervals on "
        f"{weekday_key(day).capitalize()} ({offered})",
    )


def _appointment_working_hours(
    ctx: _Context, path: str, appt: Appointment, caseworker: Caseworker
) -> Iterator[Violation]:
    day = ctx.local_date(appt.start)
    hours = caseworker.working_hours.get(weekday_key(day))
    if hours is None:
        yield Violation(
            2,
            f"{path}.start",
            f"appointment of visit {appt.visit} is on {_day(day)}, "
            f"a day off for caseworker {caseworker.id}",
        )
    elif appt.start < ctx.at(day, hours[0]) or appt.end > ctx.at(day, hours[1]):
        yield Violation(
            2,
            f"{path}.start",
            f"appointment of visit {appt.visit} ({ctx.span(appt.start, appt.end)}) is outside "
            f"caseworker {caseworker.id}'s working hours {_hhmm(hours)}",
        )


def _appointment_absences(
    ctx: _Context, path: str, appt: Appointment, caseworker: Caseworker
) -> Iterator[Violation]:
    for absence in caseworker.absences:
        bounds = ctx.absence_bounds(absence)
        if _overlaps((appt.start, appt.end), bounds):
            yield Violation(
                2,
                f"{path}.start",
                f"appointment of visit {appt.visit} ({ctx.span(appt.start, appt.end)}) falls in "
                f"caseworker {caseworker.id}'s absence {_absence_text(absence)}",
            )


def _absence_text(absence: Absence) -> str:
    def text(value: date) -> str:
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M")
        return value.isoformat()

    start, end = text(absence.start), text(absence.end)
    return start if start == end else f"{start} to {end}"


def _appointment_eligibility(
    path: str, appt: Appointment, household: Household, caseworker: Caseworker
) -> Iterator[Violation]:
    allowed = set(household.allowed_caseworkers)
    if household.primary_caseworker is not None:
        allowed.add(household.primary_caseworker)
    if allowed and caseworker.id not in allowed:
        names = ", ".join(sorted(allowed))
        yield Violation(
            2,
            f"{path}.caseworker",
            f"caseworker {caseworker.id} may not visit household {household.id} "
            f"(visit {appt.visit}); allowed: {names}",
        )
    missing = [skill for skill in household.required_skills if skill not in caseworker.skills]
    if missing:
        yield Violation(
            2,
            f"{path}.caseworker",
            f"caseworker {caseworker.id} lacks skill(s) {', '.join(missing)} "
            f"required by household {household.id} (visit {appt.visit})",
        )


def _appointment_pin(
    ctx: _Context, path: str, appt: Appointment, visit: Visit
) -> Iterator[Violation]:
    pin = visit.pinned
    if pin is None:
        return
    if appt.caseworker != pin.caseworker:
        yield Violation(
            2,
            f"{path}.caseworker",
            f"visit {visit.id} is pinned to caseworker {pin.caseworker}, "
            f"the plan gives it to {appt.caseworker}",
        )
    pinned_start = ctx.timeline.aware(pin.start)
    if appt.start != pinned_start:
        yield Violation(
            2,
            f"{path}.start",
            f"visit {visit.id} is pinned to start {ctx.fmt(pinned_start)}, "
            f"the plan starts it {ctx.fmt(appt.start)}",
        )


# ------------------------------------------------------------------------ rule 3: tours


def _rule3_tours(ctx: _Context) -> Iterator[Violation]:
    for index, tour in enumerate(ctx.plan.tours):
        path = f"$.tours[{index}]"
        first_index, _ = ctx.tours[tour.id]
        if first_index != index:
            yield Violation(
                3, f"{path}.id", f"tour id {tour.id} is used twice (also $.tours[{first_index}])"
            )
        caseworker = ctx.caseworkers.get(tour.caseworker)
        if caseworker is None:
            yield Violation(
                3,
                f"{path}.caseworker",
                f"tour {tour.id} names unknown caseworker {tour.caseworker}",
            )
        else:
            yield from _tour_chain(path, tour, caseworker)
            yield from _tour_hours(ctx, path, tour, caseworker)
            yield from _tour_absences(ctx, path, tour, caseworker)
        yield from _tour_leg_model(ctx, path, tour)
        yield from _tour_timing(ctx, path, tour)
        yield from _tour_totals(ctx, path, tour)
    yield from _tour_overlaps(ctx)


def _tour_chain(path: str, tour: Tour, caseworker: Caseworker) -> Iterator[Violation]:
    expected = [caseworker.site, *tour.stops, caseworker.site]
    if len(tour.legs) != len(expected) - 1:
        yield Violation(
            3,
            f"{path}.legs",
            f"tour {tour.id} has {len(tour.legs)} legs for {len(tour.stops)} stops "
            f"(expected {len(expected) - 1}: {' -> '.join(expected)})",
        )
    for k, leg in enumerate(tour.legs[: len(expected) - 1]):
        if leg.from_ != expected[k]:
            yield Violation(
                3,
                f"{path}.legs[{k}].from",
                f"leg {k} of tour {tour.id} starts at {leg.from_}, expected {expected[k]}",
            )
        if leg.to != expected[k + 1]:
            yield Violation(
                3,
                f"{path}.legs[{k}].to",
                f"leg {k} of tour {tour.id} ends at {leg.to}, expected {expected[k + 1]}",
            )


def _tour_leg_model(ctx: _Context, path: str, tour: Tour) -> Iterator[Violation]:
    params = ctx.travel.get(tour.mode)
    if params is None:
        return
    for k, leg in enumerate(tour.legs):
        leg_path = f"{path}.legs[{k}]"
        for place, side in ((leg.from_, "from"), (leg.to, "to")):
            if ctx.location(place) is None:
                yield Violation(
                    3,
                    f"{leg_path}.{side}",
                    f"leg {k} of tour {tour.id} names unknown place {place}",
                )
        geo = ctx.geodesic_km(leg.from_, leg.to)
        if geo is None:
            continue
        model_km = params.leg_km(geo)
        model_minutes = params.leg_minutes(model_km)
        label = f"leg {leg.from_} -> {leg.to} of tour {tour.id}"
        if leg.km < model_km - LEG_KM_TOLERANCE:
            yield Violation(
                3,
                f"{leg_path}.km",
                f"{label} claims {leg.km:g} km, the travel model ({tour.mode}) "
                f"says {model_km:.3f} km",
            )
        if leg.minutes < model_minutes:
            yield Violation(
                3,
                f"{leg_path}.minutes",
                f"{label} claims {leg.minutes} min, the travel model ({tour.mode}) "
                f"says {model_minutes} min",
            )


def _tour_timing(ctx: _Context, path: str, tour: Tour) -> Iterator[Violation]:
    if tour.return_ < tour.depart:
        yield Violation(
            3,
            f"{path}.return",
            f"tour {tour.id} returns {ctx.fmt(tour.return_)} "
            f"before it departs {ctx.fmt(tour.depart)}",
        )
    ready, ready_what = _utc(tour.depart), "departing"
    for k, stop in enumerate(tour.stops):
        found = ctx.appointment_in_tour(stop, tour.id)
        if found is None or k >= len(tour.legs):
            return  # reported under rule 1 / the leg chain
        _, appt = found
        arrival = ready + timedelta(minutes=tour.legs[k].minutes)
        if arrival > appt.start:
            yield Violation(
                3,
                f"{path}.legs[{k}]",
                f"tour {tour.id}: {ready_what} {ctx.fmt(ready)} plus {tour.legs[k].minutes} min "
                f"travel arrives {ctx.fmt(arrival)}, "
                f"after visit {stop} starts {ctx.fmt(appt.start)}",
            )
        ready, ready_what = _utc(appt.end), f"leaving visit {stop}"
    last = len(tour.stops)
    if last < len(tour.legs):
        arrival = ready + timedelta(minutes=tour.legs[last].minutes)
        if arrival > tour.return_:
            yield Violation(
                3,
                f"{path}.legs[{last}]",
                f"tour {tour.id}: {ready_what} {ctx.fmt(ready)} plus {tour.legs[last].minutes} "
                f"min travel arrives {ctx.fmt(arrival)}, after the tour's return "
                f"{ctx.fmt(tour.return_)}",
            )


def _tour_hours(
    ctx: _Context, path: str, tour: Tour, caseworker: Caseworker
) -> Iterator[Violation]:
    day = ctx.local_date(tour.depart)
    if tour.date != day:
        yield Violation(
            3,
            f"{path}.date",
            f"tour {tour.id} is dated {tour.date.isoformat()} but departs {ctx.fmt(tour.depart)}",
        )
    hours = caseworker.working_hours.get(weekday_key(day))
    if hours is None:
        yield Violation(
            3,
            f"{path}.depart",
            f"tour {tour.id} runs on {_day(day)}, a day off for caseworker {caseworker.id}",
        )
        return
    if tour.depart < ctx.at(day, hours[0]):
        yield Violation(
            3,
            f"{path}.depart",
            f"tour {tour.id} departs {ctx.fmt(tour.depart)}, before caseworker "
            f"{caseworker.id}'s working hours {_hhmm(hours)}",
        )
    if tour.return_ > ctx.at(day, hours[1]):
        yield Violation(
            3,
            f"{path}.return",
            f"tour {tour.id} returns {ctx.fmt(tour.return_)}, after caseworker "
            f"{caseworker.id}'s working hours {_hhmm(hours)}",
        )


def _tour_absences(
    ctx: _Context, path: str, tour: Tour, caseworker: Caseworker
) -> Iterator[Violation]:
    for absence in caseworker.absences:
        if _overlaps((tour.depart, tour.return_), ctx.absence_bounds(absence)):
            yield Violation(
                3,
                path,
                f"tour {tour.id} ({ctx.span(tour.depart, tour.return_)}) overlaps caseworker "
                f"{caseworker.id}'s absence {_absence_text(absence)}",
            )


def _tour_totals(ctx: _Context, path: str, tour: Tour) -> Iterator[Violation]:
    km = ctx.leg_km_sum(tour)
    if abs(tour.distance_km - km) > TOTAL_TOLERANCE:
        yield Violation(
            3,
            f"{path}.distance_km",
            f"tour {tour.id} states {tour.distance_km:g} km, its legs add up to {km:.3f} km",
        )
    minutes = sum(leg.minutes for leg in tour.legs)
    if tour.travel_minutes != minutes:
        yield Violation(
            3,
            f"{path}.travel_minutes",
            f"tour {tour.id} states {tour.travel_minutes} travel min, its legs add up to {minutes}",
        )
    factor = ctx.factors.get(tour.mode)
    if factor is not None:
        co2e = tour.distance_km * factor / 1000
        if abs(tour.co2e_kg - co2e) > TOTAL_TOLERANCE:
            yield Violation(
                3,
                f"{path}.co2e_kg",
                f"tour {tour.id} states {tour.co2e_kg:g} kg CO2e, {tour.distance_km:g} km by "
                f"{tour.mode} at {factor:g} g/km make {co2e:.4f} kg",
            )


def _tour_overlaps(ctx: _Context) -> Iterator[Violation]:
    by_caseworker: dict[str, list[tuple[int, Tour]]] = defaultdict(list)
    for index, tour in enumerate(ctx.plan.tours):
        by_caseworker[tour.caseworker].append((index, tour))
    for caseworker_id, tours in by_caseworker.items():
        for a, (_, first) in enumerate(tours):
            for index, second in tours[a + 1 :]:
                if _overlaps((first.depart, first.return_), (second.depart, second.return_)):
                    yield Violation(
                        3,
                        f"$.tours[{index}]",
                        f"tours {first.id} ({ctx.span(first.depart, first.return_)}) and "
                        f"{second.id} ({ctx.span(second.depart, second.return_)}) of caseworker "
                        f"{caseworker_id} overlap",
                    )


# --------------------------------------------------------------------- rule 4: vehicles


def _rule4_vehicles(ctx: _Context) -> Iterator[Violation]:
    for index, tour in enumerate(ctx.plan.tours):
        path = f"$.tours[{index}]"
        caseworker = ctx.caseworkers.get(tour.caseworker)
        if caseworker is not None:
            yield from _tour_mode(path, tour, caseworker)
            yield from _tour_vehicle(ctx, path, tour, caseworker)
        yield from _tour_max_leg(ctx, path, tour)
    for index, booking in enumerate(ctx.plan.vehicle_bookings):
        yield from _booking_references(ctx, index, booking)
    yield from _booking_overlaps(ctx)
    yield from _vehicle_range(ctx)


def _tour_mode(path: str, tour: Tour, caseworker: Caseworker) -> Iterator[Violation]:
    if tour.mode not in caseworker.modes:
        yield Violation(
            4,
            f"{path}.mode",
            f"tour {tour.id} travels by {tour.mode}, not one of caseworker {caseworker.id}'s "
            f"modes ({', '.join(caseworker.modes)})",
        )


def _tour_vehicle(
    ctx: _Context, path: str, tour: Tour, caseworker: Caseworker
) -> Iterator[Violation]:
    vpath = f"{path}.vehicle"
    if tour.mode not in MODES_WITH_VEHICLE:
        if tour.vehicle is not None:
            yield Violation(
                4, vpath, f"tour {tour.id} by {tour.mode} needs no vehicle but names {tour.vehicle}"
            )
        return
    if tour.vehicle is None:
        yield Violation(4, vpath, f"tour {tour.id} by {tour.mode} names no vehicle")
        return
    vehicle = ctx.vehicles.get(tour.vehicle)
    if vehicle is None:
        yield Violation(4, vpath, f"tour {tour.id} names unknown vehicle {tour.vehicle}")
        return
    if vehicle.kind != tour.mode:
        yield Violation(
            4, vpath, f"tour {tour.id} by {tour.mode} uses vehicle {vehicle.id}, a {vehicle.kind}"
        )
    if vehicle.site != caseworker.site:
        yield Violation(
            4,
            vpath,
            f"tour {tour.id} uses vehicle {vehicle.id} of site {vehicle.site}, but caseworker "
            f"{caseworker.id} works at site {caseworker.site}",
        )
    yield from _tour_booking_cover(ctx, vpath, tour, vehicle)


def _tour_booking_cover(
    ctx: _Context, vpath: str, tour: Tour, vehicle: Vehicle
) -> Iterator[Violation]:
    bookings = [
        (index, booking)
        for index, booking in enumerate(ctx.plan.vehicle_bookings)
        if booking.tour == tour.id and booking.vehicle == vehicle.id
    ]
    if not bookings:
        yield Violation(4, vpath, f"tour {tour.id} has no booking of vehicle {vehicle.id}")
        return
    if any(b.start <= tour.depart and tour.return_ <= b.end for _, b in bookings):
        return
    index, booking = bookings[0]
    yield Violation(
        4,
        f"$.vehicle_bookings[{index}]",
        f"booking of {vehicle.id} ({ctx.span(booking.start, booking.end)}) does not cover "
        f"tour {tour.id} ({ctx.span(tour.depart, tour.return_)})",
    )


def _tour_max_leg(ctx: _Context, path: str, tour: Tour) -> Iterator[Violation]:
    params = ctx.travel.get(tour.mode)
    if params is None:
        return
    for k, leg in enumerate(tour.legs):
        geo = ctx.geodesic_km(leg.from_, leg.to)
        if geo is None:
            continue
        model_km = params.leg_km(geo)
        if not params.reaches(model_km):
            yield Violation(
                4,
                f"{path}.legs[{k}]",
                f"leg {leg.from_} -> {leg.to} of tour {tour.id} is {model_km:.3f} km, longer "
                f"than the longest {tour.mode} leg ({params.max_leg_km:g} km)",
            )


def _booking_references(ctx: _Context, index: int, booking: VehicleBooking) -> Iterator[Violation]:
    path = f"$.vehicle_bookings[{index}]"
    if booking.vehicle not in ctx.vehicles:
        yield Violation(
            4,
            f"{path}.vehicle",
            f"booking for tour {booking.tour} names unknown vehicle {booking.vehicle}",
        )
    found = ctx.tours.get(booking.tour)
    if found is None:
        yield Violation(
            4, f"{path}.tour", f"booking of {booking.vehicle} names unknown tour {booking.tour}"
        )
        return
    _, tour = found
    if tour.vehicle != booking.vehicle:
        uses = tour.vehicle or "no vehicle"
        yield Violation(
            4,
            f"{path}.vehicle",
            f"booking of {booking.vehicle} is for tour {tour.id}, which uses {uses}",
        )
    if booking.end < booking.start:
        yield Violation(
            4,
            f"{path}.end",
            f"booking of {booking.vehicle} for tour {tour.id} ends before it starts",
        )


def _booking_overlaps(ctx: _Context) -> Iterator[Violation]:
    by_vehicle: dict[str, list[tuple[int, VehicleBooking]]] = defaultdict(list)
    for index, booking in enumerate(ctx.plan.vehicle_bookings):
        by_vehicle[booking.vehicle].append((index, booking))
    for vehicle_id, bookings in by_vehicle.items():
        for a, (_, first) in enumerate(bookings):
            for index, second in bookings[a + 1 :]:
                if _overlaps((first.start, first.end), (second.start, second.end)):
                    yield Violation(
                        4,
                        f"$.vehicle_bookings[{index}]",
                        f"bookings of vehicle {vehicle_id} for tours {first.tour} "
                        f"({ctx.span(first.start, first.end)}) and {second.tour} "
                        f"({ctx.span(second.start, second.end)}) overlap",
                    )
        vehicle = ctx.vehicles.get(vehicle_id)
        if vehicle is None:
            continue
        for index, booking in bookings:
            for blocked in vehicle.blocked:
                bounds = (ctx.timeline.aware(blocked.start), ctx.timeline.aware(blocked.end))
                if _overlaps((booking.start, booking.end), bounds):
                    reason = f" ({blocked.reason})" if blocked.reason else ""
                    yield Violation(
                        4,
                        f"$.vehicle_bookings[{index}]",
                        f"booking of vehicle {vehicle_id} for tour {booking.tour} "
                        f"({ctx.span(booking.start, booking.end)}) overlaps its blocked time "
                        f"{ctx.span(*bounds)}{reason}",
                    )


def _vehicle_range(ctx: _Context) -> Iterator[Violation]:
    groups: dict[tuple[str, date], dict[str, int]] = defaultdict(dict)
    for index, booking in enumerate(ctx.plan.vehicle_bookings):
        found = ctx.tours.get(booking.tour)
        if found is None or booking.vehicle not in ctx.vehicles:
            continue
        day = ctx.local_date(found[1].depart)
        groups[(booking.vehicle, day)].setdefault(booking.tour, index)
    for (vehicle_id, day), tour_ids in groups.items():
        vehicle = ctx.vehicles[vehicle_id]
        km = sum(ctx.leg_km_sum(ctx.tours[tour_id][1]) for tour_id in tour_ids)
        if km > vehicle.range_km + TOTAL_TOLERANCE:
            yield Violation(
                4,
                f"$.vehicle_bookings[{min(tour_ids.values())}]",
                f"vehicle {vehicle_id} covers {km:.3f} km on {_day(day)} "
                f"(tours {', '.join(tour_ids)}), more than its range of {vehicle.range_km:g} km",
            )


# --------------------------------------------------------------------- rule 5: capacity


def _rule5_capacity(ctx: _Context) -> Iterator[Violation]:
    yield from _visits_per_day(ctx)
    yield from _household_dates(ctx)


def _visits_per_day(ctx: _Context) -> Iterator[Violation]:
    per_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for index, appt in enumerate(ctx.plan.appointments):
        per_day[(appt.caseworker, ctx.local_date(appt.start))].append(index)
    for (caseworker_id, day), indexes in per_day.items():
        caseworker = ctx.caseworkers.get(caseworker_id)
        cap = None if caseworker is None else caseworker.max_visits_per_day
        if cap is None or len(indexes) <= cap:
            continue
        ordered = sorted(indexes, key=lambda i: ctx.plan.appointments[i].start)
        for index in ordered[cap:]:
            yield Violation(
                5,
                f"$.appointments[{index}]",
                f"caseworker {caseworker_id} has {len(indexes)} visits on {_day(day)}, "
                f"more than the maximum of {cap} (visit {ctx.plan.appointments[index].visit})",
            )


def _household_dates(ctx: _Context) -> Iterator[Violation]:
    seen: dict[tuple[str, date], str] = {}
    for index, appt in enumerate(ctx.plan.appointments):
        visit = ctx.visits.get(appt.visit)
        household = visit.household if visit is not None else appt.household
        key = (household, ctx.local_date(appt.start))
        if key in seen:
            yield Violation(
                5,
                f"$.appointments[{index}]",
                f"visits {seen[key]} and {appt.visit} of household {household} "
                f"both fall on {_day(key[1])}",
            )
        else:
            seen[key] = appt.visit


# ------------------------------------------------------------------------- rule 6: kpis


def _rule6_kpis(ctx: _Context) -> Iterator[Violation]:
    yield from _kpi_counts(ctx)
    yield from _kpi_distance(ctx)
    yield from _kpi_emissions(ctx)


def _kpi_counts(ctx: _Context) -> Iterator[Violation]:
    kpis, plan = ctx.plan.kpis, ctx.plan
    breaks = 0
    for appt in plan.appointments:
        household = ctx.household_of(appt.visit) or ctx.households.get(appt.household)
        primary = None if household is None else household.primary_caseworker
        if primary is not None and primary != appt.caseworker:
            breaks += 1
    expected = {
        "visits": len(ctx.scenario.visits),
        "scheduled": len(plan.appointments),
        "unassigned": len(plan.unassigned),
        "travel_minutes": sum(tour.travel_minutes for tour in plan.tours),
        "continuity_breaks": breaks,
    }
    stated = {
        "visits": kpis.visits,
        "scheduled": kpis.scheduled,
        "unassigned": kpis.unassigned,
        "travel_minutes": kpis.travel_minutes,
        "continuity_breaks": kpis.continuity_breaks,
    }
    for name, value in expected.items():
        if stated[name] != value:
            yield Violation(6, f"$.kpis.{name}", f"kpis.{name} is {stated[name]}, expected {value}")


def _kpi_distance(ctx: _Context) -> Iterator[Violation]:
    per_mode: dict[str, float] = defaultdict(float)
    for tour in ctx.plan.tours:
        per_mode[tour.mode] += tour.distance_km
    stated = ctx.plan.kpis.distance_km
    for mode in sorted(set(per_mode) | set(stated)):
        expected, value = per_mode.get(mode, 0.0), stated.get(mode)
        if value is None:
            if not _kpi_close(0.0, expected):
                yield Violation(
                    6,
                    "$.kpis.distance_km",
                    f"kpis.distance_km lacks {mode}; its tours cover {expected:.3f} km",
                )
        elif not _kpi_close(value, expected):
            yield Violation(
                6,
                f"$.kpis.distance_km.{mode}",
                f"kpis.distance_km.{mode} is {value:g} km, its tours cover {expected:.3f} km",
            )


def _kpi_emissions(ctx: _Context) -> Iterator[Violation]:
    kpis = ctx.plan.kpis
    co2e = sum(tour.distance_km * ctx.factors.get(tour.mode, 0.0) / 1000 for tour in ctx.plan.tours)
    baseline_mode = ctx.scenario.baseline_mode
    baseline_params = ctx.travel[baseline_mode]
    baseline_factor = ctx.factors.get(baseline_mode, 0.0)
    baseline = 0.0
    for tour in ctx.plan.tours:
        for leg in tour.legs:
            geo = ctx.geodesic_km(leg.from_, leg.to)
            if geo is not None:
                baseline += baseline_params.leg_km(geo) * baseline_factor / 1000
    figures = (
        ("co2e_kg", kpis.co2e_kg, co2e, "the tours' km x their modes' factors give"),
        (
            "baseline_co2e_kg",
            kpis.baseline_co2e_kg,
            baseline,
            f"the legs' geodesic km by {baseline_mode} give",
        ),
        ("avoided_co2e_kg", kpis.avoided_co2e_kg, baseline - co2e, "baseline minus actual is"),
    )
    for name, value, expected, how in figures:
        if not _kpi_close(value, expected):
            yield Violation(
                6, f"$.kpis.{name}", f"kpis.{name} is {value:g} kg, {how} {expected:.4f} kg"
            )


# ------------------------------------------------------------------- rule 7: unassigned


def _rule7_unassigned(ctx: _Context) -> Iterator[Violation]:
    for index, entry in enumerate(ctx.plan.unassigned):
        path = f"$.unassigned[{index}]"
        if entry.reason not in _REASONS:
            yield Violation(
                7, f"{path}.reason", f"visit {entry.visit}: unknown reason {entry.reason!r}"
            )
        if not entry.detail.strip():
            yield Violation(
                7, f"{path}.detail", f"visit {entry.visit} is unassigned without a detail"
            )
