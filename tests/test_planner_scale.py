"""What large weeks need from the planner: sequences it builds outside routing keep the
travel rules, a week of parallel parts re-plans, and the generator's load and fleet."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from scenarios import MON, build, caseworker, household, vehicle

from scheduler.check import check_plan
from scheduler.demo import generate_scenario
from scheduler.format import Scenario, dump_document
from scheduler.planner import _PARALLEL_FROM, components, plan_scenario, schedule_tour
from scheduler.problem import Context, alone_feasible


def test_a_sequence_with_a_leg_beyond_the_modes_reach_is_impossible() -> None:
    # Each household is 6 km x 1.2 = 7.2 km from the office by e-bike, within its 10 km
    # legs; from one to the other is 12 km x 1.2 = 14.4 km, beyond them.
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike"])],
        households=[household("EAST", east_km=6), household("WEST", east_km=-6)],
        vehicles=[vehicle("ebike-1", "e_bike", range_km=80)],
    )
    context = Context(scenario)
    stretch = context.working_pieces(context.caseworkers["cw-a"], MON)[0]

    for alone in (["EAST/1"], ["WEST/1"]):
        assert schedule_tour(context, "cw-a", MON, "e_bike", stretch, alone) is not None
    assert schedule_tour(context, "cw-a", MON, "e_bike", stretch, ["EAST/1", "WEST/1"]) is None
    # By e-car (no longest leg) the same sequence is a tour.
    assert schedule_tour(context, "cw-a", MON, "e_car", stretch, ["EAST/1", "WEST/1"]) is not None


@pytest.mark.slow
def test_a_week_of_parallel_parts_re_plans_around_its_published_tours() -> None:
    week = generate_scenario(households=160, seed=3, sites=2, caseworkers=12, load=0.5)
    context = Context(week)
    plannable = [v.id for v in week.visits if alone_feasible(context, v) is None]
    assert len(plannable) >= _PARALLEL_FROM
    assert len(components(context, plannable)) >= 2  # planned in worker processes
    published = plan_scenario(week, time_limit_s=8)
    assert check_plan(week, published) == []

    ill = Counter(a.caseworker for a in published.appointments).most_common(1)[0][0]
    day = min(a.start.date() for a in published.appointments if a.caseworker == ill)
    document = dump_document(week)
    for person in document["caseworkers"]:
        if person["id"] == ill:
            person.setdefault("absences", []).append(
                {"start": day.isoformat(), "end": day.isoformat(), "reason": "krank"}
            )
    changed = Scenario.model_validate(json.loads(json.dumps(document)))

    replanned = plan_scenario(changed, time_limit_s=8, previous=published)

    assert check_plan(changed, replanned) == []
    change = replanned.replanning
    assert change is not None
    lost = {
        a.visit for a in published.appointments if a.caseworker == ill and a.start.date() == day
    }
    assert lost
    now = {a.visit: (a.caseworker, a.start) for a in replanned.appointments}
    # Everything else stays where it was; the ill caseworker's visits moved or dropped.
    for appointment in published.appointments:
        if appointment.visit not in lost:
            assert now.get(appointment.visit) == (appointment.caseworker, appointment.start)
    assert set(change.moved) | set(change.dropped) == lost
    assert change.kept == len(published.appointments) - len(lost)


def _working_minutes(scenario: Scenario) -> int:
    context = Context(scenario)
    return sum(
        end - start
        for person in scenario.caseworkers
        for day in context.dates
        for start, end in context.working_pieces(person, day)
    )


@pytest.mark.parametrize("load", [0.4, 0.55, 0.7])
def test_load_fills_that_share_of_working_time(load: float) -> None:
    week = generate_scenario(households=600, seed=2, sites=3, caseworkers=30, load=load)
    filled = sum(v.duration_minutes for v in week.visits) / _working_minutes(week)
    assert abs(filled - load) <= 0.08  # an estimate of the visits per household
    assert {v.duration_minutes for v in week.visits} <= {30, 45, 60, 90, 120}


def test_fleet_scales_each_offices_pool() -> None:
    usual = generate_scenario(households=300, seed=1, sites=2, caseworkers=24)
    larger = generate_scenario(households=300, seed=1, sites=2, caseworkers=24, fleet=2.0)
    count = Counter((v.site, v.kind) for v in usual.vehicles)
    more = Counter((v.site, v.kind) for v in larger.vehicles)
    assert more[("enn", "e_car")] == 2 * count[("enn", "e_car")]
    users = {
        site: sum(1 for c in larger.caseworkers if c.site == site and "e_bike" in c.modes)
        for site in ("enn", "evw")
    }
    for site, kind in more:
        assert more[(site, kind)] >= count[(site, kind)]
        if kind == "e_bike":
            assert more[(site, kind)] <= users[site]
    # Everything but the fleet is the same week.
    assert [h.id for h in larger.households] == [h.id for h in usual.households]
    assert [v.duration_minutes for v in larger.visits] == [v.duration_minutes for v in usual.visits]


@pytest.mark.parametrize("kwargs", [{"load": 0}, {"load": 1.5}, {"fleet": 0}, {"fleet": 11}])
def test_bad_load_or_fleet(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        generate_scenario(households=10, **kwargs)  # type: ignore[arg-type]
