"""scheduler.check: the conformance pair passes; each broken promise is reported."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.check import Violation, check_plan
from scheduler.format import Absence, Plan, Scenario, Unassigned

DATA = Path(__file__).parent / "data" / "spec"

Doc = dict[str, Any]
Mutation = Callable[[Doc, Doc], None]


@pytest.fixture(scope="module")
def originals() -> tuple[Doc, Doc]:
    scenario = json.loads((DATA / "small-week.scenario.json").read_text("utf-8"))
    plan = json.loads((DATA / "small-week.plan.json").read_text("utf-8"))
    return scenario, plan


@pytest.fixture
def docs(originals: tuple[Doc, Doc]) -> tuple[Doc, Doc]:
    return copy.deepcopy(originals[0]), copy.deepcopy(originals[1])


def run(scenario: Doc, plan: Doc) -> list[Violation]:
    return check_plan(Scenario.model_validate(scenario), Plan.model_validate(plan))


def pairs(violations: list[Violation]) -> set[tuple[int, str]]:
    return {(v.rule, v.path) for v in violations}


def by_id(items: list[Doc], item_id: str) -> Doc:
    return next(item for item in items if item["id"] == item_id)


def test_conformance_pair_passes(docs: tuple[Doc, Doc]) -> None:
    assert run(*docs) == []


def test_same_instants_in_utc_pass(docs: tuple[Doc, Doc]) -> None:
    scenario, plan = docs

    def to_utc(value: str) -> str:
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()

    for item in plan["appointments"] + plan["vehicle_bookings"]:
        item["start"], item["end"] = to_utc(item["start"]), to_utc(item["end"])
    for tour in plan["tours"]:
        tour["depart"], tour["return"] = to_utc(tour["depart"]), to_utc(tour["return"])
    assert run(scenario, plan) == []


# ----------------------------------------------------------------------------- mutations
# Each mutation breaks one promise; the checker must report (rule, path). With
# ``only=True`` the mutation is clean: no other rule may be reported.


def _drop_visit(s: Doc, p: Doc) -> None:
    del p["unassigned"][0]
    p["kpis"]["unassigned"] = 1


def _duplicate_visit(s: Doc, p: Doc) -> None:
    p["unassigned"].append({"visit": "H0005/1", "reason": "capacity", "detail": "no room"})
    p["kpis"]["unassigned"] = 3


def _unknown_visit(s: Doc, p: Doc) -> None:
    p["unassigned"].append({"visit": "H9999/1", "reason": "capacity", "detail": "no room"})
    p["kpis"]["unassigned"] = 3


def _wrong_household(s: Doc, p: Doc) -> None:
    p["appointments"][0]["household"] = "H0002"


def _wrong_duration(s: Doc, p: Doc) -> None:
    p["appointments"][3]["end"] = "2026-12-03T11:30:00+01:00"


def _unknown_tour(s: Doc, p: Doc) -> None:
    p["appointments"][3]["tour"] = "cw001/2026-12-03/9"


def _outside_availability(s: Doc, p: Doc) -> None:
    by_id(s["households"], "H0001")["availability"]["thu"] = [["10:30", "14:00"]]


def _holiday(s: Doc, p: Doc) -> None:
    s["region"] = "PT"  # 1 December: Restauração da Independência


def _outside_window(s: Doc, p: Doc) -> None:
    by_id(s["visits"], "H0002/1")["window"]["earliest"] = "2026-12-02"


def _outside_horizon(s: Doc, p: Doc) -> None:
    s["horizon"]["end"] = "2026-12-02"


def _not_allowed(s: Doc, p: Doc) -> None:
    by_id(s["households"], "H0005")["primary_caseworker"] = "cw002"
    p["kpis"]["continuity_breaks"] = 1


def _missing_skill(s: Doc, p: Doc) -> None:
    by_id(s["households"], "H0001")["required_skills"] = ["tr"]


def _pin_moved(s: Doc, p: Doc) -> None:
    by_id(s["visits"], "H0001/1")["pinned"] = {"caseworker": "cw001", "start": "2026-12-03T10:30"}


def _pin_other_caseworker(s: Doc, p: Doc) -> None:
    by_id(s["visits"], "H0001/1")["pinned"] = {"caseworker": "cw002", "start": "2026-12-03T10:00"}


def _date_absence(s: Doc, p: Doc) -> None:
    by_id(s["caseworkers"], "cw001")["absences"].append(
        {"start": "2026-12-03", "end": "2026-12-03"}
    )


def _appointment_outside_working_hours(s: Doc, p: Doc) -> None:
    by_id(s["caseworkers"], "cw001")["working_hours"]["thu"] = ["07:30", "11:00"]


def _leg_shorter_than_model(s: Doc, p: Doc) -> None:
    p["tours"][0]["legs"][0]["km"] = 4.0


def _leg_faster_than_model(s: Doc, p: Doc) -> None:
    p["tours"][0]["legs"][1]["minutes"] = 30


def _no_room_to_arrive(s: Doc, p: Doc) -> None:
    p["tours"][0]["depart"] = "2026-12-01T10:55:00+01:00"


def _no_room_to_return(s: Doc, p: Doc) -> None:
    p["tours"][1]["return"] = "2026-12-03T12:05:00+01:00"


def _stops_out_of_leg_order(s: Doc, p: Doc) -> None:
    stops = p["tours"][0]["stops"]
    stops[0], stops[1] = stops[1], stops[0]


def _tour_outside_working_hours(s: Doc, p: Doc) -> None:
    by_id(s["caseworkers"], "cw002")["working_hours"]["mon"] = ["09:50", "16:00"]


def _tour_wrong_date(s: Doc, p: Doc) -> None:
    p["tours"][1]["date"] = "2026-12-02"


def _tour_wrong_co2e(s: Doc, p: Doc) -> None:
    p["tours"][2]["co2e_kg"] = 1.0


def _tour_wrong_distance(s: Doc, p: Doc) -> None:
    p["tours"][3]["distance_km"] = 3.7
    p["kpis"]["distance_km"]["e_bike"] = 36.242
    p["kpis"]["co2e_kg"] = 0.2175


def _empty_tour(caseworker: str, vehicle: str, start: str, end: str) -> Doc:
    site = "evw"
    return {
        "id": f"{caseworker}/extra",
        "caseworker": caseworker,
        "date": start[:10],
        "mode": "e_bike",
        "vehicle": vehicle,
        "depart": start,
        "return": end,
        "stops": [],
        "legs": [{"from": site, "to": site, "km": 0, "minutes": 0}],
        "distance_km": 0,
        "travel_minutes": 0,
        "co2e_kg": 0,
    }


def _add_empty_tour(p: Doc, caseworker: str, vehicle: str) -> None:
    start, end = "2026-11-30T10:00:00+01:00", "2026-11-30T10:30:00+01:00"
    p["tours"].append(_empty_tour(caseworker, vehicle, start, end))
    p["vehicle_bookings"].append(
        {"vehicle": vehicle, "tour": f"{caseworker}/extra", "start": start, "end": end}
    )


def _overlapping_tours(s: Doc, p: Doc) -> None:
    _add_empty_tour(p, "cw002", "e_bike-evw-2")


def _mode_not_allowed(s: Doc, p: Doc) -> None:
    by_id(s["caseworkers"], "cw001")["modes"] = ["e_car"]


def _vehicle_of_other_site(s: Doc, p: Doc) -> None:
    p["tours"][0]["vehicle"] = "e_bike-evw-2"
    p["vehicle_bookings"][0]["vehicle"] = "e_bike-evw-2"


def _missing_booking(s: Doc, p: Doc) -> None:
    del p["vehicle_bookings"][1]


def _booking_too_short(s: Doc, p: Doc) -> None:
    p["vehicle_bookings"][2]["end"] = "2026-11-30T11:30:00+01:00"


def _overlapping_bookings(s: Doc, p: Doc) -> None:
    cw003 = copy.deepcopy(by_id(s["caseworkers"], "cw002"))
    cw003["id"], cw003["name"] = "cw003", "Caseworker 3"
    s["caseworkers"].append(cw003)
    _add_empty_tour(p, "cw003", "e_bike-evw-1")


def _booking_over_blocked(s: Doc, p: Doc) -> None:
    by_id(s["vehicles"], "e_bike-enn-1")["blocked"] = [
        {"start": "2026-12-03T11:00", "end": "2026-12-03T12:00", "reason": "maintenance"}
    ]


def _range_exceeded(s: Doc, p: Doc) -> None:
    by_id(s["vehicles"], "e_bike-enn-1")["range_km"] = 20


def _leg_over_max_leg(s: Doc, p: Doc) -> None:
    s["travel"]["e_bike"]["max_leg_km"] = 8


def _booking_unknown_tour(s: Doc, p: Doc) -> None:
    p["vehicle_bookings"].append(
        {
            "vehicle": "e_bike-enn-2",
            "tour": "ghost",
            "start": "2026-12-01T08:00:00+01:00",
            "end": "2026-12-01T09:00:00+01:00",
        }
    )


def _booking_unknown_vehicle(s: Doc, p: Doc) -> None:
    p["vehicle_bookings"][3]["vehicle"] = "e_bike-evw-9"
    p["tours"][3]["vehicle"] = "e_bike-evw-9"


def _too_many_visits(s: Doc, p: Doc) -> None:
    by_id(s["caseworkers"], "cw001")["max_visits_per_day"] = 2


def _household_twice_on_one_date(s: Doc, p: Doc) -> None:
    s["visits"].append({"id": "H0001/2", "household": "H0001", "duration_minutes": 30})
    tour = p["tours"][1]
    tour["stops"].append("H0001/2")
    tour["legs"] = [
        {"from": "enn", "to": "H0001/1", "km": 2.596, "minutes": 10},
        {"from": "H0001/1", "to": "H0001/2", "km": 0, "minutes": 0},
        {"from": "H0001/2", "to": "enn", "km": 2.596, "minutes": 10},
    ]
    tour["return"] = p["vehicle_bookings"][1]["end"] = "2026-12-03T12:40:00+01:00"
    p["appointments"].append(
        {
            "visit": "H0001/2",
            "household": "H0001",
            "caseworker": "cw001",
            "tour": tour["id"],
            "start": "2026-12-03T12:00:00+01:00",
            "end": "2026-12-03T12:30:00+01:00",
        }
    )
    p["kpis"]["visits"], p["kpis"]["scheduled"] = 9, 7


def _kpi(field: str, value: Any) -> Mutation:
    def mutate(s: Doc, p: Doc) -> None:
        p["kpis"][field] = value

    return mutate


def _continuity_not_counted(s: Doc, p: Doc) -> None:
    household = by_id(s["households"], "H0005")
    household["primary_caseworker"], household["allowed_caseworkers"] = "cw002", ["cw001"]


def _blank_detail(s: Doc, p: Doc) -> None:
    p["unassigned"][1]["detail"] = "   "


CASES: list[tuple[str, Mutation, int, str, bool]] = [
    ("drop a visit", _drop_visit, 1, "$.appointments", True),
    ("duplicate a visit", _duplicate_visit, 1, "$.unassigned[2]", True),
    ("unknown visit", _unknown_visit, 1, "$.unassigned[2].visit", True),
    ("wrong household", _wrong_household, 1, "$.appointments[0].household", True),
    ("wrong duration", _wrong_duration, 1, "$.appointments[3].end", True),
    ("unknown tour", _unknown_tour, 1, "$.appointments[3].tour", True),
    ("outside availability", _outside_availability, 2, "$.appointments[3].start", True),
    ("holiday", _holiday, 2, "$.appointments[1].start", True),
    ("outside window", _outside_window, 2, "$.appointments[1].start", True),
    ("outside horizon", _outside_horizon, 2, "$.appointments[3].start", True),
    ("caseworker not allowed", _not_allowed, 2, "$.appointments[0].caseworker", True),
    ("missing skill", _missing_skill, 2, "$.appointments[3].caseworker", True),
    ("pin moved", _pin_moved, 2, "$.appointments[3].start", True),
    ("pin other caseworker", _pin_other_caseworker, 2, "$.appointments[3].caseworker", True),
    ("whole-date absence", _date_absence, 2, "$.appointments[3].start", False),
    (
        "appointment outside hours",
        _appointment_outside_working_hours,
        2,
        "$.appointments[3].start",
        False,
    ),
    ("leg shorter than model", _leg_shorter_than_model, 3, "$.tours[0].legs[0].km", True),
    ("leg faster than model", _leg_faster_than_model, 3, "$.tours[0].legs[1].minutes", True),
    ("no room to arrive", _no_room_to_arrive, 3, "$.tours[0].legs[0]", True),
    ("no room to return", _no_room_to_return, 3, "$.tours[1].legs[1]", True),
    ("stops out of leg order", _stops_out_of_leg_order, 3, "$.tours[0].legs[0].to", True),
    ("tour outside hours", _tour_outside_working_hours, 3, "$.tours[2].depart", True),
    ("tour date", _tour_wrong_date, 3, "$.tours[1].date", True),
    ("tour co2e", _tour_wrong_co2e, 3, "$.tours[2].co2e_kg", True),
    ("tour distance", _tour_wrong_distance, 3, "$.tours[3].distance_km", True),
    ("overlapping tours", _overlapping_tours, 3, "$.tours[4]", True),
    ("mode not allowed", _mode_not_allowed, 4, "$.tours[0].mode", True),
    ("vehicle of other site", _vehicle_of_other_site, 4, "$.tours[0].vehicle", True),
    ("missing booking", _missing_booking, 4, "$.tours[1].vehicle", True),
    ("booking too short", _booking_too_short, 4, "$.vehicle_bookings[2]", True),
    ("overlapping bookings", _overlapping_bookings, 4, "$.vehicle_bookings[4]", True),
    ("booking over blocked", _booking_over_blocked, 4, "$.vehicle_bookings[1]", True),
    ("range exceeded", _range_exceeded, 4, "$.vehicle_bookings[0]", True),
    ("leg over max_leg_km", _leg_over_max_leg, 4, "$.tours[0].legs[1]", True),
    ("booking of unknown tour", _booking_unknown_tour, 4, "$.vehicle_bookings[4].tour", True),
    ("unknown vehicle", _booking_unknown_vehicle, 4, "$.vehicle_bookings[3].vehicle", True),
    ("max visits per day", _too_many_visits, 5, "$.appointments[2]", True),
    ("household twice a day", _household_twice_on_one_date, 5, "$.appointments[6]", True),
    ("kpi visits", _kpi("visits", 9), 6, "$.kpis.visits", True),
    ("kpi scheduled", _kpi("scheduled", 5), 6, "$.kpis.scheduled", True),
    ("kpi unassigned", _kpi("unassigned", 3), 6, "$.kpis.unassigned", True),
    ("kpi travel minutes", _kpi("travel_minutes", 141), 6, "$.kpis.travel_minutes", True),
    ("kpi distance", _kpi("distance_km", {"e_bike": 30.0}), 6, "$.kpis.distance_km.e_bike", True),
    ("kpi distance missing", _kpi("distance_km", {}), 6, "$.kpis.distance_km", True),
    ("kpi co2e", _kpi("co2e_kg", 0.3), 6, "$.kpis.co2e_kg", True),
    ("kpi baseline", _kpi("baseline_co2e_kg", 9.0), 6, "$.kpis.baseline_co2e_kg", True),
    ("kpi avoided", _kpi("avoided_co2e_kg", 7.0), 6, "$.kpis.avoided_co2e_kg", True),
    ("kpi breaks", _kpi("continuity_breaks", 2), 6, "$.kpis.continuity_breaks", True),
    ("continuity not counted", _continuity_not_counted, 6, "$.kpis.continuity_breaks", True),
    ("blank detail", _blank_detail, 7, "$.unassigned[1].detail", True),
]


@pytest.mark.parametrize(
    ("mutate", "rule", "path", "only"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_broken_promise_is_reported(
    docs: tuple[Doc, Doc], mutate: Mutation, rule: int, path: str, only: bool
) -> None:
    scenario, plan = docs
    mutate(scenario, plan)
    violations = run(scenario, plan)
    assert (rule, path) in pairs(violations), violations
    if only:
        assert {v.rule for v in violations} == {rule}, violations
    assert all(v.message and "\n" not in v.message for v in violations)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("09:00", "09:55", {(3, "$.tours[1]")}, id="tour only"),
        pytest.param(
            "11:00", "11:30", {(2, "$.appointments[3].start"), (3, "$.tours[1]")}, id="appointment"
        ),
        pytest.param("12:10", "13:00", set(), id="touching is fine"),
    ],
)
def test_datetime_absence(docs: tuple[Doc, Doc], start: str, end: str, expected: set[Any]) -> None:
    # Built with model_construct: format.DateOrLocalDateTime does not yet parse
    # "YYYY-MM-DDTHH:MM" absences (pydantic re-validates the datetime as a date).
    scenario_doc, plan_doc = docs
    scenario = Scenario.model_validate(scenario_doc)
    absence = Absence.model_construct(
        start=datetime.fromisoformat(f"2026-12-03T{start}"),
        end=datetime.fromisoformat(f"2026-12-03T{end}"),
        reason="dentist",
    )
    scenario.caseworkers[0].absences.append(absence)
    assert pairs(check_plan(scenario, Plan.model_validate(plan_doc))) == expected


def test_messages_name_ids_and_times(docs: tuple[Doc, Doc]) -> None:
    scenario, plan = docs
    _outside_availability(scenario, plan)
    [violation] = run(scenario, plan)
    assert "H0001/1" in violation.message
    assert "H0001" in violation.message
    assert "2026-12-03T10:00+01:00" in violation.message
    assert "10:30-14:00" in violation.message


def test_small_kpi_rounding_is_tolerated(docs: tuple[Doc, Doc]) -> None:
    scenario, plan = docs
    plan["kpis"]["co2e_kg"] += 0.0004
    plan["kpis"]["baseline_co2e_kg"] -= 0.005  # within 0.1 % of 8.235
    plan["kpis"]["avoided_co2e_kg"] -= 0.005
    assert run(scenario, plan) == []


def test_unknown_reason_is_reported(docs: tuple[Doc, Doc]) -> None:
    scenario, plan_doc = docs
    plan = Plan.model_validate(plan_doc)
    plan.unassigned[0] = Unassigned.model_construct(
        visit="H0004/1", reason="too_far", detail="far away"
    )
    violations = check_plan(Scenario.model_validate(scenario), plan)
    assert pairs(violations) == {(7, "$.unassigned[0].reason")}


def test_dangling_references_give_violations_not_exceptions(docs: tuple[Doc, Doc]) -> None:
    scenario, plan = docs
    plan["appointments"][0].update(visit="X/1", caseworker="ghost", tour="ghost-tour")
    plan["appointments"][1]["caseworker"] = "ghost"
    plan["tours"][0].update(caseworker="nobody", vehicle="no-such-bike")
    plan["tours"][0]["legs"][2]["to"] = "nowhere"
    plan["tours"][1]["stops"] = ["Y/1", "H0001/1", "H0001/1"]
    plan["tours"][2]["id"] = plan["tours"][3]["id"]
    plan["vehicle_bookings"][0].update(vehicle="no-such-bike", tour="ghost-tour")
    plan["unassigned"][0]["visit"] = "Z/1"
    scenario["region"] = "XX-YY"
    violations = run(scenario, plan)
    assert {v.rule for v in violations} >= {1, 2, 3, 4, 6}
    assert (2, "$.appointments") in pairs(violations)  # unknown region
    assert (3, "$.tours[3].id") in pairs(violations)  # duplicate tour id
    assert (1, "$.tours[1].stops[2]") in pairs(violations)  # stop listed twice


def test_violations_are_ordered_by_rule_then_path(docs: tuple[Doc, Doc]) -> None:
    scenario, plan = docs
    _range_exceeded(scenario, plan)
    _blank_detail(scenario, plan)
    _wrong_household(scenario, plan)
    for tour in plan["tours"]:
        tour["co2e_kg"] = 5.0
    plan["appointments"][0]["caseworker"] = "cw002"
    violations = run(scenario, plan)
    keys = [(v.rule, v.path) for v in violations]
    assert [rule for rule, _ in keys] == sorted(rule for rule, _ in keys)
    tour_paths = [path for rule, path in keys if rule == 3 and path.endswith("co2e_kg")]
    assert tour_paths == [f"$.tours[{i}].co2e_kg" for i in range(4)]
