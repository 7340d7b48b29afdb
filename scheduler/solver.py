"""The routing core: the only module that builds OR-Tools routing models.

It sees plain, frozen data (nodes, matrices, shifts, allowed sets) and returns plain
routes; it knows nothing of the planning format, the database or HTTP.

Model: every *shift* is a routing vehicle, one possible tour of one caseworker on one
date in one mode within one stretch of working time. Shifts of one caseworker and date
form a *day group*: they run one after another (never overlapping) and share the
caseworker's daily visit cap. Visits are optional nodes whose drop penalty (priority x
``big``) exceeds any travel cost, so the planner never drops a visit to save travel.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

Interval = tuple[int, int]
ENGINE = f"or-tools {version('ortools')}"
#: Cost units per objective point: integer arc costs keep two decimals of a point.
COST_SCALE = 100
_FORBIDDEN = 10**7
#: Search steps without improvement before the search stops (about 0.3 s for a
#: small week at ~80,000 steps a second).
STALL_STEPS = 20_000
STALL_STEPS_PER_VISIT = 200


@dataclass(frozen=True, slots=True)
class ModeModel:
    detour_factor: float
    speed_kmh: float
    max_leg_km: float | None
    g_co2e_per_km: float


@dataclass(frozen=True, slots=True)
class Weights:
    co2e_kg: float
    travel_minute: float
    continuity_break: float
    tour: float
    tour_minute: float


@dataclass(frozen=True, slots=True)
class Shift:
    caseworker: int
    depot: int
    mode: str
    start: int
    end: int
    max_km: float | None
    group: int
    day: int
    #: Load the tour may carry (classic VRP capacity; None: no limit).
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class VisitNode:
    node: int
    duration: int
    priority: int
    starts: tuple[Interval, ...]
    shifts: tuple[int, ...]
    breaks_for: frozenset[int]
    #: Load the visit adds (classic VRP demand; home visits carry none).
    demand: int = 0


@dataclass(frozen=True, slots=True)
class DayGroup:
    shifts: tuple[int, ...]
    #: Visits per shift at most (the caseworker's daily cap less visits already fixed).
    cap: int | None


@dataclass(frozen=True)
class RoutingInput:
    geodesic_km: np.ndarray
    modes: dict[str, ModeModel]
    shifts: Sequence[Shift]
    visits: Sequence[VisitNode]
    groups: Sequence[DayGroup]
    #: Shifts bound to one physical vehicle on one date: used ones never overlap.
    vehicle_groups: Sequence[tuple[int, ...]]
    distinct_days: Sequence[tuple[int, ...]]
    weights: Weights
    horizon: int


@dataclass(frozen=True, slots=True)
class Route:
    shift: int
    visits: tuple[int, ...]
    starts: tuple[int, ...]
    #: Departure and return as routing timed them; a tour may shrink inside, not grow.
    depart: int
    ret: int


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed_s: float
    placed: int
    cost: float


@dataclass
class _Best:
    cost: int | None = None
    #: Search steps (limit checks) so far, and at the best solution: the search stalls
    #: by a count, not by seconds, so runs with one seed are repeatable.
    checks: int = 0
    at_check: int = 0


def leg_matrices(
    geodesic_km: np.ndarray, mode: ModeModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """km, minutes and reachability of every leg in one mode (vectorised)."""
    km = geodesic_km * mode.detour_factor
    minutes = np.ceil(km / mode.speed_kmh * 60.0 - 1e-9).clip(min=0).astype(np.int64)
    if mode.max_leg_km is None:
        reachable = np.ones(km.shape, dtype=bool)
    else:
        reachable = km <= mode.max_leg_km + 1e-9
    return km, minutes, reachable


def solve(
    problem: RoutingInput,
    *,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None = None,
) -> list[Route]:
    """Route the visits over the shifts; returns the used shifts' routes."""
    if not problem.visits or not problem.shifts:
        return []
    started = clock.monotonic()
    node_count = problem.geodesic_km.shape[0]
    depots = {s.depot for s in problem.shifts}
    if depots | {v.node for v in problem.visits} != set(range(node_count)):
        raise ValueError("every node must be a shift's depot or a visit")
    starts = [s.depot for s in problem.shifts]
    manager = pywrapcp.RoutingIndexManager(node_count, len(problem.shifts), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    durations = np.zeros(node_count, dtype=np.int64)
    for visit in problem.visits:
        durations[visit.node] = visit.duration

    weights = problem.weights
    time_callbacks: dict[str, int] = {}
    cost_callbacks: dict[str, int] = {}
    distance_callbacks: dict[str, int] = {}
    max_arc_cost = 0
    for name in sorted({s.mode for s in problem.shifts}):
        mode = problem.modes[name]
        km, minutes, reachable = leg_matrices(problem.geodesic_km, mode)
        transit = np.where(reachable, durations[:, None] + minutes, _FORBIDDEN)
        cost = np.rint(
            COST_SCALE
            * (weights.travel_minute * minutes + weights.co2e_kg * km * mode.g_co2e_per_km / 1000)
        ).astype(np.int64)
        max_arc_cost = max(max_arc_cost, int(cost.max(initial=0)))
        time_callbacks[name] = routing.RegisterTransitMatrix(transit.tolist())
        cost_callbacks[name] = routing.RegisterTransitMatrix(cost.tolist())
        metres = np.ceil(km * 1000).astype(np.int64)
        distance_callbacks[name] = routing.RegisterTransitMatrix(metres.tolist())

    tour_cost = round(COST_SCALE * weights.tour)
    for index, shift in enumerate(problem.shifts):
        routing.SetArcCostEvaluatorOfVehicle(cost_callbacks[shift.mode], index)
        routing.SetFixedCostOfVehicle(tour_cost, index)

    horizon = problem.horizon
    routing.AddDimensionWithVehicleTransits(
        [time_callbacks[s.mode] for s in problem.shifts], horizon, horizon, False, "time"
    )
    time_dimension = routing.GetDimensionOrDie("time")
    span_cost = round(COST_SCALE * weights.tour_minute)
    for index, shift in enumerate(problem.shifts):
        time_dimension.CumulVar(routing.Start(index)).SetRange(shift.start, shift.end)
        time_dimension.CumulVar(routing.End(index)).SetRange(shift.start, shift.end)
        time_dimension.SetSpanCostCoefficientForVehicle(span_cost, index)

    if any(s.max_km is not None for s in problem.shifts):
        capacities = [
            math.floor(s.max_km * 1000) if s.max_km is not None else 10**9 for s in problem.shifts
        ]
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [distance_callbacks[s.mode] for s in problem.shifts], 0, capacities, True, "distance"
        )

    _add_visit_caps(routing, manager, problem)
    _add_load(routing, problem)
    _add_continuity(routing, manager, problem, node_count)

    biggest_penalty = _drop_penalty_unit(problem, max_arc_cost, tour_cost, span_cost)
    for visit in problem.visits:
        index = manager.NodeToIndex(visit.node)
        routing.AddDisjunction([index], biggest_penalty * visit.priority)
        # -1 (not performed) stays allowed: the disjunction prices it.
        routing.VehicleVar(index).SetValues([-1, *visit.shifts])
        cumul = time_dimension.CumulVar(index)
        low = min(a for a, _ in visit.starts)
        high = max(b for _, b in visit.starts)
        cumul.SetRange(low, high)
        previous_end = None
        for start, end in sorted(visit.starts):
            if previous_end is not None and start > previous_end + 1:
                cumul.RemoveInterval(previous_end + 1, start - 1)
            previous_end = end if previous_end is None else max(previous_end, end)

    for group in problem.groups:
        _keep_apart(routing, time_dimension, group.shifts)
    for shared in problem.vehicle_groups:
        _keep_apart(routing, time_dimension, shared)

    for visit_indices in problem.distinct_days:
        day_vars = []
        for position, visit_index in enumerate(visit_indices):
            visit = problem.visits[visit_index]
            vehicle = routing.VehicleVar(manager.NodeToIndex(visit.node))
            # Unperformed visits (vehicle -1) get a sentinel day of their own.
            days = [-1 - position] + [s.day for s in problem.shifts]
            day_vars.append(solver.Element(days, (vehicle + 1).Var()).Var())
        solver.Add(solver.AllDifferent(day_vars))

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining = max(0.05, time_limit_s - (clock.monotonic() - started))
    parameters.time_limit.FromMilliseconds(int(remaining * 1000))

    # Stop once the best solution has not improved for a number of solutions; the time
    # limit stays the upper bound. GLS keeps finding small gains long after a plan is
    # good. Counting solutions instead of seconds keeps runs with one seed repeatable.
    stall = STALL_STEPS + STALL_STEPS_PER_VISIT * len(problem.visits)
    best = _Best()

    def at_solution() -> None:
        cost = routing.CostVar().Value()
        if best.cost is None or cost < best.cost:
            best.cost, best.at_check = cost, best.checks
        if on_progress is not None:
            placed = sum(
                1
                for visit in problem.visits
                if routing.ActiveVar(manager.NodeToIndex(visit.node)).Value()
            )
            on_progress(Progress(clock.monotonic() - started, placed, cost / COST_SCALE))

    routing.AddAtSolutionCallback(at_solution)

    def stalled_check() -> bool:
        best.checks += 1
        return best.cost is not None and best.checks - best.at_check > stall

    stalled = solver.CustomLimit(stalled_check)
    routing.AddSearchMonitor(stalled)

    solution = _first_solution(routing, parameters, problem, time_limit_s, started)
    remaining = time_limit_s - (clock.monotonic() - started)
    if remaining > 0.05:
        parameters.time_limit.FromMilliseconds(int(remaining * 1000))
        improved = routing.SolveFromAssignmentWithParameters(solution, parameters)
        solution = improved or solution
    if solution is None:
        return []
    return _routes(routing, manager, solution, problem, time_dimension)


def _first_solution(
    routing: pywrapcp.RoutingModel,
    parameters: object,
    problem: RoutingInput,
    time_limit_s: float,
    started: float,
) -> pywrapcp.Assignment:
    """Parallel cheapest insertion, or the empty plan when it fails.

    The insertion heuristics know routing's own constraints, not the pairwise "used
    shifts never overlap" ones; when their result breaks those, the search tree would
    burn the whole time limit. So they get a share of the time and one solution, and
    local search starts from the empty plan (always feasible) when they find none.
    """
    first = pywrapcp.DefaultRoutingSearchParameters()
    first.CopyFrom(parameters)
    first.solution_limit = 1
    first.ClearField("local_search_metaheuristic")
    budget = max(0.05, 0.7 * (time_limit_s - (clock.monotonic() - started)))
    first.time_limit.FromMilliseconds(int(budget * 1000))
    solution = routing.SolveWithParameters(first)
    if solution is None:
        solution = routing.ReadAssignmentFromRoutes([[] for _ in problem.shifts], True)
    return solution


def _keep_apart(
    routing: pywrapcp.RoutingModel,
    time_dimension: pywrapcp.RoutingDimension,
    shifts: tuple[int, ...],
) -> None:
    """Used shifts of one group (a caseworker's day, a vehicle's day) never overlap.

    Only *used* shifts: routing times unused ones freely, so an ordering chain over
    all shifts of a day would reject most solutions.
    """
    solver = routing.solver()
    start = [time_dimension.CumulVar(routing.Start(s)) for s in shifts]
    end = [time_dimension.CumulVar(routing.End(s)) for s in shifts]
    active = [routing.ActiveVehicleVar(s) for s in shifts]
    for i in range(len(shifts)):
        for j in range(i + 1, len(shifts)):
            solver.Add(
                solver.IsLessOrEqualVar(end[i], start[j])
                + solver.IsLessOrEqualVar(end[j], start[i])
                + (1 - active[i])
                + (1 - active[j])
                >= 1
            )


def _drop_penalty_unit(problem: RoutingInput, max_arc_cost: int, tour_cost: int, span: int) -> int:
    """A penalty per priority point that outweighs every secondary cost of any plan."""
    visits = len(problem.visits)
    continuity = round(COST_SCALE * problem.weights.continuity_break)
    bound = (
        (visits + len(problem.shifts)) * max_arc_cost
        + visits * continuity
        + len(problem.shifts) * (tour_cost + span * problem.horizon)
    )
    return bound + 1


def _add_visit_caps(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, problem: RoutingInput
) -> None:
    if not any(g.cap is not None for g in problem.groups):
        return
    counts = [0] * problem.geodesic_km.shape[0]
    for visit in problem.visits:
        counts[visit.node] = 1
    callback = routing.RegisterUnaryTransitVector(counts)
    capacities = [len(problem.visits)] * len(problem.shifts)
    for group in problem.groups:
        if group.cap is not None:
            for shift in group.shifts:
                capacities[shift] = group.cap
    # Each shift holds at most its day's cap. The cap over all shifts of a day is not
    # a routing constraint: a cross-vehicle sum defeats routing's first-solution
    # heuristics on large weeks. The planner trims the rare day that exceeds it.
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "visits")


def _add_load(routing: pywrapcp.RoutingModel, problem: RoutingInput) -> None:
    if not any(visit.demand for visit in problem.visits):
        return
    demands = [0] * problem.geodesic_km.shape[0]
    for visit in problem.visits:
        demands[visit.node] = visit.demand
    callback = routing.RegisterUnaryTransitVector(demands)
    unlimited = sum(demands)
    capacities = [s.capacity if s.capacity is not None else unlimited for s in problem.shifts]
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "load")


def _add_continuity(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingInput,
    node_count: int,
) -> None:
    if problem.weights.continuity_break <= 0:
        return
    caseworkers = sorted({s.caseworker for s in problem.shifts})
    callbacks: dict[int, int] = {}
    for caseworker in caseworkers:
        breaks = [0] * node_count
        for visit in problem.visits:
            if caseworker in visit.breaks_for:
                breaks[visit.node] = 1
        callbacks[caseworker] = routing.RegisterUnaryTransitVector(breaks)
    routing.AddDimensionWithVehicleTransits(
        [callbacks[s.caseworker] for s in problem.shifts],
        0,
        len(problem.visits) + 1,
        True,
        "continuity",
    )
    dimension = routing.GetDimensionOrDie("continuity")
    dimension.SetSpanCostCoefficientForAllVehicles(
        round(COST_SCALE * problem.weights.continuity_break)
    )


def _routes(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    solution: pywrapcp.Assignment,
    problem: RoutingInput,
    time_dimension: pywrapcp.RoutingDimension,
) -> list[Route]:
    visit_of_node = {visit.node: i for i, visit in enumerate(problem.visits)}
    routes = []
    for shift in range(len(problem.shifts)):
        index = solution.Value(routing.NextVar(routing.Start(shift)))
        visits: list[int] = []
        starts: list[int] = []
        while not routing.IsEnd(index):
            visits.append(visit_of_node[manager.IndexToNode(index)])
            starts.append(solution.Min(time_dimension.CumulVar(index)))
            index = solution.Value(routing.NextVar(index))
        if visits:
            depart = solution.Value(time_dimension.CumulVar(routing.Start(shift)))
            ret = solution.Value(time_dimension.CumulVar(routing.End(shift)))
            routes.append(Route(shift, tuple(visits), tuple(starts), depart, ret))
    return routes
