"""The benchmark adapters (benchmarks/): peers' models and plans, Solomon, the merge.

Fast and small; tests that need a benchmark-only dependency (``.[bench]``) or the shared
VRPTW data skip without them.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from scheduler.check import check_plan
from scheduler.demo import generate_scenario
from scheduler.format import Scenario

# benchmarks/ is no installed package: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import peers, run, solomon

C101 = solomon.DATA / "solomon" / "C101.txt"
needs_data = pytest.mark.skipif(not C101.exists(), reason="shared VRPTW data not present")


@pytest.fixture(scope="module")
def week() -> Scenario:
    return peers.strip_scenario(generate_scenario(households=18, seed=3, modes="single"))


def test_strip_scenario_keeps_what_vroom_can_express(week: Scenario) -> None:
    households = [v.household for v in week.visits]
    assert len(households) == len(set(households)) == len(week.households)
    assert all(v.pinned is None for v in week.visits)
    for caseworker in week.caseworkers:
        for absence in caseworker.absences:
            assert not isinstance(absence.start, datetime)
    assert week.objective == peers.TRAVEL_ONLY
    no_caps = peers.strip_scenario(week, keep_caps=False)
    assert all(c.max_visits_per_day is None for c in no_caps.caseworkers)


def test_peer_problem_matches_fieldwork_travel_model(week: Scenario) -> None:
    problem = peers.peer_problem(week)
    params = problem.context.travel[peers.MODE]
    km = problem.context.geodesic_km[0, 5] * params.detour_factor
    assert problem.minutes[0, 5] == params.leg_minutes(km)
    for job in problem.jobs:
        assert job.windows and job.vehicles
        for vehicle in job.vehicles:
            assert job.skills <= problem.vehicles[vehicle].skills
    one_per_day = {(v.caseworker, v.date) for v in problem.vehicles}
    assert len(one_per_day) == len(problem.vehicles)


def test_peer_routes_become_plans_that_pass_check(week: Scenario) -> None:
    problem = peers.peer_problem(week)
    result = peers.solve_core(problem, time_limit_s=2)
    assert result.routes
    plan = peers.plan_from_routes(problem, result.routes, engine=result.engine, wall_s=1.0)
    assert check_plan(week, plan) == []
    assert plan.kpis.scheduled + plan.kpis.unassigned == len(week.visits)


def test_vroom_plan_passes_check_and_its_cost_is_the_shared_matrix(week: Scenario) -> None:
    pytest.importorskip("vroom")
    problem = peers.peer_problem(week)
    result = peers.solve_vroom(problem, exploration_level=1, threads=1)
    plan = peers.plan_from_routes(problem, result.routes, engine=result.engine, wall_s=0.1)
    assert check_plan(week, plan) == []
    assert result.reported_cost == plan.kpis.travel_minutes


def test_a_route_the_travel_model_cannot_time_is_an_error(week: Scenario) -> None:
    problem = peers.peer_problem(week)
    vehicle = problem.vehicles[0]
    short = replace(vehicle, end=vehicle.start + 1)
    problem.vehicles[0] = short
    with pytest.raises(peers.RouteError):
        peers.plan_from_routes(problem, [(0, [0])], engine="test", wall_s=0.0)


def small(instance: solomon.Instance, customers: int) -> solomon.Instance:
    keep = slice(0, customers + 1)
    return replace(
        instance,
        coordinates=instance.coordinates[keep],
        distance=instance.distance[keep, keep],
        demand=instance.demand[keep],
        ready=instance.ready[keep],
        due=instance.due[keep],
        service=instance.service[keep],
    )


@needs_data
def test_solomon_dimacs_rounding_and_routing_minutes() -> None:
    pytest.importorskip("vrplib")
    instance = solomon.read_instance(C101)
    assert instance.customers == 100 and instance.vehicles == 25
    # Depot (40, 50) to customer 1 (45, 68): sqrt(349) = 18.68 -> 186.
    assert instance.distance[0, 1] == 186
    assert instance.ready[1] == 9120 and instance.service[1] == 900
    solomon.routing_input(instance)  # asserts routing minutes == d_ij


@needs_data
def test_solomon_core_solves_a_small_instance_feasibly() -> None:
    pytest.importorskip("vrplib")
    instance = small(solomon.read_instance(C101), 12)
    result = solomon.solve_fieldwork(instance, time_limit_s=1)
    assert result.evaluation.feasible, result.evaluation.problems
    assert result.evaluation.served == 12


@needs_data
def test_solomon_pyvrp_routes_are_read_back_right() -> None:
    pytest.importorskip("vrplib")
    pytest.importorskip("pyvrp")
    instance = small(solomon.read_instance(C101), 12)
    result = solomon.solve_pyvrp(instance, time_limit_s=0.5)
    assert result.evaluation.feasible, result.evaluation.problems
    assert result.reported == result.evaluation.distance


def test_solomon_evaluation_catches_broken_solutions() -> None:
    distance = np.array([[0, 10, 10], [10, 0, 5], [10, 5, 0]])
    instance = solomon.Instance(
        name="tiny",
        coordinates=np.zeros((3, 2)),
        distance=distance,
        demand=np.array([0, 3, 3]),
        capacity=5,
        vehicles=2,
        ready=np.array([0, 0, 0]),
        due=np.array([100, 50, 12]),
        service=np.array([0, 1, 1]),
    )
    good = solomon.evaluate(instance, [[2], [1]])
    assert good.feasible and good.distance == 40
    assert not solomon.evaluate(instance, [[1, 2]]).feasible  # load 6 > 5, 2 reached late
    assert not solomon.evaluate(instance, [[1]]).feasible  # 2 unserved


def test_solomon_sample_spans_every_family() -> None:
    names = [f"{f}{n:02d}" for f in ("C1", "C2", "R1", "R2", "RC1", "RC2") for n in range(1, 9)]
    chosen = solomon.sample(names, 2)
    assert len(chosen) == 12
    assert {solomon.family(n) for n in chosen} == set(solomon.FAMILIES)
    assert solomon.family("RC208") == "RC2" and solomon.family("C101") == "C1"


def test_runner_merge_keeps_sections_not_rerun() -> None:
    old = (
        "# Benchmarks\n\nMeasured 2026-01-01 on somewhere.\n\n"
        "## Weekly visit planner (issue 2)\n\nplanner table\n\n"
        "## Solomon VRPTW instances: old\n\nold solomon\n"
    )
    new = {"vroom": "## Peers on single-mode weeks: new\n\nnew peers"}
    text = run.merged_document(old, new)
    assert text.index("planner table") < text.index("new peers") < text.index("old solomon")
    assert "Measured 2026-01-01 on somewhere." in text.split("## Peers")[0]
    replaced = run.merged_document(text, {"solomon": "## Solomon VRPTW instances: new\n\nnew"})
    assert "old solomon" not in replaced and "new peers" in replaced
