"""The capacity bound (scheduler/bound.py): never below what the planner places, and
tight where caps or hours are the only limit."""

from __future__ import annotations

from pathlib import Path

from scheduler.bound import capacity_bound
from scheduler.format import Scenario
from scheduler.planner import plan_scenario
from scheduler.problem import Context, alone_feasible
from scheduler.validation import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ennigerloh-everswinkel.scenario.json"


def demo() -> Scenario:
    return load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))


def working_days(scenario: Scenario) -> int:
    context = Context(scenario)
    return sum(
        1
        for caseworker in scenario.caseworkers
        for day in context.dates
        if context.working_pieces(caseworker, day)
    )


def test_the_demo_week_fits_together_and_the_plan_stays_below_the_bound() -> None:
    scenario = demo()
    context = Context(scenario)
    bound = capacity_bound(context)
    alone = sum(1 for v in scenario.visits if alone_feasible(context, v) is None)
    plan = plan_scenario(scenario, time_limit_s=5)
    assert bound.plannable == alone == 33
    # Caps and hours leave room for every visit that fits alone: no day limits it.
    assert bound.visits == alone
    assert (bound.capped_days, bound.timed_days) == (0, 0)
    assert len(plan.appointments) <= bound.visits


def test_one_visit_a_day_caps_the_week_at_its_caseworker_days() -> None:
    scenario = demo()
    scenario = scenario.model_copy(
        update={
            "caseworkers": [
                c.model_copy(update={"max_visits_per_day": 1}) for c in scenario.caseworkers
            ]
        }
    )
    bound = capacity_bound(Context(scenario))
    days = working_days(scenario)
    # A visit for every working caseworker-day, and no more: 22 of the 33.
    assert bound.plannable == 33
    assert bound.visits == days == 22
    assert bound.capped_days > 0
    plan = plan_scenario(scenario, time_limit_s=5)
    assert len(plan.appointments) <= bound.visits
