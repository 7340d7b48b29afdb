"""Books shared vehicles for tours with CP-SAT, moving tours in time where that helps.

Routing plans each tour with a vehicle *kind*; which physical e-bike or e-car rides it
is decided here, for all tours at once: a vehicle serves one tour at a time, never in
its blocked intervals, and rides at most ``range_km`` per date. A tour may move in time
by as much as its stops' windows allow (``shift``), which resolves most conflicts
("the e-bikes are all out at 10:00, start at 10:30"); a tour that still finds no vehicle
comes back unbooked and the planner re-plans its visits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ortools.sat.python import cp_model

from scheduler.problem import Interval, merged

_DROP_WEIGHT = 1_000_000


@dataclass(frozen=True, slots=True)
class TourNeed:
    #: Tours of one caseworker and date (their ``person``) never overlap.
    person: tuple[str, date]
    day: date
    kind: str | None
    site: str
    depart: int
    ret: int
    #: How far the whole tour may move, in minutes (lowest, highest).
    shift: Interval
    km: float
    #: What losing the tour costs (its visits' priorities).
    value: int


@dataclass(frozen=True, slots=True)
class FleetVehicle:
    id: str
    kind: str
    site: str
    range_km: float
    unavailable: tuple[Interval, ...]
    #: km already ridden per day (fixed tours of earlier passes).
    used_km: dict[date, float]


@dataclass(frozen=True, slots=True)
class Booking:
    vehicle: str | None
    delta: int


def _greedy(tours: Sequence[TourNeed], fleet: Sequence[FleetVehicle]) -> list[Booking]:
    """Each tour, earliest first, on the free vehicle that has waited least for it."""
    taken: dict[str, list[Interval]] = {v.id: merged(v.unavailable) for v in fleet}
    km: dict[tuple[str, date], float] = defaultdict(float)
    result = [Booking(None, 0) for _ in tours]
    for index in sorted(range(len(tours)), key=lambda i: (tours[i].depart, i)):
        tour = tours[index]
        if tour.kind is None:
            continue
        best: tuple[int, str] | None = None
        for vehicle in fleet:
            if vehicle.kind != tour.kind or vehicle.site != tour.site:
                continue
            used = vehicle.used_km.get(tour.day, 0.0) + km[(vehicle.id, tour.day)]
            if used + tour.km > vehicle.range_km + 1e-9:
                continue
            busy = taken[vehicle.id]
            if any(a < tour.ret and tour.depart < b for a, b in busy):
                continue
            idle = tour.depart - max((b for _, b in busy if b <= tour.depart), default=-(10**9))
            if best is None or (idle, vehicle.id) < best:
                best = (idle, vehicle.id)
        if best is not None:
            result[index] = Booking(best[1], 0)
            taken[best[1]].append((tour.depart, tour.ret))
            km[(best[1], tour.day)] += tour.km
    return result


def assign(
    tours: Sequence[TourNeed],
    fleet: Sequence[FleetVehicle],
    *,
    time_limit_s: float = 5.0,
    seed: int = 0,
) -> list[Booking]:
    """A vehicle (or None when the tour needs none or none can be had) and a time shift.

    A greedy booking at the planned times comes first: when it books every tour (the
    usual case) CP-SAT is not needed; otherwise CP-SAT starts from it as a hint and
    the greedy booking stays the answer if CP-SAT finds nothing better in its time.
    """
    greedy = _greedy(tours, fleet)
    if all(b.vehicle is not None or t.kind is None for t, b in zip(tours, greedy, strict=True)):
        return greedy
    model = cp_model.CpModel()
    deltas = []
    by_person: dict[tuple[str, date], list[cp_model.IntervalVar]] = defaultdict(list)
    by_vehicle: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    km_on_day: dict[tuple[str, date], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    choices: list[dict[str, cp_model.IntVar]] = []
    drops: list[tuple[int, cp_model.IntVar]] = []
    moves = []
    for index, tour in enumerate(tours):
        delta = model.new_int_var(tour.shift[0], tour.shift[1], f"delta{index}")
        model.add_hint(delta, 0)
        deltas.append(delta)
        length = tour.ret - tour.depart
        start = delta + tour.depart
        interval = model.new_interval_var(start, length, start + length, f"tour{index}")
        by_person[tour.person].append(interval)
        move = model.new_int_var(0, max(abs(tour.shift[0]), abs(tour.shift[1])), f"move{index}")
        model.add_abs_equality(move, delta)
        moves.append(move)
        chosen: dict[str, cp_model.IntVar] = {}
        if tour.kind is not None:
            for vehicle in fleet:
                if vehicle.kind != tour.kind or vehicle.site != tour.site:
                    continue
                if vehicle.range_km - vehicle.used_km.get(tour.day, 0.0) + 1e-9 < tour.km:
                    continue
                use = model.new_bool_var(f"use{index}_{vehicle.id}")
                model.add_hint(use, greedy[index].vehicle == vehicle.id)
                booked = model.new_optional_interval_var(
                    start, length, start + length, use, f"book{index}_{vehicle.id}"
                )
                by_vehicle[vehicle.id].append(booked)
                km_on_day[(vehicle.id, tour.day)].append((round(tour.km * 1000), use))
                chosen[vehicle.id] = use
            drop = model.new_bool_var(f"drop{index}")
            model.add_hint(drop, greedy[index].vehicle is None)
            model.add_exactly_one([*chosen.values(), drop])
            drops.append((tour.value, drop))
        choices.append(chosen)

    for intervals in by_person.values():
        model.add_no_overlap(intervals)
    for vehicle in fleet:
        # Merged first: blocked intervals may overlap each other (or a booking), and
        # fixed intervals that overlap would make the whole model infeasible.
        blocked = [
            model.new_interval_var(a, b - a, b, f"blocked_{vehicle.id}_{a}")
            for a, b in merged(vehicle.unavailable)
        ]
        if by_vehicle[vehicle.id]:
            model.add_no_overlap([*by_vehicle[vehicle.id], *blocked])
    ranges = {vehicle.id: vehicle for vehicle in fleet}
    for (booked_id, day), terms in km_on_day.items():
        vehicle = ranges[booked_id]
        budget = int((vehicle.range_km - vehicle.used_km.get(day, 0.0)) * 1000)
        model.add(sum(metres * use for metres, use in terms) <= budget)

    model.minimize(sum(_DROP_WEIGHT * max(1, value) * drop for value, drop in drops) + sum(moves))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy
    result: list[Booking] = []
    for index, chosen in enumerate(choices):
        vehicle_id: str | None = next(
            (vid for vid, use in chosen.items() if solver.boolean_value(use)), None
        )
        result.append(Booking(vehicle_id, solver.value(deltas[index])))
    return result
