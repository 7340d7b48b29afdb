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
import multiprocessing
import os
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

Interval = tuple[int, int]
ENGINE = f"or-tools {version('ortools')}"
#: Cost units per objective point: integer arc costs keep two decimals of a point.
COST_SCALE = 100
_FORBIDDEN = 10**7
#: Search steps (limit checks, ~80,000 a second on a small model) without improvement
#: before the search stops: 20,000 plus 30 per visit squared, so a 20-visit model stops
#: after about 0.4 s without gain while models of some hundred visits use their time.
STALL_STEPS = 20_000
#: Guided local search's penalty factor (see ``solve``).
GLS_LAMBDA = 0.5
STALL_STEPS_PER_VISIT_SQUARED = 30
#: Iterated local search (ruin and recreate, see ``_solve_iterated``): used when the
#: whole time limit is wanted on a model of at least this many visits where every
#: visit may ride every shift (see ``_iterated_fits``).
ILS_MIN_VISITS = 12


@dataclass(frozen=True, slots=True)
class IlsSettings:
    """SISR ruin (Christiaens & Vanden Berghe 2020): removed strings of at most
    ``max_string`` visits, ``avg_removed`` visits removed on average; simulated annealing
    acceptance from and to these multiples of the mean arc cost."""

    max_string: int
    avg_removed: int
    temperature: tuple[float, float]


#: The search in this process, and the second one in a second process (``_SecondSearch``).
ILS_SETTINGS = (IlsSettings(10, 10, (2.5, 0.025)), IlsSettings(15, 15, (5.0, 0.05)))
#: SISR's bypass probability.
SISR_BYPASS = 0.01
#: The second search runs from this much time on, and gets this long beyond its limit.
PORTFOLIO_MIN_SECONDS = 2.0
PORTFOLIO_GRACE_S = 1.0


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


@dataclass
class _Model:
    routing: pywrapcp.RoutingModel
    manager: pywrapcp.RoutingIndexManager
    time: pywrapcp.RoutingDimension


@dataclass(frozen=True)
class _Matrices:
    """Per mode: transit (service + travel), arc cost and metres, as routing wants them."""

    transit: dict[str, list[list[int]]]
    cost: dict[str, list[list[int]]]
    metres: dict[str, list[list[int]]]
    max_arc_cost: int


def _matrices(problem: RoutingInput) -> _Matrices:
    node_count = problem.geodesic_km.shape[0]
    durations = np.zeros(node_count, dtype=np.int64)
    for visit in problem.visits:
        durations[visit.node] = visit.duration
    weights = problem.weights
    transit: dict[str, list[list[int]]] = {}
    cost: dict[str, list[list[int]]] = {}
    metres: dict[str, list[list[int]]] = {}
    max_arc_cost = 0
    for name in sorted({s.mode for s in problem.shifts}):
        mode = problem.modes[name]
        km, minutes, reachable = leg_matrices(problem.geodesic_km, mode)
        transit[name] = np.where(reachable, durations[:, None] + minutes, _FORBIDDEN).tolist()
        arc_cost = np.rint(
            COST_SCALE
            * (weights.travel_minute * minutes + weights.co2e_kg * km * mode.g_co2e_per_km / 1000)
        ).astype(np.int64)
        max_arc_cost = max(max_arc_cost, int(arc_cost.max(initial=0)))
        cost[name] = arc_cost.tolist()
        metres[name] = np.ceil(km * 1000).astype(np.int64).tolist()
    return _Matrices(transit, cost, metres, max_arc_cost)


def solve(
    problem: RoutingInput,
    *,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None = None,
    early_stop: bool = True,
) -> list[Route]:
    """Route the visits over the shifts; returns the used shifts' routes.

    With ``early_stop`` the search ends once the best solution has not improved for a
    number of search steps (repeatable for a seed); without, it uses its time limit.
    """
    if not problem.visits or not problem.shifts:
        return []
    started = clock.monotonic()
    node_count = problem.geodesic_km.shape[0]
    depots = {s.depot for s in problem.shifts}
    if depots | {v.node for v in problem.visits} != set(range(node_count)):
        raise ValueError("every node must be a shift's depot or a visit")
    matrices = _matrices(problem)
    model = _build(problem, matrices, exclusive=True)
    routing, manager = model.routing, model.manager

    parameters = _search_parameters(time_limit_s)

    # Stop once the best solution has not improved for a number of search steps; the
    # time limit stays the upper bound. GLS keeps finding small gains long after a plan
    # is good. Counting steps instead of seconds keeps runs with one seed repeatable.
    stall = STALL_STEPS + STALL_STEPS_PER_VISIT_SQUARED * len(problem.visits) ** 2
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

    if early_stop:
        routing.AddSearchMonitor(routing.solver().CustomLimit(stalled_check))

    if not early_stop and _iterated_fits(problem):
        remaining = time_limit_s - (clock.monotonic() - started)
        second = _SecondSearch.start(problem, matrices, remaining)
        found = _solve_iterated(model, matrices, parameters, remaining, ILS_SETTINGS[0])
        ours = None
        if found is not None:
            ours = (found.ObjectiveValue(), _routes(routing, manager, found, problem, model.time))
        theirs = second.result() if second is not None else None
        if theirs is not None and (ours is None or theirs[0] < ours[0]):
            return theirs[1]
        if ours is not None:
            return ours[1]

    budget = 0.7 * (time_limit_s - (clock.monotonic() - started))
    solution = _first_solution(problem, matrices, model, parameters, budget)
    remaining = time_limit_s - (clock.monotonic() - started)
    if remaining > 0.05:
        parameters.time_limit.FromMilliseconds(int(remaining * 1000))
        improved = routing.SolveFromAssignmentWithParameters(solution, parameters)
        solution = improved or solution
    if solution is None:
        return []
    return _routes(routing, manager, solution, problem, model.time)


def _search_parameters(time_limit_s: float) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    # Penalties five times OR-Tools' default (0.1) escape local optima sooner: on the
    # 150-visit VROOM week 1345 travel minutes instead of 1368, on Solomon R107 1082.9
    # instead of 1107.3 and RC105 1575.7 instead of 1586.1 (30 s each).
    parameters.guided_local_search_lambda_coefficient = GLS_LAMBDA
    parameters.time_limit.FromMilliseconds(int(max(0.05, time_limit_s) * 1000))
    return parameters


_second_process_allowed = True


def share_the_machine() -> None:
    """This process searches beside others (the planner's parts in parallel): no second
    search process of its own, which would only take a core from them."""
    global _second_process_allowed
    _second_process_allowed = False


class _SecondSearch:
    """Iterated local search with the second settings in a second process.

    OR-Tools' ruin and recreate draws from a fixed seed, so one search follows one path
    whatever the time; where that path stalls (Solomon R201 4.1% above the best-known
    distance at 30 s) other ruin sizes and temperatures often do not (1.0%), and the
    other way round (RC105: 0.6% and 3.1%). On two cores the better of two searches
    with the same time limit costs no wall time.
    """

    def __init__(self, process: BaseProcess, receiver: Connection, deadline: float) -> None:
        self.process = process
        self.receiver = receiver
        self.deadline = deadline

    @classmethod
    def start(
        cls, problem: RoutingInput, matrices: _Matrices, time_limit_s: float
    ) -> _SecondSearch | None:
        """The second search, if it pays: the time to build a model twice, a second
        core, and a process that may have children (not a daemonic one)."""
        if (
            time_limit_s < PORTFOLIO_MIN_SECONDS
            or (os.cpu_count() or 1) < 2
            or multiprocessing.current_process().daemon
            or not _second_process_allowed
        ):
            return None
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_second_search, args=(problem, matrices, time_limit_s, sender), daemon=True
        )
        process.start()
        sender.close()
        return cls(process, receiver, clock.monotonic() + time_limit_s + PORTFOLIO_GRACE_S)

    def result(self) -> tuple[int, list[Route]] | None:
        """Its objective and routes; None if it found nothing or missed its time."""
        try:
            if self.receiver.poll(max(0.0, self.deadline - clock.monotonic())):
                found: tuple[int, list[Route]] | None = self.receiver.recv()
                return found
            return None
        except (EOFError, OSError):
            return None
        finally:
            self.receiver.close()
            if self.process.is_alive():
                self.process.terminate()
            self.process.join()


def _second_search(
    problem: RoutingInput, matrices: _Matrices, time_limit_s: float, sender: Connection
) -> None:
    # A forked child: the problem and matrices come as they are, only the model is built
    # anew (OR-Tools' objects are not shared between processes).
    started = clock.monotonic()
    model = _build(problem, matrices, exclusive=True)
    remaining = time_limit_s - (clock.monotonic() - started)
    parameters = _search_parameters(remaining)
    found = _solve_iterated(model, matrices, parameters, remaining, ILS_SETTINGS[1])
    result = None
    if found is not None:
        routes = _routes(model.routing, model.manager, found, problem, model.time)
        result = (found.ObjectiveValue(), routes)
    sender.send(result)
    sender.close()


def _exclusive(problem: RoutingInput) -> bool:
    """Whether the model has pairwise shift constraints (``_keep_apart``)."""
    return bool(problem.vehicle_groups) or any(len(g.shifts) > 1 for g in problem.groups)


def _iterated_fits(problem: RoutingInput) -> bool:
    """Whether iterated local search suits the model: enough visits, no pairwise shift
    constraints, and every visit allowed on every shift (a homogeneous fleet, as in
    Solomon's instances).

    Where visits are bound to few shifts (continuity, skills, a caseworker's own
    days: every week the planner builds), recreating ruined routes rarely puts every
    visit back, so no perturbation is accepted: on the 150-visit single-mode week it
    ended at the first local optimum, 1414 travel minutes at 10 s and at 30 s, where
    guided local search reached 1345 and 1315.
    """
    if len(problem.visits) < ILS_MIN_VISITS or _exclusive(problem):
        return False
    every = len(problem.shifts)
    return all(len(set(visit.shifts)) == every for visit in problem.visits)


def _solve_iterated(
    model: _Model, matrices: _Matrices, parameters: Any, time_limit_s: float, settings: IlsSettings
) -> pywrapcp.Assignment | None:
    """Iterated local search: parallel cheapest insertion, then rounds of ruin (SISR:
    strings of visits removed around a seed visit) and recreate (cheapest insertion),
    each improved by local search and accepted by simulated annealing.

    On Solomon's hardest instances (RC1, R1 with long horizons) this closes most of
    the gap that guided local search leaves: RC108 0.9% instead of 7.6% above the
    best-known distance, RC101 1.4% instead of 6.4% (30 s each). Routing's insertion
    heuristics must be able to fill the model, so models with pairwise shift
    constraints keep guided local search.
    """
    iterated = pywrapcp.DefaultRoutingSearchParameters()
    iterated.CopyFrom(parameters)
    iterated.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    iterated.time_limit.FromMilliseconds(int(max(0.05, time_limit_s) * 1000))
    iterated.use_iterated_local_search = True
    ils = iterated.iterated_local_search_parameters
    sisr = ils.ruin_recreate_parameters.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = settings.max_string
    sisr.avg_num_removed_visits = settings.avg_removed
    sisr.bypass_factor = SISR_BYPASS
    mean_arc = max(1.0, float(np.mean([np.mean(c) for c in matrices.cost.values()])))
    annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
    annealing.initial_temperature = settings.temperature[0] * mean_arc
    annealing.final_temperature = max(1.0, settings.temperature[1] * mean_arc)
    solution: pywrapcp.Assignment | None = model.routing.SolveWithIteratedLocalSearch(iterated)
    return solution


def _build(problem: RoutingInput, matrices: _Matrices, *, exclusive: bool) -> _Model:
    """The routing model; without ``exclusive`` it lacks the pairwise shift constraints."""
    node_count = problem.geodesic_km.shape[0]
    starts = [s.depot for s in problem.shifts]
    manager = pywrapcp.RoutingIndexManager(node_count, len(problem.shifts), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    weights = problem.weights
    time_callbacks: dict[str, int] = {}
    cost_callbacks: dict[str, int] = {}
    distance_callbacks: dict[str, int] = {}
    for name in matrices.transit:
        time_callbacks[name] = routing.RegisterTransitMatrix(matrices.transit[name])
        cost_callbacks[name] = routing.RegisterTransitMatrix(matrices.cost[name])
        distance_callbacks[name] = routing.RegisterTransitMatrix(matrices.metres[name])

    tour_cost = round(COST_SCALE * weights.tour)
    continuity = _continuity_costs(problem, matrices)
    continuity_callbacks: dict[tuple[str, int], int] = {}
    for index, shift in enumerate(problem.shifts):
        key = (shift.mode, shift.caseworker)
        if key in continuity:
            if key not in continuity_callbacks:
                continuity_callbacks[key] = routing.RegisterTransitMatrix(continuity[key])
            routing.SetArcCostEvaluatorOfVehicle(continuity_callbacks[key], index)
        else:
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

    biggest_penalty = _drop_penalty_unit(problem, matrices.max_arc_cost, tour_cost, span_cost)
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

    if exclusive:
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
    return _Model(routing, manager, time_dimension)


def _first_solution(
    problem: RoutingInput,
    matrices: _Matrices,
    model: _Model,
    parameters: Any,
    budget_s: float,
) -> pywrapcp.Assignment:
    """Parallel cheapest insertion made to respect the pairwise shift constraints.

    Insertion heuristics know routing's own constraints, not the pairwise "used shifts
    of one caseworker's day (or one vehicle's day) never overlap"; on the full model
    they fail and the search tree burns the time limit. So they run on the model
    without those constraints, and of each overlapping set of tours the fullest is
    kept: a feasible start for local search on the full model, which then re-inserts
    the visits of the tours let go. The empty plan is the fallback.
    """
    first = pywrapcp.DefaultRoutingSearchParameters()
    first.CopyFrom(parameters)
    first.solution_limit = 1
    first.ClearField("local_search_metaheuristic")
    first.time_limit.FromMilliseconds(int(max(0.05, budget_s) * 1000))
    relaxed = _build(problem, matrices, exclusive=False) if _exclusive(problem) else model
    found = relaxed.routing.SolveWithParameters(first)
    routes: list[list[int]] = [[] for _ in problem.shifts]
    if found is not None:
        spans: dict[int, Interval] = {}
        for shift in range(len(problem.shifts)):
            index = found.Value(relaxed.routing.NextVar(relaxed.routing.Start(shift)))
            while not relaxed.routing.IsEnd(index):
                routes[shift].append(index)
                index = found.Value(relaxed.routing.NextVar(index))
            if routes[shift]:
                spans[shift] = (
                    found.Min(relaxed.time.CumulVar(relaxed.routing.Start(shift))),
                    found.Max(relaxed.time.CumulVar(relaxed.routing.End(shift))),
                )
        for shift in _overlapping(problem, spans, routes):
            routes[shift] = []
    if relaxed is not model:
        model.routing.CloseModelWithParameters(parameters)
    initial = model.routing.ReadAssignmentFromRoutes(routes, True)
    if initial is None:
        initial = model.routing.ReadAssignmentFromRoutes([[] for _ in problem.shifts], True)
    return initial


def _overlapping(
    problem: RoutingInput, spans: dict[int, Interval], routes: list[list[int]]
) -> list[int]:
    """Used shifts to let go so that no two kept ones of a group overlap."""
    groups_of: dict[int, list[int]] = {}
    all_groups = [g.shifts for g in problem.groups] + list(problem.vehicle_groups)
    for number, members in enumerate(all_groups):
        for shift in members:
            groups_of.setdefault(shift, []).append(number)
    kept: dict[int, list[Interval]] = {}
    dropped = []
    for shift in sorted(spans, key=lambda s: (-len(routes[s]), s)):
        span = spans[shift]
        clash = any(
            span[0] < other[1] and other[0] < span[1]
            for group in groups_of.get(shift, [])
            for other in kept.get(group, [])
        )
        if clash:
            dropped.append(shift)
            continue
        for group in groups_of.get(shift, []):
            kept.setdefault(group, []).append(span)
    return dropped


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
    bound = (visits + len(problem.shifts)) * (max_arc_cost + continuity) + len(problem.shifts) * (
        tour_cost + span * problem.horizon
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


def _continuity_costs(
    problem: RoutingInput, matrices: _Matrices
) -> dict[tuple[str, int], list[list[int]]]:
    """Arc costs per (mode, caseworker) that price each visit the caseworker would make
    as a continuity break on the arc into it (only where a caseworker has such visits).
    """
    weight = round(COST_SCALE * problem.weights.continuity_break)
    if weight <= 0:
        return {}
    node_count = problem.geodesic_km.shape[0]
    breaks: dict[int, np.ndarray] = {}
    for visit in problem.visits:
        for caseworker in visit.breaks_for:
            column = breaks.setdefault(caseworker, np.zeros(node_count, dtype=np.int64))
            column[visit.node] = weight
    costs: dict[tuple[str, int], list[list[int]]] = {}
    for shift in problem.shifts:
        key = (shift.mode, shift.caseworker)
        if key in costs or shift.caseworker not in breaks:
            continue
        base = np.array(matrices.cost[shift.mode], dtype=np.int64)
        costs[key] = (base + breaks[shift.caseworker][None, :]).tolist()
    return costs


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
