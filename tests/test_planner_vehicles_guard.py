"""The planner's last word on vehicles (``_one_tour_per_vehicle_at_a_time``): whatever
the passes hand over, no vehicle carries two tours at once or more than its range."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from scheduler.planner import PlannedTour, _one_tour_per_vehicle_at_a_time
from scheduler.problem import Context
from scheduler.validation import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ennigerloh-everswinkel.scenario.json"
MONDAY = date(2026, 11, 30)
SCENARIO = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
#: A visit of a different household for each tour (the pass keeps their dates too).
_VISITS = iter({visit.household: visit.id for visit in SCENARIO.visits}.values())


def tour(caseworker: str, mode: str, vehicle: str, depart: int, ret: int) -> PlannedTour:
    """A tour on the demo week's Monday (minutes since its midnight), 12 km out and back."""
    return PlannedTour(
        caseworker=caseworker,
        date=MONDAY,
        mode=mode,
        window=(450, 960),
        visits=[next(_VISITS)],
        starts=[depart + 20],
        depart=depart,
        ret=ret,
        legs=[("site", "H", 6.0, 20), ("H", "site", 6.0, 20)],
        vehicle=vehicle,
    )


def context() -> Context:
    return Context(SCENARIO)


def test_a_clashing_tour_takes_another_free_vehicle_of_its_kind() -> None:
    first = tour("cw01", "e_bike", "ebike-enn-1", 540, 660)
    second = tour("cw03", "e_bike", "ebike-enn-1", 600, 720)
    later = tour("cw03", "e_bike", "ebike-enn-1", 660, 700)  # touching the first: fine
    result = _one_tour_per_vehicle_at_a_time(context(), [first, second, later], 0)
    assert [(t.caseworker, t.depart, t.vehicle) for t in result] == [
        ("cw01", 540, "ebike-enn-1"),
        ("cw03", 600, "ebike-enn-2"),
        ("cw03", 660, "ebike-enn-1"),
    ]


def test_a_clashing_tour_with_no_vehicle_left_is_dropped_and_kept_tours_stay() -> None:
    # Everswinkel has one e-car: the new tour that overlaps the kept one goes.
    kept = tour("cw02", "e_car", "ecar-evw-1", 600, 900)
    new = tour("cw04", "e_car", "ecar-evw-1", 540, 700)
    after = tour("cw04", "e_car", "ecar-evw-1", 900, 960)
    result = _one_tour_per_vehicle_at_a_time(context(), [kept, new, after], 1)
    assert [(t.caseworker, t.depart) for t in result] == [("cw02", 600), ("cw04", 900)]


def test_a_day_over_the_vehicles_range_loses_the_tour_that_breaks_it() -> None:
    # ebike-evw-2 rides 50 km a day: four 12 km tours fit, the fifth does not, and
    # ebike-evw-1 (55 km) takes it instead.
    tours = [tour("cw04", "e_bike", "ebike-evw-2", 450 + 100 * i, 530 + 100 * i) for i in range(5)]
    result = _one_tour_per_vehicle_at_a_time(context(), tours, 0)
    assert [t.vehicle for t in result] == ["ebike-evw-2"] * 4 + ["ebike-evw-1"]
