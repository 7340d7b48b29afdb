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
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

Interval = tuple[int, int]
_DROP_WEIGHT = 1_000_000


@dataclass(frozen=True, slots=True)
class TourNeed:
    #: Tours of one caseworker and date (their ``person``) never overlap.
    person: Hashable
    day: Hashable
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
    used_km: dict[Hashable, float]


@dataclass(frozen=True, slots=True)
class Booking:
    vehicle: str | None
    delta: int


def assign(
    tours: Sequence[TourNeed],
    fleet: Sequence[FleetVehicle],
    *,
    time_limit_s: float = 5.0,
    seed: int = 0,
) -> list[Booking]:
    """A vehicle (or None when the tour needs none or none can be had) and a time shift."""
    model = cp_model.CpModel()
    deltas = []
    by_person: dict[Hashable, list[cp_model.IntervalVar]] = defaultdict(list)
    by_vehicle: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    km_on_day: dict[tuple[str, Hashable], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    choices: list[dict[str, cp_model.IntVar]] = []
    drops: list[tuple[int, cp_model.IntVar]] = []
    moves = []
    for index, tour in enumerate(tours):
        delta = model.NewIntVar(tour.shift[0], tour.shift[1], f"delta{index}")
        deltas.append(delta)
        length = tour.ret - tour.depart
        start = delta + tour.depart
        interval = model.NewIntervalVar(start, length, start + length, f"tour{index}")
        by_person[tour.person].append(interval)
        move = model.NewIntVar(0, max(abs(tour.shift[0]), abs(tour.shift[1])), f"move{index}")
        model.AddAbsEquality(move, delta)
        moves.append(move)
        chosen: dict[str, cp_model.IntVar] = {}
        if tour.kind is not None:
            for vehicle in fleet:
                if vehicle.kind != tour.kind or vehicle.site != tour.site:
                    continue
                if vehicle.range_km - vehicle.used_km.get(tour.day, 0.0) + 1e-9 < tour.km:
                    continue
                use = model.NewBoolVar(f"use{index}_{vehicle.id}")
                booked = model.NewOptionalIntervalVar(
                    start, length, start + length, use, f"book{index}_{vehicle.id}"
                )
                by_vehicle[vehicle.id].append(booked)
                km_on_day[(vehicle.id, tour.day)].append((int(round(tour.km * 1000)), use))
                chosen[vehicle.id] = use
            drop = model.NewBoolVar(f"drop{index}")
            model.AddExactlyOne([*chosen.values(), drop])
            drops.append((tour.value, drop))
        choices.append(chosen)

    for intervals in by_person.values():
        model.AddNoOverlap(intervals)
    for vehicle in fleet:
        blocked = [
            model.NewIntervalVar(a, b - a, b, f"blocked_{vehicle.id}_{a}")
            for a, b in vehicle.unavailable
            if b > a
        ]
        if by_vehicle[vehicle.id]:
            model.AddNoOverlap([*by_vehicle[vehicle.id], *blocked])
    ranges = {vehicle.id: vehicle for vehicle in fleet}
    for (vehicle_id, day), terms in km_on_day.items():
        vehicle = ranges[vehicle_id]
        budget = int((vehicle.range_km - vehicle.used_km.get(day, 0.0)) * 1000)
        model.Add(sum(metres * use for metres, use in terms) <= budget)

    model.Minimize(
        sum(_DROP_WEIGHT * max(1, value) * drop for value, drop in drops) + sum(moves)
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Nothing moves, nothing is booked: the planner re-plans every tour's visits.
        return [Booking(None, 0) for _ in tours]
    result = []
    for index, tour in enumerate(tours):
        vehicle_id = next(
            (vid for vid, use in choices[index].items() if solver.BooleanValue(use)), None
        )
        result.append(Booking(vehicle_id, solver.Value(deltas[index])))
    return result
