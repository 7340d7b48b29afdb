"""The routing core (scheduler/solver.py) on plain routing inputs: which search it
runs, and that what it returns keeps capacities and time windows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scheduler import solver as core

MODE = "e_car"


def homogeneous(visits: int = 30, vehicles: int = 5, seed: int = 4) -> core.RoutingInput:
    """A small capacitated VRPTW: one depot, every visit allowed on every shift."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 20, size=(visits + 1, 2))
    geodesic = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    mode = core.ModeModel(detour_factor=1.0, speed_kmh=30.0, max_leg_km=None, g_co2e_per_km=0)
    everyone = tuple(range(vehicles))
    shifts = [
        core.Shift(v, depot=0, mode=MODE, start=0, end=600, max_km=None, group=v, day=0, capacity=8)
        for v in everyone
    ]
    nodes = []
    for node in range(1, visits + 1):
        ready = int(rng.integers(0, 400))
        nodes.append(
            core.VisitNode(
                node=node,
                duration=10,
                priority=1,
                starts=((ready, ready + 120),),
                shifts=everyone,
                breaks_for=frozenset(),
                demand=1,
            )
        )
    return core.RoutingInput(
        geodesic_km=geodesic,
        modes={MODE: mode},
        shifts=shifts,
        visits=nodes,
        groups=[core.DayGroup(shifts=(v,), cap=None) for v in everyone],
        vehicle_groups=[],
        distinct_days=[],
        weights=core.Weights(co2e_kg=0, travel_minute=1, continuity_break=0, tour=0, tour_minute=0),
        horizon=600,
    )


def bound_to_few(problem: core.RoutingInput) -> core.RoutingInput:
    """The same visits, each allowed on two shifts only (as continuity binds them)."""
    count = len(problem.shifts)
    visits = [replace(v, shifts=(i % count, (i + 1) % count)) for i, v in enumerate(problem.visits)]
    return replace(problem, visits=visits)


def assert_feasible(problem: core.RoutingInput, routes: list[core.Route]) -> None:
    """Every visit once, loads within capacity, starts inside windows, in order."""
    minutes = core.leg_matrices(problem.geodesic_km, problem.modes[MODE])[1]
    seen = [v for route in routes for v in route.visits]
    assert sorted(seen) == list(range(len(problem.visits)))
    for route in routes:
        shift = problem.shifts[route.shift]
        assert len(route.visits) <= (shift.capacity or 0)
        at, previous = shift.start, shift.depot
        for visit_index, start in zip(route.visits, route.starts, strict=True):
            visit = problem.visits[visit_index]
            assert route.shift in visit.shifts
            assert any(low <= start <= high for low, high in visit.starts)
            assert start >= at + minutes[previous, visit.node]
            at, previous = start + visit.duration, visit.node


@pytest.mark.parametrize("early_stop", [False, True])
def test_iterated_local_search_runs_only_where_it_suits(
    monkeypatch: pytest.MonkeyPatch, early_stop: bool
) -> None:
    calls: list[int] = []
    original = core._solve_iterated

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        assert found is not None, "iterated local search found no solution"
        return found

    monkeypatch.setattr(core, "_solve_iterated", spy)
    problem = homogeneous()
    assert core._iterated_fits(problem) and not core._iterated_fits(bound_to_few(problem))
    routes = core.solve(problem, time_limit_s=1.0, early_stop=early_stop)
    assert_feasible(problem, routes)
    # Only a full-time search of a homogeneous fleet runs ruin and recreate.
    assert calls == ([] if early_stop else [1])
    restricted = bound_to_few(problem)
    assert_feasible(restricted, core.solve(restricted, time_limit_s=1.0, early_stop=False))
    assert calls == ([] if early_stop else [1])


def test_small_models_and_pairwise_constraints_keep_guided_local_search() -> None:
    problem = homogeneous(visits=8)
    assert not core._iterated_fits(problem)
    paired = replace(homogeneous(), vehicle_groups=[(0, 1)])
    assert not core._iterated_fits(paired)


@pytest.mark.parametrize("failing", [0, 1])
def test_a_second_process_searches_with_the_second_settings(
    monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    """With two cores and the time for it, iterated local search runs twice, with each
    of ``ILS_SETTINGS`` in a process of its own; the better plan wins, so either search
    finding nothing leaves the other's plan (the fallback to guided local search would
    fail here)."""
    original = core._solve_iterated
    runs: list[int] = []

    def one_fails(
        model: object, matrices: object, parameters: object, limit: float, settings: object
    ) -> object:
        which = core.ILS_SETTINGS.index(settings)  # type: ignore[arg-type]
        runs.append(which)
        if which == failing:
            return None
        return original(model, matrices, parameters, limit, settings)  # type: ignore[arg-type]

    def no_fallback(*args: object, **kwargs: object) -> object:
        raise AssertionError("neither search's plan was taken")

    monkeypatch.setattr(core, "_solve_iterated", one_fails)
    monkeypatch.setattr(core, "_first_solution", no_fallback)
    monkeypatch.setattr(core.os, "cpu_count", lambda: 2)
    problem = homogeneous()
    routes = core.solve(problem, time_limit_s=core.PORTFOLIO_MIN_SECONDS + 0.5, early_stop=False)
    assert_feasible(problem, routes)
    # This process ran the first settings; the second ran in the forked child.
    assert runs == [0]


@pytest.mark.parametrize("reason", ["short search", "parts in parallel"])
def test_no_second_process_for_short_searches_or_beside_other_parts(
    monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    started: list[object] = []
    original = core._SecondSearch.start

    def spy(cls: type, problem: core.RoutingInput, matrices: object, limit: float) -> object:
        second = original(problem, matrices, limit)  # type: ignore[arg-type]
        started.append(second)
        return second

    monkeypatch.setattr(core.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(core._SecondSearch, "start", classmethod(spy))
    # Restored after the test: share_the_machine() is for the planner's worker processes.
    monkeypatch.setattr(core, "_second_process_allowed", True)
    limit = 1.0
    if reason == "parts in parallel":
        core.share_the_machine()
        limit = core.PORTFOLIO_MIN_SECONDS + 0.5
    problem = homogeneous()
    assert_feasible(problem, core.solve(problem, time_limit_s=limit, early_stop=False))
    assert started == [None]
