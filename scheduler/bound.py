"""An upper bound on how many of a week's visits any plan can make together.

Each visit that passes ``alone_feasible`` fits into an empty week; whether all of them
fit together depends on the caseworkers' days they compete for. The bound is a linear
programme over the visits' options, a relaxation of every plan:

- a visit is made at most once, on one (caseworker, date) among its options;
- a household gets at most one visit a date (as the planner keeps them apart);
- a caseworker-day holds at most ``max_visits_per_day`` visits;
- a caseworker-day's visits, each with the shortest way in that any tour could take
  to it (from the nearest other household or the office, in the caseworker's fastest
  mode for that visit), fit into the day's working time after absences.

Vehicles, time windows within a day, the way back to the office and the order of a
tour are left out, so a perfect planner may place fewer visits, never more. The LP
optimum, rounded down, is the bound: where it lies below the visits plannable alone,
"every visit plannable alone planned" cannot be reached for that week by any planner.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
from ortools.linear_solver import pywraplp

from scheduler.problem import Context, alone_feasible, visit_options


@dataclass(frozen=True, slots=True)
class CapacityBound:
    #: Visits that fit into the week alone (``alone_feasible``).
    plannable: int
    #: At most this many of them fit together.
    visits: int
    #: Caseworker-days whose daily visit cap, or whose working time, limits the LP
    #: optimum (a positive dual price): where more capacity would let more visits in.
    capped_days: int
    timed_days: int


def capacity_bound(context: Context) -> CapacityBound:
    """The bound for the scenario's visits."""
    plannable = [v for v in context.scenario.visits if alone_feasible(context, v) is None]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        raise RuntimeError("OR-Tools' GLOP solver is not available")
    way_in = _shortest_way_in_km(context)
    per_visit: dict[str, list[pywraplp.Variable]] = defaultdict(list)
    per_day: dict[tuple[str, date], list[tuple[pywraplp.Variable, int]]] = defaultdict(list)
    per_household_date: dict[tuple[str, date], list[pywraplp.Variable]] = defaultdict(list)
    for visit in plannable:
        options, _ = visit_options(context, visit)
        household = context.households[visit.household]
        km_in = way_in[context.location_index[household.id]]
        fastest: dict[tuple[str, date], int] = {}
        for option in options:
            minutes = context.leg_minutes(option.mode, context.travel[option.mode].leg_km(km_in))
            key = (option.caseworker, option.date)
            fastest[key] = min(fastest.get(key, minutes), minutes)
        for (caseworker_id, day), minutes in fastest.items():
            x = solver.NumVar(0.0, 1.0, "")
            per_visit[visit.id].append(x)
            per_day[(caseworker_id, day)].append((x, visit.duration_minutes + minutes))
            per_household_date[(household.id, day)].append(x)
    for xs in per_visit.values():
        solver.Add(sum(xs) <= 1)
    for xs in per_household_date.values():
        if len(xs) > 1:
            solver.Add(sum(xs) <= 1)
    limits = []
    for (caseworker_id, day), items in per_day.items():
        caseworker = context.caseworkers[caseworker_id]
        working = sum(end - start for start, end in context.working_pieces(caseworker, day))
        time_row = solver.Add(sum(x * minutes for x, minutes in items) <= working)
        cap_row = None
        if caseworker.max_visits_per_day is not None:
            cap_row = solver.Add(sum(x for x, _ in items) <= caseworker.max_visits_per_day)
        limits.append((time_row, cap_row))
    solver.Maximize(sum(x for xs in per_visit.values() for x in xs))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:  # pragma: no cover - bounded, feasible LP
        raise RuntimeError("the capacity LP did not solve to optimality")
    capped = sum(1 for _, row in limits if row is not None and row.dual_value() > 1e-9)
    timed = sum(1 for row, _ in limits if row.dual_value() > 1e-9)
    value = solver.Objective().Value()
    return CapacityBound(len(plannable), math.floor(value + 1e-6), capped, timed)


def _shortest_way_in_km(context: Context) -> np.ndarray:
    """Per location, the straight-line km from the nearest other location (any tour
    reaches a visit from another household or from the office)."""
    km = np.array(context.geodesic_km, dtype=float, copy=True)
    np.fill_diagonal(km, np.inf)
    nearest: np.ndarray = km.min(axis=0)
    return nearest
