"""The weekly visit planner: scenario in, plan out.

Passes:

1. Every visit that cannot be made even alone is reported with its reason at once.
2. Routing (``solver``) places the rest on shifts: caseworker x date x working stretch x
   mode, a vehicle *kind* per tour.
3. ``vehicles.assign`` books a physical vehicle for every tour that needs one, moving
   tours in time where the fleet is short. Tours that get none return their visits.
4. Re-planning passes route the visits still open around the tours already fixed, with
   shifts bound to one vehicle's free time each, until a pass places nothing new.

Whatever is left could be planned alone but not together with the rest: ``capacity``.
"""

from __future__ import annotations

import math
import os
import time as clock
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing import get_context

import numpy as np

from fleet.modes import MODES_WITH_VEHICLE
from scheduler import solver as routing
from scheduler.format import (
    PLAN_FORMAT,
    Appointment,
    Household,
    Kpis,
    Leg,
    Plan,
    Replanning,
    Scenario,
    SolverInfo,
    Tour,
    Unassigned,
    VehicleBooking,
)
from scheduler.problem import (
    Context,
    Diagnosis,
    Interval,
    Option,
    alone_feasible,
    merged,
    overlaps,
    visit_options,
)

#: Re-planning passes after the first (each one places what the fleet or the gaps allow).
MAX_PASSES = 4
#: Shifts per working stretch: two tours per stretch when the model stays small.
_SLOT_LIMIT = 1500
#: Up to this many vehicle-bound shifts, routing books physical vehicles itself.
_BIND_LIMIT = 150
#: ... or while vehicle-bound shifts x visits stay below this (re-planning passes).
_BIND_WORK = 4_000
#: Independent parts are planned in parallel processes from this many visits on (and
#: always when the search uses its whole time limit).
_PARALLEL_FROM = 150
#: Parts with this many visits are routed a day at a time first when time is short:
#: one model over the week travels less, but its first solution takes time growing with
#: the square of its visits (less than ``_SPLIT_SECONDS_PER_VISIT_SQUARED`` x visits^2
#: and it may find none: 150 visits need about 6 s, 500 about 60 s).
_SPLIT_DAYS_FROM = 120
_SPLIT_SECONDS_PER_VISIT_SQUARED = 2.5e-4
#: Day spread: a caseworker-day's share of working time filled, plus this per 10 km
#: from the nearest visit it already has (the office for the first).
_GEOGRAPHY_WEIGHT = 0.2
#: Models with more visits than this give a visit to its primary caseworker if possible.
_STRICT_CONTINUITY_FROM = 200


@dataclass(frozen=True, slots=True)
class PlanProgress:
    elapsed_s: float
    time_limit_s: float
    placed: int
    visits: int
    cost: float | None


@dataclass
class PlannedTour:
    caseworker: str
    date: date
    mode: str
    window: Interval
    visits: list[str]
    starts: list[int]
    depart: int
    ret: int
    legs: list[tuple[str, str, float, int]]
    vehicle: str | None = None

    @property
    def km(self) -> float:
        return sum(_round_km(leg[2]) for leg in self.legs)

    def shifted(self, delta: int, vehicle: str | None) -> PlannedTour:
        return replace(
            self,
            starts=[s + delta for s in self.starts],
            depart=self.depart + delta,
            ret=self.ret + delta,
            vehicle=vehicle,
        )


@dataclass
class _PassState:
    """What earlier passes fixed: busy time, taken dates, used caps, km and bookings."""

    busy: dict[tuple[str, date], list[Interval]] = field(default_factory=lambda: defaultdict(list))
    household_dates: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))
    visits_per_day: Counter[tuple[str, date]] = field(default_factory=Counter)
    vehicle_busy: dict[str, list[Interval]] = field(default_factory=lambda: defaultdict(list))
    vehicle_km: dict[str, dict[date, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )

    @classmethod
    def of(cls, context: Context, tours: Sequence[PlannedTour]) -> _PassState:
        state = cls()
        for tour in tours:
            state.add(context, tour)
        return state

    def add(self, context: Context, tour: PlannedTour) -> None:
        """Fix ``tour`` too."""
        self.busy[(tour.caseworker, tour.date)].append((tour.depart, tour.ret))
        self.visits_per_day[(tour.caseworker, tour.date)] += len(tour.visits)
        for visit_id in tour.visits:
            self.household_dates[context.visits[visit_id].household].add(tour.date)
        if tour.vehicle is not None:
            self.vehicle_busy[tour.vehicle].append((tour.depart, tour.ret))
            self.vehicle_km[tour.vehicle][tour.date] += tour.km


def _round_km(km: float) -> float:
    """Plan km: rounded up to metres, so a leg is never shorter than the model's."""
    return math.ceil(km * 1000 - 1e-6) / 1000


def plan_scenario(
    scenario: Scenario,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    on_progress: Callable[[PlanProgress], None] | None = None,
    previous: Plan | None = None,
    early_stop: bool = True,
    started: float | None = None,
) -> Plan:
    """Plan the scenario; with ``previous`` (a published plan), re-plan around it:
    every appointment that can stay where it is stays, the rest is planned anew.

    ``early_stop``: end each search once it stops improving (fast, repeatable for a
    seed); without it the planner uses its whole time limit for a better plan.
    ``started``: when the time limit's clock started (``time.monotonic()``), if before
    this call: the command line counts its own start-up, so that the process as a
    whole keeps the limit. Half the limit stays the planner's in any case: a limit
    shorter than the start-up still gets a plan, just not within the limit.
    """
    now = clock.monotonic()
    started = now if started is None else min(now, max(started, now - 0.5 * time_limit_s))
    # Keep a reserve for writing the plan, so the whole call stays within the limit
    # (and for a large week, about as long again for the caller to write it out).
    reserve = min(1.0, 0.05 * time_limit_s) + min(
        0.25 * time_limit_s, 2.5e-4 * len(scenario.visits)
    )
    deadline = started + time_limit_s - reserve
    context = Context(scenario)
    diagnoses: dict[str, Diagnosis] = {}
    for visit in scenario.visits:
        diagnosis = alone_feasible(context, visit)
        if diagnosis is not None:
            diagnoses[visit.id] = diagnosis
    kept = _kept_tours(context, previous, diagnoses) if previous is not None else []
    held = {visit for tour in kept for visit in tour.visits}
    pending = [v.id for v in scenario.visits if v.id not in diagnoses and v.id not in held]
    # Visits whose published appointment could not stay are planned first.
    displaced = (
        frozenset(a.visit for a in (previous.appointments if previous is not None else [])) - held
    )
    tours: list[PlannedTour] = list(kept)

    def report(placed: int, cost: float | None) -> None:
        if on_progress is not None:
            on_progress(
                PlanProgress(
                    clock.monotonic() - started,
                    time_limit_s,
                    sum(len(t.visits) for t in tours) + placed,
                    len(scenario.visits),
                    cost,
                )
            )

    parts = components(context, pending)
    workers = min(len(parts), os.cpu_count() or 1)
    # A search that uses its whole time limit gains from every second it gets: parts in
    # parallel get twice as much on two cores (the 150-visit single-mode week's two
    # offices: 10 s each instead of 5 s one after the other).
    if workers > 1 and (len(pending) >= _PARALLEL_FROM or not early_stop):
        tours.extend(
            _plan_parts_in_parallel(
                scenario, parts, kept, deadline, seed, workers, report, early_stop, displaced
            )
        )
    else:
        for index, part in enumerate(parts):
            left = sum(len(p.visits) for p in parts[index:])
            budget = (deadline - clock.monotonic()) * len(part.visits) / left
            around = [t for t in kept if t.caseworker in part.caseworkers]
            part_context = context if len(parts) == 1 else Context(part.scenario(scenario, around))
            tours.extend(
                _plan_part(
                    part_context,
                    part.visits,
                    clock.monotonic() + budget,
                    seed,
                    report,
                    kept=around,
                    early_stop=early_stop,
                    first=displaced,
                )
            )
    report(0, None)
    tours = _one_tour_per_vehicle_at_a_time(context, tours, len(kept))
    placed = {visit for tour in tours for visit in tour.visits}
    for visit_id in pending:
        if visit_id not in placed:
            diagnoses[visit_id] = _capacity(context, visit_id)
    plan = plan_document(
        context,
        tours,
        diagnoses,
        SolverInfo(
            engine=routing.ENGINE,
            time_limit_s=time_limit_s,
            wall_s=round(clock.monotonic() - started, 3),
            seed=seed,
        ),
    )
    if previous is not None:
        plan.replanning = _replanning(previous, plan)
    return plan


def _one_tour_per_vehicle_at_a_time(
    context: Context, tours: Sequence[PlannedTour], kept: int
) -> list[PlannedTour]:
    """The week's tours with no vehicle double-booked and none over its day's range.

    Every pass checks vehicles against the tours fixed before it, so this changes
    nothing in a sound plan; it is the last word on the rule a publish enforces (CI saw
    a plan of the demo week publish-refused for two overlapping tours on one e-car, once
    in a hundred runs, not reproduced). A tour that clashes with an earlier one takes
    another free vehicle of its kind at the office, or is left out: its visits stay open
    (``capacity``). Kept tours (a re-plan's first ``kept``) are never moved.
    """
    state = _PassState()
    result: list[PlannedTour] = []
    order = list(range(kept)) + sorted(range(kept, len(tours)), key=lambda i: tours[i].depart)
    for index in order:
        tour = tours[index]
        if tour.vehicle is not None and index >= kept and not _vehicle_fits(context, tour, state):
            fleet = context.site_vehicles(context.caseworkers[tour.caseworker].site, tour.mode)
            candidates = (replace(tour, vehicle=vehicle.id) for vehicle in fleet)
            moved = next((c for c in candidates if _vehicle_fits(context, c, state)), None)
            if moved is None:
                continue
            tour = moved
        state.add(context, tour)
        result.append(tour)
    return result


def _replanning(previous: Plan, plan: Plan) -> Replanning:
    now = {a.visit: (a.caseworker, a.start) for a in plan.appointments}
    kept, moved, dropped = 0, [], []
    for appointment in previous.appointments:
        if appointment.visit not in now:
            dropped.append(appointment.visit)
        elif now[appointment.visit] == (appointment.caseworker, appointment.start):
            kept += 1
        else:
            moved.append(appointment.visit)
    return Replanning(
        previous_appointments=len(previous.appointments),
        kept=kept,
        moved=moved,
        dropped=dropped,
    )


def _kept_tours(
    context: Context, previous: Plan, diagnoses: dict[str, Diagnosis]
) -> list[PlannedTour]:
    """The previous plan's tours that can stay as they are in the changed scenario.

    A tour stays if its caseworker still works then and may travel that way, its
    vehicle is still free for it, and each remaining stop still fits at its old time
    (a cancelled visit just leaves the tour). Everything else is planned anew.
    """
    starts = {a.visit: a for a in previous.appointments}
    kept: list[PlannedTour] = []
    for old in sorted(previous.tours, key=lambda t: t.depart):
        tour = _still_valid(context, old, starts, diagnoses)
        if tour is None:
            continue
        state = _PassState.of(context, kept)
        if _fits(context, tour, None, state):
            kept.append(tour)
    return kept


def _still_valid(
    context: Context,
    old: Tour,
    appointments: dict[str, Appointment],
    diagnoses: dict[str, Diagnosis],
) -> PlannedTour | None:
    caseworker = context.caseworkers.get(old.caseworker)
    if caseworker is None or old.mode not in caseworker.modes:
        return None
    if old.vehicle is not None:
        vehicle = context.vehicles.get(old.vehicle)
        if vehicle is None or vehicle.kind != old.mode or vehicle.site != caseworker.site:
            return None
    elif old.mode in MODES_WITH_VEHICLE:
        return None
    stops = [
        v
        for v in old.stops
        if v in context.visits
        and v not in diagnoses
        and v in appointments
        and appointments[v].caseworker == old.caseworker
    ]
    if not stops:
        return None
    timeline = context.timeline
    wanted = [timeline.minute_at(appointments[v].start) for v in stops]
    for visit_id, start in zip(stops, wanted, strict=True):
        options, _ = visit_options(context, context.visits[visit_id])
        if not any(
            o.caseworker == old.caseworker and o.date == old.date and o.mode == old.mode
            for o in options
        ):
            return None
        if not any(lo <= start <= hi for lo, hi in _visit_ranges(context, visit_id, old.date)):
            return None
    tour = _timed_tour(context, old.caseworker, old.date, old.mode, stops, wanted)
    if tour is None:
        return None
    tour.vehicle = old.vehicle
    return tour


def _timed_tour(
    context: Context,
    caseworker_id: str,
    day: date,
    mode: str,
    visit_ids: list[str],
    starts: list[int],
) -> PlannedTour | None:
    """A tour with fixed appointment times, if travel leaves room and it fits a piece."""
    template = schedule_tour(
        context, caseworker_id, day, mode, (0, context.horizon_minutes), visit_ids
    )
    if template is None:
        return None
    legs = template.legs
    for position in range(1, len(visit_ids)):
        previous_end = (
            starts[position - 1] + context.visits[visit_ids[position - 1]].duration_minutes
        )
        if previous_end + legs[position][3] > starts[position]:
            return None
    depart = starts[0] - legs[0][3]
    ret = starts[-1] + context.visits[visit_ids[-1]].duration_minutes + legs[-1][3]
    pieces = context.working_pieces(context.caseworkers[caseworker_id], day)
    window = next((p for p in pieces if p[0] <= depart and ret <= p[1]), None)
    if window is None:
        return None
    return PlannedTour(caseworker_id, day, mode, window, visit_ids, starts, depart, ret, legs)


@dataclass(frozen=True)
class Part:
    """Caseworkers and visits that share nobody and no vehicle with the rest."""

    caseworkers: tuple[str, ...]
    visits: tuple[str, ...]

    def scenario(self, whole: Scenario, kept: Sequence[PlannedTour] = ()) -> Scenario:
        """The part as a scenario of its own; with the visits of ``kept`` tours (its
        caseworkers' tours a re-plan leaves where they are), which it plans around."""
        people = set(self.caseworkers)
        sites = {c.site for c in whole.caseworkers if c.id in people}
        visits = set(self.visits) | {v for tour in kept for v in tour.visits}
        households = {v.household for v in whole.visits if v.id in visits}
        return whole.model_copy(
            update={
                "caseworkers": [c for c in whole.caseworkers if c.id in people],
                "vehicles": [v for v in whole.vehicles if v.site in sites],
                "households": [h for h in whole.households if h.id in households],
                "visits": [v for v in whole.visits if v.id in visits],
            }
        )


def components(context: Context, visit_ids: Sequence[str]) -> list[Part]:
    """Independent sub-problems: caseworkers linked by an office (its vehicles) or by a
    household both may visit; largest first."""
    parent = {c.id: c.id for c in context.scenario.caseworkers}

    def root(caseworker: str) -> str:
        while parent[caseworker] != caseworker:
            parent[caseworker] = parent[parent[caseworker]]
            caseworker = parent[caseworker]
        return caseworker

    def join(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    first_at_site: dict[str, str] = {}
    for caseworker in context.scenario.caseworkers:
        join(caseworker.id, first_at_site.setdefault(caseworker.site, caseworker.id))
    eligible: dict[str, list[str]] = {}
    for visit_id in visit_ids:
        household = context.households[context.visits[visit_id].household]
        eligible[visit_id] = _nearest_office_first(context, household)
        for other in eligible[visit_id][1:]:
            join(eligible[visit_id][0], other)
    people: dict[str, list[str]] = defaultdict(list)
    for caseworker in context.scenario.caseworkers:
        people[root(caseworker.id)].append(caseworker.id)
    visits: dict[str, list[str]] = defaultdict(list)
    for visit_id in visit_ids:
        if eligible[visit_id]:
            visits[root(eligible[visit_id][0])].append(visit_id)
    parts = [Part(tuple(people[key]), tuple(found)) for key, found in visits.items()]
    return sorted(parts, key=lambda part: (-len(part.visits), part.caseworkers))


def _nearest_office_first(context: Context, household: Household) -> list[str]:
    """Who may make a household's visits, as far as splitting the week goes.

    A household nobody in particular is responsible for (no primary, no allowed list)
    would tie every office into one problem; it goes to the nearest office with a
    skilled caseworker, as a coordinator would hand it out.
    """
    eligible = context.eligible_caseworkers(household)
    if context.allowed_ids(household) is not None or not eligible:
        return [c.id for c in eligible]
    location = context.location_index[household.id]
    nearest = min(
        {c.site for c in eligible},
        key=lambda site: (context.geodesic(context.location_index[site], location), site),
    )
    return [c.id for c in eligible if c.site == nearest]


def _plan_parts_in_parallel(
    scenario: Scenario,
    parts: Sequence[Part],
    kept: Sequence[PlannedTour],
    deadline: float,
    seed: int,
    workers: int,
    report: Callable[[int, float | None], None],
    early_stop: bool,
    first: frozenset[str] = frozenset(),
) -> list[PlannedTour]:
    """Independent parts in worker processes; each gets time by its share of visits."""
    remaining = deadline - clock.monotonic()
    total = sum(len(part.visits) for part in parts)
    tours: list[PlannedTour] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        futures = []
        for part in parts:
            around = [t for t in kept if t.caseworker in part.caseworkers]
            futures.append(
                pool.submit(
                    _plan_part_in_worker,
                    part.scenario(scenario, around),
                    part.visits,
                    remaining * min(1.0, workers * len(part.visits) / total),
                    deadline,
                    seed,
                    around,
                    early_stop,
                    first,
                )
            )
        for future in as_completed(futures):
            tours.extend(future.result())
            report(0, None)
    return tours


def _plan_part_in_worker(
    scenario: Scenario,
    visits: Sequence[str],
    budget_s: float,
    deadline: float,
    seed: int,
    kept: Sequence[PlannedTour],
    early_stop: bool,
    first: frozenset[str],
) -> list[PlannedTour]:
    # A part waiting for a free worker still ends by the whole plan's deadline (the
    # monotonic clock is one for all processes of the machine).
    routing.share_the_machine()
    return _plan_part(
        Context(scenario),
        visits,
        min(clock.monotonic() + budget_s, deadline),
        seed,
        lambda _p, _c: None,
        kept=kept,
        early_stop=early_stop,
        first=first,
    )


def _plan_part(
    context: Context,
    visits: Sequence[str],
    deadline: float,
    seed: int,
    report: Callable[[int, float | None], None],
    kept: Sequence[PlannedTour] = (),
    early_stop: bool = True,
    first: frozenset[str] = frozenset(),
) -> list[PlannedTour]:
    """Routing, booking and re-planning passes for one independent part; returns the
    new tours (``kept`` tours stay as they are and are planned around; ``first``, the
    visits of a re-plan that lost their appointment, get new ones before the rest)."""
    pending = list(visits)
    fixed: list[PlannedTour] = list(kept)
    # A little of a large part's time stays for inserting what routing left open into
    # the tours as planned (a stop on the way), which routing passes cannot do.
    whole = deadline
    split = len(pending) >= _SPLIT_DAYS_FROM and (
        deadline - clock.monotonic() < _SPLIT_SECONDS_PER_VISIT_SQUARED * len(pending) ** 2
    )
    if split:
        deadline -= min(0.5, 0.03 * max(0.0, deadline - clock.monotonic()))

    def progress(solver_progress: routing.Progress) -> None:
        report(sum(len(t.visits) for t in fixed) + solver_progress.placed, solver_progress.cost)

    def run_pass(visit_ids: Sequence[str], time_limit_s: float, day: date | None) -> bool:
        nonlocal pending
        tours = _route_pass(
            context,
            visit_ids,
            fixed,
            time_limit_s=time_limit_s,
            on_progress=progress,
            day=day,
            early_stop=early_stop,
        )
        if not tours:
            return False
        # CP-SAT may use all of it: a share of the pass's own time, not of the part's.
        booking_time = max(0.1, min(2.0, 0.25 * time_limit_s))
        booked = _book_vehicles(context, tours, fixed, time_limit_s=booking_time, seed=seed)
        fixed.extend(booked)
        placed = {visit for tour in booked for visit in tour.visits}
        pending = [v for v in pending if v not in placed]
        return bool(booked)

    def insert(until: float, only: frozenset[str] | None = None) -> None:
        nonlocal pending
        chosen = [v for v in pending if only is None or v in only]
        if not chosen:
            return
        new = fixed[len(kept) :]
        _insert_leftovers(context, new, chosen, until, around=kept)
        fixed[len(kept) :] = new
        placed = {visit for tour in new for visit in tour.visits}
        pending = [v for v in pending if v not in placed]

    urgent = [v for v in pending if v in first]
    if urgent:
        # A family whose appointment had to go gets a new one before visits that had
        # none: a short pass over them alone, then a stop in a tour or a tour of its own.
        run_pass(urgent, 0.25 * max(0.0, deadline - clock.monotonic()), None)
        insert(deadline, first)
    if split:
        # Large parts: a day per routing model first (small models solve far faster),
        # then the re-planning passes below move what did not fit to other days.
        by_day = _spread_over_days(context, pending)
        for index, day in enumerate(sorted(by_day)):
            left = sum(len(by_day[d]) for d in sorted(by_day)[index:])
            budget = 0.75 * (deadline - clock.monotonic()) * len(by_day[day]) / left
            started = clock.monotonic()
            run_pass(by_day[day], 0.7 * budget, day)
            # Routing plans by vehicle kind; tours the fleet could not take return their
            # visits. Routed again at once around the booked tours, they find the
            # vehicles' free time (often the afternoon, or another mode).
            again = [v for v in by_day[day] if v in set(pending)]
            if again:
                run_pass(again, budget - (clock.monotonic() - started), day)
        insert(deadline)
    for attempt in range(MAX_PASSES + 1):
        remaining = deadline - clock.monotonic()
        if not pending or remaining <= 0.05:
            break
        # Without early stopping, and where every tour routing plans gets its vehicle
        # (no kind shared beyond its vehicles), the first pass takes nearly all the time.
        share = 0.5 if attempt else 0.9 if not early_stop and not _fleet_shared(context) else 0.7
        if not run_pass(pending, remaining * share, None):
            break
    insert(whole)
    return fixed[len(kept) :]


def _insert_leftovers(
    context: Context,
    tours: list[PlannedTour],
    pending: Sequence[str],
    deadline: float,
    around: Sequence[PlannedTour] = (),
) -> None:
    """Cheapest feasible insertion of the visits still open into the tours as planned.

    Routing passes only add tours around fixed ones; a visit can often still join an
    existing tour (a stop on the way, the tour a little longer). Tours are replaced in
    place; every rule is checked against the other tours of the week.
    """
    for visit_id in sorted(pending, key=lambda v: (-context.visits[v].priority, v)):
        if clock.monotonic() > deadline:
            return
        visit = context.visits[visit_id]
        options, _ = visit_options(context, visit)
        combos = {(o.caseworker, o.date, o.mode) for o in options}
        best: tuple[int, int, PlannedTour] | None = None
        state = _PassState.of(context, [*around, *tours])
        for index, tour in enumerate(tours):
            if (tour.caseworker, tour.date, tour.mode) not in combos:
                continue
            if clock.monotonic() > deadline:
                break
            for position in range(len(tour.visits) + 1):
                stops = [*tour.visits[:position], visit_id, *tour.visits[position:]]
                candidate = schedule_tour(
                    context, tour.caseworker, tour.date, tour.mode, tour.window, stops
                )
                if candidate is None:
                    continue
                candidate.vehicle = tour.vehicle
                added = sum(leg[3] for leg in candidate.legs) - sum(leg[3] for leg in tour.legs)
                if best is not None and added >= best[0]:
                    continue
                if _fits(context, candidate, tour, state):
                    best = (added, index, candidate)
        if best is not None:
            tours[best[1]] = best[2]
            continue
        own = _own_tour(context, visit_id, options, state)
        if own is not None:
            tours.append(own)


def _own_tour(
    context: Context, visit_id: str, options: Sequence[Option], state: _PassState
) -> PlannedTour | None:
    """The cheapest tour of its own for a visit no planned tour can take: in a gap of
    a caseworker's day, on a vehicle free for the whole trip (a second e-car trip the
    range of the first day would not allow goes to another day, ...)."""
    weights = context.objective
    best: tuple[float, PlannedTour] | None = None
    for option in options:
        caseworker = context.caseworkers[option.caseworker]
        day = option.date
        pieces = context.working_pieces(caseworker, day, state.busy[(caseworker.id, day)])
        riding: list[tuple[str | None, list[Interval]]] = [(None, pieces)]
        if option.mode in MODES_WITH_VEHICLE:
            riding = [
                (vehicle.id, context.vehicle_free(vehicle, day, state.vehicle_busy[vehicle.id]))
                for vehicle in context.site_vehicles(caseworker.site, option.mode)
            ]
        for vehicle_id, free in riding:
            for piece in pieces:
                for start, end in free:
                    within = (max(piece[0], start), min(piece[1], end))
                    if within[0] >= within[1]:
                        continue
                    candidate = schedule_tour(
                        context, caseworker.id, day, option.mode, piece, [visit_id], within=within
                    )
                    if candidate is None:
                        continue
                    candidate.vehicle = vehicle_id
                    cost = (
                        weights.travel_minute * sum(leg[3] for leg in candidate.legs)
                        + weights.co2e_kg * candidate.km * context.factors[option.mode] / 1000
                    )
                    if (best is None or cost < best[0]) and _fits(context, candidate, None, state):
                        best = (cost, candidate)
    return None if best is None else best[1]


def _fits(
    context: Context, tour: PlannedTour, replaced: PlannedTour | None, state: _PassState
) -> bool:
    """Whether ``tour``, in place of ``replaced`` (or added), keeps every rule next to
    the week's other tours (``state`` describes the week with ``replaced``)."""
    span = (tour.depart, tour.ret)
    old = (replaced.depart, replaced.ret) if replaced is not None else (-1, -1)
    replaced_visits = replaced.visits if replaced is not None else []
    replaced_km = replaced.km if replaced is not None else 0.0
    if any(
        overlaps(span, busy) for busy in state.busy[(tour.caseworker, tour.date)] if busy != old
    ):
        return False
    cap = context.caseworkers[tour.caseworker].max_visits_per_day
    fixed = state.visits_per_day[(tour.caseworker, tour.date)] - len(replaced_visits)
    if cap is not None and fixed + len(tour.visits) > cap:
        return False
    for visit_id in tour.visits:
        if visit_id in replaced_visits:
            continue
        if tour.date in state.household_dates[context.visits[visit_id].household]:
            return False
    return _vehicle_fits(context, tour, state, old, replaced_km)


def _vehicle_fits(
    context: Context,
    tour: PlannedTour,
    state: _PassState,
    old: Interval = (-1, -1),
    replaced_km: float = 0.0,
) -> bool:
    """Whether the tour's vehicle (if any) is free for the whole tour and keeps its day
    within range, next to the fixed tours (less a replaced tour's span and km)."""
    if tour.vehicle is None:
        return True
    vehicle = context.vehicles[tour.vehicle]
    others = [busy for busy in state.vehicle_busy[tour.vehicle] if busy != old]
    free = context.vehicle_free(vehicle, tour.date, others)
    if not any(start <= tour.depart and tour.ret <= end for start, end in free):
        return False
    used = state.vehicle_km[tour.vehicle][tour.date] - replaced_km
    return used + tour.km <= vehicle.range_km + 1e-9


def _spread_over_days(context: Context, visit_ids: Sequence[str]) -> dict[date, list[str]]:
    """A date for each visit, balancing the load of its caseworkers' days.

    Least flexible visits first; each goes to the date whose best caseworker (the
    primary where possible) has the smallest share of working time already filled.
    Visits of one household get different dates.
    """
    load: dict[tuple[str, date], float] = defaultdict(float)
    household_days: dict[str, set[date]] = defaultdict(set)
    chosen: dict[date, list[str]] = defaultdict(list)
    # Where each caseworker-day already goes: a visit near them costs little travel.
    places: dict[tuple[str, date], list[int]] = defaultdict(list)

    def flexibility(visit_id: str) -> tuple[int, int, str]:
        options, _ = visit_options(context, context.visits[visit_id])
        return len({o.date for o in options}), -context.visits[visit_id].priority, visit_id

    for visit_id in sorted(visit_ids, key=flexibility):
        visit = context.visits[visit_id]
        household = context.households[visit.household]
        location = context.location_index[household.id]
        options, _ = visit_options(context, visit)
        best: tuple[float, date, str] | None = None
        for option in options:
            if option.date in household_days[household.id]:
                continue
            caseworker = context.caseworkers[option.caseworker]
            capacity = sum(b - a for a, b in context.working_pieces(caseworker, option.date))
            score = (load[(option.caseworker, option.date)] + visit.duration_minutes) / max(
                1, capacity
            )
            if context.is_continuity_break(household, option.caseworker):
                score += 0.5
            if _GEOGRAPHY_WEIGHT:
                near = places[(option.caseworker, option.date)] or [
                    context.location_index[caseworker.site]
                ]
                km = min(context.geodesic(where, location) for where in near)
                score += _GEOGRAPHY_WEIGHT * km / 10
            if best is None or (score, option.date, option.caseworker) < best:
                best = (score, option.date, option.caseworker)
        if best is None:
            continue
        _, day, caseworker_id = best
        # Visit time plus a rough share of travel for the day's load.
        load[(caseworker_id, day)] += visit.duration_minutes + 20
        places[(caseworker_id, day)].append(location)
        household_days[household.id].add(day)
        chosen[day].append(visit_id)
    return chosen


def _capacity(context: Context, visit_id: str) -> Diagnosis:
    visit = context.visits[visit_id]
    options, _ = visit_options(context, visit)
    people = sorted({o.caseworker for o in options})
    days = sorted({o.date for o in options})
    day_names = ", ".join(f"{d:%a %d.%m.}" for d in days)
    return Diagnosis(
        "capacity",
        f"visit {visit_id} fits alone ({', '.join(people)} on {day_names}), but their hours, "
        "daily caps and vehicles are taken by other visits this week",
    )


# ---------------------------------------------------------------------------- routing


def _route_pass(
    context: Context,
    pending: Sequence[str],
    fixed: Sequence[PlannedTour],
    *,
    time_limit_s: float,
    on_progress: Callable[[routing.Progress], None],
    day: date | None = None,
    early_stop: bool = True,
) -> list[PlannedTour]:
    """One routing model over ``pending`` (only on ``day`` when given)."""
    state = _PassState.of(context, fixed)
    options: dict[str, list[Option]] = {}
    for visit_id in pending:
        visit = context.visits[visit_id]
        found, _ = visit_options(context, visit, busy=state.busy)
        taken = state.household_dates[visit.household]
        found = [o for o in found if o.date not in taken and (day is None or o.date == day)]
        if found:
            options[visit_id] = found
    if not options:
        return []
    if len(options) > _STRICT_CONTINUITY_FROM and context.objective.continuity_break > 0:
        # Large models: a visit goes to its primary caseworker whenever the primary can
        # make it at all (what the default continuity weight, two hours of travel per
        # break, amounts to anyway); pricing breaks for every caseworker would cost a
        # matrix per caseworker and mode. Later passes, with the few visits left, price
        # breaks normally.
        for visit_id, found in options.items():
            primary = context.households[context.visits[visit_id].household].primary_caseworker
            own = [o for o in found if o.caseworker == primary]
            if own:
                options[visit_id] = own

    combos = sorted({(o.caseworker, o.date, o.mode) for opts in options.values() for o in opts})
    pieces = {
        (cw, day): context.working_pieces(context.caseworkers[cw], day, state.busy[(cw, day)])
        for cw, day, _ in combos
    }
    bound_shifts = sum(
        len(pieces[(c, d)])
        * (
            len(context.site_vehicles(context.caseworkers[c].site, m))
            if m in MODES_WITH_VEHICLE
            else 1
        )
        for c, d, m in combos
    )
    # Small weeks bind every shift to one physical vehicle from the start, so routing
    # itself keeps the shared fleet free of double bookings; large ones book afterwards.
    bind_vehicles = bound_shifts <= _BIND_LIMIT and bound_shifts * len(options) <= _BIND_WORK
    unbound_shifts = sum(len(pieces[(c, d)]) for c, d, _ in combos)
    slots = (
        2
        if _second_tours_pay(context, combos)
        and (
            (bind_vehicles and 2 * bound_shifts <= _BIND_LIMIT)
            or (not bind_vehicles and 2 * unbound_shifts <= _SLOT_LIMIT)
        )
        else 1
    )
    specs: list[tuple[str, date, str, Interval, str | None, float | None]] = []
    for caseworker_id, day, mode in combos:
        caseworker = context.caseworkers[caseworker_id]
        for piece in pieces[(caseworker_id, day)]:
            if bind_vehicles and mode in MODES_WITH_VEHICLE:
                for vehicle in context.site_vehicles(caseworker.site, mode):
                    budget = vehicle.range_km - state.vehicle_km[vehicle.id][day]
                    free = context.vehicle_free(vehicle, day, state.vehicle_busy[vehicle.id])
                    for free_start, free_end in free:
                        window = (max(piece[0], free_start), min(piece[1], free_end))
                        if window[1] > window[0] and budget > 0:
                            for _ in range(slots):
                                specs.append((caseworker_id, day, mode, window, vehicle.id, budget))
            elif mode in MODES_WITH_VEHICLE:
                # By kind: only while some vehicle of the kind is free, and no further
                # than the most range any of them has left that day.
                fleet = context.site_vehicles(caseworker.site, mode)
                budget = max(v.range_km - state.vehicle_km[v.id][day] for v in fleet)
                free = merged(
                    window
                    for v in fleet
                    for window in context.vehicle_free(v, day, state.vehicle_busy[v.id])
                )
                for free_start, free_end in free:
                    window = (max(piece[0], free_start), min(piece[1], free_end))
                    if window[1] > window[0] and budget > 0:
                        for _ in range(slots):
                            specs.append((caseworker_id, day, mode, window, None, budget))
            else:
                for _ in range(slots):
                    specs.append((caseworker_id, day, mode, piece, None, None))
    specs.sort(key=lambda s: (s[0], s[1], s[3][0], s[2]))

    caseworker_key = {c.id: i for i, c in enumerate(context.scenario.caseworkers)}
    # Only offices that shifts start from are nodes: routing would treat any other
    # node as a stop every plan must make.
    used_sites = sorted({context.caseworkers[spec[0]].site for spec in specs})
    site_nodes = {site: i for i, site in enumerate(used_sites)}
    group_index: dict[tuple[str, date], int] = {}
    shifts: list[routing.Shift] = []
    for caseworker_id, day, mode, window, _vehicle, max_km in specs:
        group = group_index.setdefault((caseworker_id, day), len(group_index))
        shifts.append(
            routing.Shift(
                caseworker=caseworker_key[caseworker_id],
                depot=site_nodes[context.caseworkers[caseworker_id].site],
                mode=mode,
                start=window[0],
                end=window[1],
                max_km=max_km,
                group=group,
                day=day.toordinal(),
            )
        )
    members: dict[int, list[int]] = defaultdict(list)
    sharing: dict[tuple[str, date], list[int]] = defaultdict(list)
    for index, shift in enumerate(shifts):
        members[shift.group].append(index)
        vehicle_id = specs[index][4]
        if vehicle_id is not None:
            sharing[(vehicle_id, specs[index][1])].append(index)
    groups = []
    for (caseworker_id, day), index in sorted(group_index.items(), key=lambda item: item[1]):
        cap = context.caseworkers[caseworker_id].max_visits_per_day
        if cap is not None:
            cap -= state.visits_per_day[(caseworker_id, day)]
        groups.append(routing.DayGroup(tuple(members[index]), cap))

    by_combo: dict[tuple[str, date, str], list[int]] = defaultdict(list)
    for index, (caseworker_id, day, mode, *_rest) in enumerate(specs):
        by_combo[(caseworker_id, day, mode)].append(index)
    visit_ids = list(options)
    locations = [context.location_index[site] for site in used_sites]
    visit_nodes = []
    for position, visit_id in enumerate(visit_ids):
        visit = context.visits[visit_id]
        household = context.households[visit.household]
        locations.append(context.location_index[household.id])
        allowed = []
        for option in options[visit_id]:
            for shift_index in by_combo[(option.caseworker, option.date, option.mode)]:
                shift = shifts[shift_index]
                latest = shift.end - visit.duration_minutes
                if any(lo <= latest and hi >= shift.start for lo, hi in option.starts):
                    allowed.append(shift_index)
        visit_nodes.append(
            routing.VisitNode(
                node=len(used_sites) + position,
                duration=visit.duration_minutes,
                priority=visit.priority,
                starts=tuple(r for o in options[visit_id] for r in o.starts),
                shifts=tuple(sorted(set(allowed))),
                breaks_for=frozenset(
                    caseworker_key[c.id]
                    for c in context.scenario.caseworkers
                    if context.is_continuity_break(household, c.id)
                ),
            )
        )
    by_household: dict[str, list[int]] = defaultdict(list)
    for position, visit_id in enumerate(visit_ids):
        by_household[context.visits[visit_id].household].append(position)
    weights = context.objective
    problem = routing.RoutingInput(
        geodesic_km=context.geodesic_km[np.ix_(locations, locations)],
        modes={
            mode: routing.ModeModel(
                params.detour_factor, params.speed_kmh, params.max_leg_km, context.factors[mode]
            )
            for mode, params in context.travel.items()
        },
        shifts=shifts,
        visits=visit_nodes,
        groups=groups,
        vehicle_groups=[tuple(shared) for shared in sharing.values() if len(shared) > 1],
        distinct_days=[tuple(p) for p in by_household.values() if len(p) > 1],
        weights=routing.Weights(
            weights.co2e_kg,
            weights.travel_minute,
            weights.continuity_break,
            weights.tour,
            weights.tour_minute,
        ),
        horizon=context.horizon_minutes,
    )
    # Building a model takes time of its own (about a millisecond per shift, two
    # models per solve); a pass that could not even build within its time is skipped.
    if time_limit_s < 2e-3 * len(shifts) + 4e-6 * len(visit_nodes) ** 2:
        return []
    routes = routing.solve(
        problem, time_limit_s=time_limit_s, on_progress=on_progress, early_stop=early_stop
    )
    tours: list[PlannedTour] = []
    for route in routes:
        caseworker_id, day, mode, window, vehicle_id, _ = specs[route.shift]
        tour = schedule_tour(
            context,
            caseworker_id,
            day,
            mode,
            window,
            [visit_ids[i] for i in route.visits],
            within=(route.depart, route.ret),
        )
        if tour is not None:
            tour.vehicle = vehicle_id
            tours.append(tour)
    return _trim_to_caps(context, tours, state)


def _fleet_shared(context: Context) -> bool:
    """Whether some office has fewer vehicles of a kind than caseworkers who ride it."""
    users: Counter[tuple[str, str]] = Counter(
        (caseworker.site, mode)
        for caseworker in context.scenario.caseworkers
        for mode in caseworker.modes
        if mode in MODES_WITH_VEHICLE
    )
    return any(len(context.site_vehicles(site, mode)) < n for (site, mode), n in users.items())


def _second_tours_pay(context: Context, combos: Sequence[tuple[str, date, str]]) -> bool:
    """Whether two tours in one working stretch can ever beat one.

    A return to the office between visits only adds travel; it pays when time away
    costs (``tour_minute``: waiting in the field is priced) or when a vehicle shared by
    more caseworkers than it serves can be handed on in between. Otherwise a second
    shift per stretch only doubles the routing model.
    """
    if context.objective.tour_minute > 0:
        return True
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    for caseworker_id, _day, mode in combos:
        if mode in MODES_WITH_VEHICLE:
            users[(context.caseworkers[caseworker_id].site, mode)].add(caseworker_id)
    return any(
        len(context.site_vehicles(site, mode)) < len(who) for (site, mode), who in users.items()
    )


def _trim_to_caps(
    context: Context, tours: list[PlannedTour], state: _PassState
) -> list[PlannedTour]:
    """Drops the least important visits of a day over ``max_visits_per_day``.

    Routing caps each tour; two tours of one day may together exceed the cap. Dropped
    visits stay open for the next pass.
    """
    by_day: dict[tuple[str, date], list[PlannedTour]] = defaultdict(list)
    for tour in tours:
        by_day[(tour.caseworker, tour.date)].append(tour)
    result: list[PlannedTour] = []
    for (caseworker_id, day), day_tours in by_day.items():
        cap = context.caseworkers[caseworker_id].max_visits_per_day
        if cap is None:
            result.extend(day_tours)
            continue
        allowed = cap - state.visits_per_day[(caseworker_id, day)]
        ranked = sorted(
            (v for t in day_tours for v in t.visits),
            key=lambda v: (-context.visits[v].priority, v),
        )
        keep = set(ranked[: max(0, allowed)])
        for tour in day_tours:
            kept = [v for v in tour.visits if v in keep]
            if kept == tour.visits:
                result.append(tour)
                continue
            if not kept:
                continue
            trimmed = schedule_tour(
                context,
                tour.caseworker,
                tour.date,
                tour.mode,
                tour.window,
                kept,
                within=(tour.depart, tour.ret),
            )
            if trimmed is not None:
                trimmed.vehicle = tour.vehicle
                result.append(trimmed)
    return result


def _visit_ranges(context: Context, visit_id: str, day: date) -> list[Interval]:
    """Exact start ranges of a visit on ``day``: availability, narrowed to its pin."""
    visit = context.visits[visit_id]
    household = context.households[visit.household]
    ranges = [
        (start, end - visit.duration_minutes)
        for start, end in context.availability(household, day)
        if end - start >= visit.duration_minutes
    ]
    if visit.pinned is not None:
        minute = context.timeline.minute(visit.pinned.start)
        return [(minute, minute)] if any(lo <= minute <= hi for lo, hi in ranges) else []
    return ranges


def schedule_tour(
    context: Context,
    caseworker_id: str,
    day: date,
    mode: str,
    window: Interval,
    visit_ids: list[str],
    *,
    within: Interval | None = None,
) -> PlannedTour | None:
    """Times for a sequence of visits: earliest return, then the latest departure.

    ``window`` is the working stretch the tour belongs to; ``within`` (routing's
    departure and return) bounds it further, so a tour only ever shrinks inside the
    time routing kept free of the caseworker's and the vehicle's other tours.
    """
    bounds = within or window
    site = context.caseworkers[caseworker_id].site
    stops = [site, *visit_ids, site]
    locations = [context.location_index[site]]
    locations += [context.location_of_visit(v) for v in visit_ids]
    locations.append(context.location_index[site])
    legs = []
    params = context.travel[mode]
    for origin, destination, a, b in zip(stops, stops[1:], locations, locations[1:], strict=False):
        km = context.leg_km(mode, a, b)
        # Insertion tries sequences routing never saw: a leg out of the mode's reach
        # (an e-bike between two far villages) makes the sequence impossible.
        if not params.reaches(km):
            return None
        legs.append((origin, destination, km, context.leg_minutes(mode, km)))
    ranges = [_visit_ranges(context, v, day) for v in visit_ids]
    durations = [context.visits[v].duration_minutes for v in visit_ids]
    starts = []
    now = bounds[0]
    for position, visit_ranges in enumerate(ranges):
        arrive = now + legs[position][3]
        start = next((max(arrive, lo) for lo, hi in visit_ranges if hi >= arrive), None)
        if start is None:
            return None
        starts.append(start)
        now = start + durations[position]
    ret = now + legs[-1][3]
    if ret > bounds[1]:
        return None
    latest = ret - legs[-1][3]
    for position in range(len(visit_ids) - 1, -1, -1):
        limit = latest - durations[position]
        best = max(min(hi, limit) for lo, hi in ranges[position] if lo <= limit)
        starts[position] = best
        latest = best - legs[position][3]
    return PlannedTour(caseworker_id, day, mode, window, visit_ids, starts, latest, ret, legs)


# ---------------------------------------------------------------------------- vehicles


def _shift_range(context: Context, tour: PlannedTour) -> Interval:
    low, high = tour.window[0] - tour.depart, tour.window[1] - tour.ret
    for visit_id, start in zip(tour.visits, tour.starts, strict=True):
        containing = [
            (lo, hi) for lo, hi in _visit_ranges(context, visit_id, tour.date) if lo <= start <= hi
        ]
        lo, hi = containing[0]
        low, high = max(low, lo - start), min(high, hi - start)
    return low, high


def _bookings_consistent(context: Context, tours: Sequence[PlannedTour], state: _PassState) -> bool:
    """Whether the vehicles routing bound to the tours are a valid booking as they are."""
    busy = {vehicle: list(intervals) for vehicle, intervals in state.vehicle_busy.items()}
    km: dict[tuple[str, date], float] = defaultdict(float)
    for vehicle_id, per_day in state.vehicle_km.items():
        for day, used in per_day.items():
            km[(vehicle_id, day)] = used
    for tour in tours:
        if tour.mode not in MODES_WITH_VEHICLE:
            continue
        if tour.vehicle is None:
            return False
        vehicle = context.vehicles[tour.vehicle]
        span = (tour.depart, tour.ret)
        taken = busy.setdefault(tour.vehicle, [])
        blocked = [
            (context.timeline.minute(b.start), context.timeline.minute(b.end))
            for b in vehicle.blocked
        ]
        if any(overlaps(span, other) for other in [*taken, *blocked]):
            return False
        taken.append(span)
        km[(tour.vehicle, tour.date)] += tour.km
        if km[(tour.vehicle, tour.date)] > vehicle.range_km + 1e-9:
            return False
    return True


def _book_vehicles(
    context: Context,
    tours: Sequence[PlannedTour],
    fixed: Sequence[PlannedTour],
    *,
    time_limit_s: float,
    seed: int,
) -> list[PlannedTour]:
    """Tours that got a vehicle (or need none), moved in time where that was needed."""
    state = _PassState.of(context, fixed)
    if _bookings_consistent(context, tours, state):
        return list(tours)
    # Imported here: CP-SAT pulls in pandas (0.3 s of start-up) and small weeks,
    # where routing already booked every vehicle, never need it.
    from scheduler.vehicles import FleetVehicle, TourNeed, assign

    needs = [
        TourNeed(
            person=(tour.caseworker, tour.date),
            day=tour.date,
            kind=tour.mode if tour.mode in MODES_WITH_VEHICLE else None,
            site=context.caseworkers[tour.caseworker].site,
            depart=tour.depart,
            ret=tour.ret,
            shift=_shift_range(context, tour),
            km=tour.km,
            value=sum(context.visits[v].priority for v in tour.visits),
        )
        for tour in tours
    ]
    fleet = []
    for vehicle in context.scenario.vehicles:
        blocked = [
            (context.timeline.minute(b.start), context.timeline.minute(b.end))
            for b in vehicle.blocked
        ]
        fleet.append(
            FleetVehicle(
                id=vehicle.id,
                kind=vehicle.kind,
                site=vehicle.site,
                range_km=vehicle.range_km,
                unavailable=tuple(blocked + state.vehicle_busy[vehicle.id]),
                used_km=dict(state.vehicle_km[vehicle.id]),
            )
        )
    bookings = assign(needs, fleet, time_limit_s=time_limit_s, seed=seed)
    booked = []
    unbooked = []
    for tour, need, booking in zip(tours, needs, bookings, strict=True):
        if need.kind is not None and booking.vehicle is None:
            unbooked.append(tour)
            continue
        booked.append(tour.shifted(booking.delta, booking.vehicle))
    return booked + _other_modes(context, unbooked, [*fixed, *booked])


def _other_modes(
    context: Context, tours: Sequence[PlannedTour], fixed: Sequence[PlannedTour]
) -> list[PlannedTour]:
    """Tours that found no vehicle of their kind, ridden another way where one fits.

    Routing plans large weeks by vehicle kind, so at the morning peak more e-car tours
    may come back than the office has e-cars. A coordinator would send the caseworker
    by e-bike, on foot or with a free pool car instead: each such tour (most valuable
    first) takes the cheapest of the caseworker's other modes, with a free vehicle of
    that kind, that still meets every stop's window; the rest returns its visits.
    """
    state = _PassState.of(context, fixed)
    weights = context.objective
    rescued: list[PlannedTour] = []

    def value(tour: PlannedTour) -> tuple[int, int]:
        return -sum(context.visits[v].priority for v in tour.visits), tour.depart

    for tour in sorted(tours, key=value):
        caseworker = context.caseworkers[tour.caseworker]
        allowed = {
            o.mode
            for o in visit_options(context, context.visits[tour.visits[0]])[0]
            if o.caseworker == tour.caseworker and o.date == tour.date
        }
        for visit_id in tour.visits[1:]:
            allowed &= {
                o.mode
                for o in visit_options(context, context.visits[visit_id])[0]
                if o.caseworker == tour.caseworker and o.date == tour.date
            }
        best: tuple[float, PlannedTour] | None = None
        for mode in caseworker.modes:
            if mode not in allowed:
                continue
            candidate = schedule_tour(
                context, tour.caseworker, tour.date, mode, tour.window, list(tour.visits)
            )
            if candidate is None:
                continue
            km = candidate.km
            cost = (
                weights.travel_minute * sum(leg[3] for leg in candidate.legs)
                + weights.co2e_kg * km * context.factors[mode] / 1000
            )
            if best is not None and cost >= best[0]:
                continue
            if mode not in MODES_WITH_VEHICLE:
                if _fits(context, candidate, None, state):
                    best = (cost, candidate)
                continue
            for vehicle in context.site_vehicles(caseworker.site, mode):
                candidate.vehicle = vehicle.id
                if _fits(context, candidate, None, state):
                    best = (cost, replace(candidate))
                    break
        if best is None:
            continue
        rescued.append(best[1])
        state.add(context, best[1])
    return rescued


# ------------------------------------------------------------------------------- plan


def plan_document(
    context: Context,
    tours: Sequence[PlannedTour],
    diagnoses: dict[str, Diagnosis],
    solver_info: SolverInfo,
) -> Plan:
    """The plan document of timed tours: tour ids, legs rounded up to metres, bookings,
    appointments, the unplanned visits with their reasons, and the KPIs."""
    scenario = context.scenario
    timeline = context.timeline
    ordered = sorted(tours, key=lambda t: (t.caseworker, t.date, t.depart))
    counters: Counter[tuple[str, date]] = Counter()
    plan_tours: list[Tour] = []
    appointments: list[Appointment] = []
    bookings: list[VehicleBooking] = []
    distance: dict[str, float] = defaultdict(float)
    baseline_mode = scenario.baseline_mode
    baseline_params = context.travel[baseline_mode]
    baseline_g = 0.0
    breaks = 0
    for tour in ordered:
        counters[(tour.caseworker, tour.date)] += 1
        tour_id = (
            f"{tour.caseworker}/{tour.date.isoformat()}/{counters[(tour.caseworker, tour.date)]}"
        )
        legs = [Leg(from_=a, to=b, km=_round_km(km), minutes=m) for a, b, km, m in tour.legs]
        km = round(sum(leg.km for leg in legs), 3)
        factor = context.factors[tour.mode]
        plan_tours.append(
            Tour(
                id=tour_id,
                caseworker=tour.caseworker,
                date=tour.date,
                mode=tour.mode,
                vehicle=tour.vehicle,
                depart=timeline.datetime_at(tour.depart),
                return_=timeline.datetime_at(tour.ret),
                stops=list(tour.visits),
                legs=legs,
                distance_km=km,
                travel_minutes=sum(leg.minutes for leg in legs),
                co2e_kg=round(km * factor / 1000, 4),
            )
        )
        distance[tour.mode] += km
        for _, _, leg_km, _ in tour.legs:
            geodesic = leg_km / context.travel[tour.mode].detour_factor
            baseline_g += geodesic * baseline_params.detour_factor * context.factors[baseline_mode]
        if tour.vehicle is not None:
            bookings.append(
                VehicleBooking(
                    vehicle=tour.vehicle,
                    tour=tour_id,
                    start=timeline.datetime_at(tour.depart),
                    end=timeline.datetime_at(tour.ret),
                )
            )
        for visit_id, start in zip(tour.visits, tour.starts, strict=True):
            visit = context.visits[visit_id]
            household = context.households[visit.household]
            breaks += context.is_continuity_break(household, tour.caseworker)
            appointments.append(
                Appointment(
                    visit=visit_id,
                    household=visit.household,
                    caseworker=tour.caseworker,
                    tour=tour_id,
                    start=timeline.datetime_at(start),
                    end=timeline.datetime_at(start + visit.duration_minutes),
                )
            )
    co2e = round(sum(t.co2e_kg for t in plan_tours), 4)
    baseline = round(baseline_g / 1000, 4)
    order = {visit.id: i for i, visit in enumerate(scenario.visits)}
    unassigned = [
        Unassigned(visit=visit_id, reason=d.reason, detail=d.detail)
        for visit_id, d in sorted(diagnoses.items(), key=lambda item: order[item[0]])
    ]
    return Plan(
        format=PLAN_FORMAT,
        scenario=scenario.name,
        solver=solver_info,
        appointments=appointments,
        tours=plan_tours,
        vehicle_bookings=bookings,
        unassigned=unassigned,
        kpis=Kpis(
            visits=len(scenario.visits),
            scheduled=len(appointments),
            unassigned=len(unassigned),
            distance_km={mode: round(km, 3) for mode, km in sorted(distance.items())},
            travel_minutes=sum(t.travel_minutes for t in plan_tours),
            co2e_kg=co2e,
            baseline_co2e_kg=baseline,
            avoided_co2e_kg=round(baseline - co2e, 4),
            continuity_breaks=breaks,
        ),
    )
