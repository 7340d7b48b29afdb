"""Solomon VRPTW instances through fieldwork's routing core, beside PyVRP.

DIMACS 2021 convention (``shared/data/vrptw/README.md``): minimise total distance only;
d_ij = floor(10 x euclidean) as integers, travel time = d_ij, time windows and service
times x 10, cost / 10; 25 vehicles, a limit that never binds. Both solvers get exactly
these integer matrices, and every solution is re-checked here (each customer once,
capacity, time windows, return to the depot in time) and its distance recomputed.

The adapter builds a ``scheduler.solver.RoutingInput`` directly: node 0 the depot,
``geodesic_km`` = the integer matrix with ``ModeModel(detour_factor=1, speed_kmh=60)``
so that routing's minutes equal d_ij exactly (``routing_input`` asserts it), travel
minutes the only cost, one shift per vehicle with the capacity, each its own day group,
every customer a visit of priority 1 with its window as start window.
"""

from __future__ import annotations

import csv
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduler import solver as core

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "vrptw"
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
MODE = "dimacs"


@dataclass(frozen=True)
class Instance:
    name: str
    coordinates: np.ndarray
    #: floor(10 x euclidean), depot first; also the travel time.
    distance: np.ndarray
    demand: np.ndarray
    capacity: int
    vehicles: int
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.demand) - 1


def family(name: str) -> str:
    """C101 -> C1, RC208 -> RC2."""
    return name.rstrip("0123456789") + name[len(name.rstrip("0123456789"))]


def instance_names(directory: Path = DATA / "solomon") -> list[str]:
    return sorted(path.stem for path in directory.glob("*.txt"))


def sample(names: Sequence[str], per_family: int) -> list[str]:
    """``per_family`` instances of every family, spread evenly over its numbers."""
    chosen = []
    for fam in FAMILIES:
        members = [n for n in names if family(n) == fam]
        if not members:
            continue
        count = min(per_family, len(members))
        picks = np.linspace(0, len(members) - 1, count).round().astype(int)
        chosen += [members[i] for i in sorted(set(picks.tolist()))]
    return chosen


def read_instance(path: Path) -> Instance:
    import vrplib

    data = vrplib.read_instance(str(path), instance_format="solomon")
    coordinates = np.asarray(data["node_coord"], dtype=np.float64)
    delta = coordinates[:, None, :] - coordinates[None, :, :]
    euclidean = np.sqrt((delta**2).sum(axis=2))
    windows = np.asarray(data["time_window"], dtype=np.int64)
    return Instance(
        name=str(data["name"]),
        coordinates=coordinates,
        distance=np.floor(10 * euclidean).astype(np.int64),
        demand=np.asarray(data["demand"], dtype=np.int64),
        capacity=int(data["capacity"]),
        vehicles=int(data["vehicles"]),
        ready=10 * windows[:, 0],
        due=10 * windows[:, 1],
        service=10 * np.asarray(data["service_time"], dtype=np.int64),
    )


def best_known(path: Path = DATA / "bks_dimacs_solomon.csv") -> dict[str, float]:
    with path.open(newline="") as handle:
        return {row["instance"]: float(row["bks_distance"]) for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class Evaluation:
    feasible: bool
    served: int
    #: Total distance in DIMACS units (x10).
    distance: int
    routes: int
    problems: tuple[str, ...]


def evaluate(instance: Instance, routes: Sequence[Sequence[int]]) -> Evaluation:
    """Independent check of a solution: customers 1..n once each, loads, windows, distance."""
    problems: list[str] = []
    seen: list[int] = [c for route in routes for c in route]
    if sorted(seen) != list(range(1, instance.customers + 1)):
        missing = set(range(1, instance.customers + 1)) - set(seen)
        problems.append(f"{len(missing)} customers unserved, {len(seen) - len(set(seen))} twice")
    used = [route for route in routes if route]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes for {instance.vehicles} vehicles")
    total = 0
    for route in used:
        load = int(instance.demand[list(route)].sum())
        if load > instance.capacity:
            problems.append(f"route load {load} > capacity {instance.capacity}")
        now, here = int(instance.ready[0]), 0
        for customer in route:
            total += int(instance.distance[here, customer])
            arrival = now + int(instance.distance[here, customer])
            if arrival > instance.due[customer]:
                problems.append(
                    f"customer {customer} reached at {arrival} > {instance.due[customer]}"
                )
            now = max(arrival, int(instance.ready[customer])) + int(instance.service[customer])
            here = customer
        total += int(instance.distance[here, 0])
        if now + instance.distance[here, 0] > instance.due[0]:
            problems.append("a route returns to the depot too late")
    return Evaluation(not problems, len(set(seen)), total, len(used), tuple(problems))


# ------------------------------------------------------------------- fieldwork core


def routing_input(instance: Instance) -> core.RoutingInput:
    """The instance as fieldwork's routing core sees it (see the module docstring)."""
    mode = core.ModeModel(detour_factor=1.0, speed_kmh=60.0, max_leg_km=None, g_co2e_per_km=0)
    geodesic = instance.distance.astype(np.float64)
    _, minutes, _ = core.leg_matrices(geodesic, mode)
    if not np.array_equal(minutes, instance.distance):
        raise AssertionError("routing minutes differ from the DIMACS distances")
    start, end = int(instance.ready[0]), int(instance.due[0])
    shifts = [
        core.Shift(
            caseworker=vehicle,
            depot=0,
            mode=MODE,
            start=start,
            end=end,
            max_km=None,
            group=vehicle,
            day=0,
            capacity=instance.capacity,
        )
        for vehicle in range(instance.vehicles)
    ]
    everyone = tuple(range(instance.vehicles))
    visits = [
        core.VisitNode(
            node=customer,
            duration=int(instance.service[customer]),
            priority=1,
            starts=((int(instance.ready[customer]), int(instance.due[customer])),),
            shifts=everyone,
            breaks_for=frozenset(),
            demand=int(instance.demand[customer]),
        )
        for customer in range(1, instance.customers + 1)
    ]
    return core.RoutingInput(
        geodesic_km=geodesic,
        modes={MODE: mode},
        shifts=shifts,
        visits=visits,
        groups=[core.DayGroup(shifts=(vehicle,), cap=None) for vehicle in everyone],
        vehicle_groups=[],
        distinct_days=[],
        weights=core.Weights(co2e_kg=0, travel_minute=1, continuity_break=0, tour=0, tour_minute=0),
        horizon=end,
    )


@dataclass(frozen=True)
class Result:
    solver: str
    instance: str
    wall_s: float
    evaluation: Evaluation
    #: The solver's own objective in DIMACS units, where it states one.
    reported: int | None


def solve_fieldwork(instance: Instance, *, time_limit_s: float) -> Result:
    started = clock.perf_counter()
    problem = routing_input(instance)
    routes = core.solve(problem, time_limit_s=time_limit_s, early_stop=False)
    wall = clock.perf_counter() - started
    # Visit i of the input is customer i + 1.
    customer_routes = [[visit + 1 for visit in route.visits] for route in routes]
    return Result("fieldwork", instance.name, wall, evaluate(instance, customer_routes), None)


# ----------------------------------------------------------------------------- PyVRP


def solve_pyvrp(instance: Instance, *, time_limit_s: float, seed: int = 1) -> Result:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    started = clock.perf_counter()
    model = pyvrp.Model()
    locations = [model.add_location(float(x), float(y)) for x, y in instance.coordinates]
    model.add_depot(locations[0], tw_early=int(instance.ready[0]), tw_late=int(instance.due[0]))
    for customer in range(1, instance.customers + 1):
        model.add_client(
            locations[customer],
            delivery=int(instance.demand[customer]),
            service_duration=int(instance.service[customer]),
            tw_early=int(instance.ready[customer]),
            tw_late=int(instance.due[customer]),
        )
    model.add_vehicle_type(
        num_available=instance.vehicles,
        capacity=instance.capacity,
        tw_early=int(instance.ready[0]),
        tw_late=int(instance.due[0]),
    )
    for i, origin in enumerate(locations):
        for j, destination in enumerate(locations):
            d = int(instance.distance[i, j])
            model.add_edge(origin, destination, distance=d, duration=d)
    result = model.solve(stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    wall = clock.perf_counter() - started
    # A client activity's idx counts clients from 0: customer i is client i - 1.
    routes = [
        [activity.idx + 1 for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]
    reported = int(result.cost()) if result.is_feasible() else None
    return Result("pyvrp", instance.name, wall, evaluate(instance, routes), reported)


# --------------------------------------------------------------------------- section


def _gap(result: Result, bks: float) -> float | None:
    if not result.evaluation.feasible:
        return None
    return 100 * (result.evaluation.distance / 10 - bks) / bks


def run(
    names: Sequence[str],
    *,
    time_limit_s: float,
    pyvrp_names: Sequence[str] | None = None,
    log: bool = True,
) -> list[tuple[Result, Result | None]]:
    """fieldwork on ``names``, PyVRP beside it on ``pyvrp_names`` (default: all of them)."""
    beside = set(names if pyvrp_names is None else pyvrp_names)
    results: list[tuple[Result, Result | None]] = []
    for name in names:
        instance = read_instance(DATA / "solomon" / f"{name}.txt")
        ours = solve_fieldwork(instance, time_limit_s=time_limit_s)
        theirs = solve_pyvrp(instance, time_limit_s=time_limit_s) if name in beside else None
        if theirs is not None and theirs.reported not in (None, theirs.evaluation.distance):
            raise AssertionError(
                f"{name}: PyVRP states {theirs.reported}, its routes make "
                f"{theirs.evaluation.distance}"
            )
        if log:
            print(
                f"  {name}: fieldwork {ours.evaluation.distance / 10:.1f} ({ours.wall_s:.1f} s, "
                f"feasible {ours.evaluation.feasible})"
                + (
                    ""
                    if theirs is None
                    else f", pyvrp {theirs.evaluation.distance / 10:.1f} ({theirs.wall_s:.1f} s)"
                ),
                flush=True,
            )
        results.append((ours, theirs))
    return results


def _mean(values: Sequence[float]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


@dataclass
class _Tally:
    """Gaps of one solver over some instances."""

    gaps: list[float]
    at_best: int = 0
    infeasible: int = 0
    seconds: float = 0.0

    def add(self, result: Result, gap: float | None) -> None:
        self.seconds += result.wall_s
        if gap is None:
            self.infeasible += 1
            return
        self.gaps.append(gap)
        self.at_best += gap < 0.005

    def summary(self) -> str:
        count = len(self.gaps) + self.infeasible
        return (
            f"mean gap {_mean(self.gaps)}% over {count} ({self.at_best} at the best-known "
            f"value, {self.infeasible} infeasible, mean {self.seconds / max(1, count):.1f} s used)"
        )


def _cells(result: Result | None, gap: float | None) -> str:
    if result is None:
        return "- | - | - | -"
    evaluation = result.evaluation
    if gap is None:
        return (
            f"infeasible: {evaluation.problems[0]} | - | {result.wall_s:.1f} | {evaluation.routes}"
        )
    return f"{evaluation.distance / 10:.1f} | {gap:.2f} | {result.wall_s:.1f} | {evaluation.routes}"


def section(
    names: Sequence[str],
    *,
    time_limit_s: float,
    command: str,
    pyvrp_names: Sequence[str] | None = None,
) -> str:
    bks = best_known()
    results = run(names, time_limit_s=time_limit_s, pyvrp_names=pyvrp_names)
    limit = f"{time_limit_s:g}"
    beside = [name for name in names if pyvrp_names is None or name in pyvrp_names]
    lines = [
        "## Solomon VRPTW instances: routing core and PyVRP (issue 3)",
        "",
        f"Reproduce: `{command}`.",
        "",
        "DIMACS 2021 convention (distance only; d_ij = floor(10 x euclidean), travel time "
        "= d_ij, windows and service x 10, cost / 10; best-known values all proven optimal, "
        "`shared/data/vrptw/bks_dimacs_solomon.csv`). fieldwork: `scheduler.solver.solve` on "
        "a `RoutingInput` built by `benchmarks/solomon.py` (25 capacity-limited shifts, one "
        "day group each, routing minutes = d_ij exactly), `early_stop=False`: it uses its "
        "whole time limit, as PyVRP does, running iterated local search in two processes "
        "with two settings of ruin size and temperature (`scheduler.solver.ILS_SETTINGS`) "
        "and keeping the better plan: the machine's two cores. PyVRP "
        f"{_pyvrp_version()}: `Model` with the same integer matrix, `MaxRuntime({limit})`, "
        "seed 1"
        + (
            ""
            if len(beside) == len(names)
            else f", on {len(beside)} of the {len(names)} instances (30 s each adds up)"
        )
        + ". The solvers run one after the other, PyVRP single-threaded; every solution is "
        "re-checked (customers, loads, windows, distance). Time limit "
        f"{limit} s per instance and solver.",
        "",
        "| instance | BKS | fieldwork | gap % | s | routes | PyVRP | gap % | s | routes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ours_all = _Tally([])
    ours_beside = _Tally([])
    theirs_all = _Tally([])
    families: dict[str, tuple[_Tally, _Tally]] = {}
    for ours, theirs in results:
        best = bks[ours.instance]
        our_gap = _gap(ours, best)
        their_gap = None if theirs is None else _gap(theirs, best)
        ours_all.add(ours, our_gap)
        by_family = families.setdefault(family(ours.instance), (_Tally([]), _Tally([])))
        by_family[0].add(ours, our_gap)
        if theirs is not None:
            ours_beside.add(ours, our_gap)
            theirs_all.add(theirs, their_gap)
            by_family[1].add(theirs, their_gap)
        lines.append(
            f"| {ours.instance} | {best:.1f} | {_cells(ours, our_gap)} | "
            f"{_cells(theirs, their_gap)} |"
        )
    lines += [
        "",
        "| family | fieldwork mean gap % (instances) | PyVRP mean gap % (instances) |",
        "|---|---|---|",
    ]
    for name in FAMILIES:
        if name in families:
            ours_family, theirs_family = families[name]
            lines.append(
                f"| {name} | {_mean(ours_family.gaps)} ({len(ours_family.gaps)}) | "
                f"{_mean(theirs_family.gaps)} ({len(theirs_family.gaps)}) |"
            )
    met = bool(ours_all.gaps) and not ours_all.infeasible
    met = met and sum(ours_all.gaps) / len(ours_all.gaps) <= 1
    lines += [
        "",
        f"At {limit} s per instance: fieldwork {ours_all.summary()}"
        + (
            ""
            if len(beside) == len(names)
            else f"; on PyVRP's {len(beside)} instances fieldwork {ours_beside.summary()}"
        )
        + f"; PyVRP {theirs_all.summary()}. Target: mean gap <= 1% at 30 s per instance: "
        + f"**{'met' if met else 'not met'}**"
        + ("" if len(names) == 56 else f" on this sample of {len(names)} of the 56")
        + ("" if time_limit_s == 30 else f" (measured at {limit} s, not 30 s)")
        + ".",
    ]
    return "\n".join(lines)


def _pyvrp_version() -> str:
    from importlib.metadata import version

    return version("pyvrp")
