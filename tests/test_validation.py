"""scheduler.validation: every problem of a document in one report, each at its JSON path."""

from __future__ import annotations

import copy
import json
import math
import pickle
from pathlib import Path
from typing import Any

import pytest

from scheduler.format import Location, Scenario
from scheduler.validation import (
    DocumentInvalid,
    Problem,
    load_plan,
    load_scenario,
    validate_scenario,
)

SPEC = Path(__file__).parent / "data" / "spec"
SCENARIO_TEXT = (SPEC / "small-week.scenario.json").read_text(encoding="utf-8")
PLAN_TEXT = (SPEC / "small-week.plan.json").read_text(encoding="utf-8")

DELETE = object()


def scenario_doc() -> dict[str, Any]:
    return json.loads(SCENARIO_TEXT)  # type: ignore[no-any-return]


def plan_doc() -> dict[str, Any]:
    return json.loads(PLAN_TEXT)  # type: ignore[no-any-return]


def edited(doc: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with ``{"visits.0.household": "H0099"}``-style edits applied.

    A last part ``+`` appends to a list; the value DELETE removes the key.
    """
    doc = copy.deepcopy(doc)
    for dotted, value in edits.items():
        *parents, last = [int(part) if part.isdigit() else part for part in dotted.split(".")]
        target: Any = doc
        for part in parents:
            target = target[part]
        if last == "+":
            target.append(value)
        elif value is DELETE:
            del target[last]
        else:
            target[last] = value
    return doc


def problems(doc: dict[str, Any] | str | bytes, *, loader: Any = load_scenario) -> list[Problem]:
    text = doc if isinstance(doc, str | bytes) else json.dumps(doc)
    with pytest.raises(DocumentInvalid) as info:
        loader(text)
    assert info.value.problems, "DocumentInvalid without problems"
    return info.value.problems


def assert_one(found: list[Problem], path: str, word: str) -> None:
    assert len(found) == 1, found
    assert found[0].path == path, found
    assert word in found[0].message, found


# ------------------------------------------------------------------------- valid


def test_the_spec_example_is_valid() -> None:
    scenario = load_scenario(SCENARIO_TEXT)
    assert scenario.name == "Ennigerloh/Everswinkel example week"
    assert validate_scenario(scenario) == []


def test_bytes_with_a_byte_order_mark_are_read() -> None:
    scenario = load_scenario(b"\xef\xbb\xbf" + SCENARIO_TEXT.encode("utf-8"))
    assert len(scenario.visits) == 8


@pytest.mark.parametrize(
    "edits",
    [
        # a window entirely outside the horizon: the visit is just unassigned
        {"visits.1.window": {"earliest": "2027-01-04", "latest": "2027-01-08"}},
        # required skills nobody holds: the planner reports no_caseworker
        {"households.0.required_skills": ["farsi"]},
        # a one-day date absence (end == start) and a date-time start with a date end
        {"caseworkers.0.absences.0": {"start": "2026-12-02T12:00", "end": "2026-12-02"}},
        # exactly 31 dates
        {"horizon.end": "2026-12-30"},
        {"horizon.end": "2026-11-30"},
        # null max_leg_km means no limit; zero emission factors are fine
        {"travel.walk.max_leg_km": None, "emission_factors_g_per_km.car": 0},
        {"region": "DE", "timezone": "UTC"},
        {"sites.0.location": {"lat": -90, "lon": 180}},
        {"visits.0.pinned": {"caseworker": "cw001", "start": "2026-12-04T10:00"}},
    ],
    ids=lambda edits: ",".join(edits),
)
def test_edge_cases_that_are_valid(edits: dict[str, Any]) -> None:
    load_scenario(json.dumps(edited(scenario_doc(), edits)))


# ------------------------------------------------------------------ not a document


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ('{"format": "fieldwork-scenario/1",\n "name": "x" "timezone": "UTC"}', "line 2"),
        ("", "empty"),
        ("   \n", "empty"),
        (b"\xff\xfe{", "UTF-8"),
        ("[]", "JSON object"),
        ('"fieldwork-scenario/1"', "JSON object"),
        ("null", "JSON object"),
    ],
)
def test_text_that_is_no_json_object(text: str | bytes, word: str) -> None:
    assert_one(problems(text), "$", word)


def test_json_error_names_the_source_line_and_column() -> None:
    with pytest.raises(DocumentInvalid) as info:
        load_scenario('{\n  "format": ,\n}', source="week49.json")
    assert str(info.value) == (
        "$: week49.json is not valid JSON: expecting value (line 2, column 13)"
    )
    assert info.value.source == "week49.json"


def test_wrong_format_value() -> None:
    found = problems(edited(scenario_doc(), {"format": "fieldwork-scenario/2"}))
    assert_one(found, "$.format", "'fieldwork-scenario/2'")


def test_a_plan_given_as_scenario_is_one_problem() -> None:
    assert_one(problems(PLAN_TEXT), "$.format", "plan")
    assert_one(problems(SCENARIO_TEXT, loader=load_plan), "$.format", "scenario")


def test_a_key_given_twice_is_reported() -> None:
    text = SCENARIO_TEXT.replace('"name": "Caseworker 1",', '"name": "A", "name": "B",')
    assert_one(problems(text), "$.caseworkers[0].name", "duplicate key 'name'")


# --------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("edits", "path", "word"),
    [
        (
            {"visits.2.durration_minutes": 90},
            "$.visits[2].durration_minutes",
            "unknown field 'durration_minutes' (did you mean 'duration_minutes'?)",
        ),
        ({"nmae": "x"}, "$.nmae", "unknown field 'nmae'"),
        (
            {"visits.2.duration_minutes": DELETE},
            "$.visits[2].duration_minutes",
            "missing required field 'duration_minutes'",
        ),
        ({"horizon": DELETE}, "$.horizon", "missing required field 'horizon'"),
        ({"visits.2.duration_minutes": "ninety"}, "$.visits[2].duration_minutes", "'ninety'"),
        ({"visits.2.duration_minutes": 90.5}, "$.visits[2].duration_minutes", "whole number"),
        ({"visits.2.priority": 7}, "$.visits[2].priority", "at most 3, got 7"),
        ({"visits.2.id": ""}, "$.visits[2].id", "empty"),
        ({"sites.0.location": None}, "$.sites[0].location", "expected an object, got null"),
        ({"name": 5}, "$.name", "expected a string, got 5"),
        ({"caseworkers.0.modes": []}, "$.caseworkers[0].modes", "at least 1"),
        ({"caseworkers.0.modes.0": "bike"}, "$.caseworkers[0].modes[0]", "got 'bike'"),
        ({"baseline_mode": "horse"}, "$.baseline_mode", "'private_car'"),
        ({"travel.bike": {}}, "$.travel.bike", "unknown key 'bike'"),
        (
            {"caseworkers.0.working_hours.monday": ["08:00", "12:00"]},
            "$.caseworkers[0].working_hours.monday",
            "unknown key 'monday'",
        ),
        (
            {"caseworkers.0.working_hours.mon": ["25:00", "12:00"]},
            "$.caseworkers[0].working_hours.mon[0]",
            "'25:00'",
        ),
        (
            {"caseworkers.0.working_hours.mon": ["08:00"]},
            "$.caseworkers[0].working_hours.mon",
            "[start, end] pair, got 1",
        ),
        (
            {"caseworkers.0.working_hours.mon": ["08:00", "10:00", "12:00"]},
            "$.caseworkers[0].working_hours.mon",
            "[start, end] pair, got 3",
        ),
        (
            {"households.0.availability.tue.0.1": "1pm"},
            "$.households[0].availability.tue[0][1]",
            "'1pm'",
        ),
        ({"horizon.start": "2026-13-01"}, "$.horizon.start", "'2026-13-01'"),
        (
            {"caseworkers.0.absences.0.end": "tomorrow"},
            "$.caseworkers[0].absences[0].end",
            "'tomorrow'",
        ),
        ({"visits.1.window.latest": "2026-12-3"}, "$.visits[1].window.latest", "'2026-12-3'"),
        ({"households.0.location.lat": "north"}, "$.households[0].location.lat", "number"),
    ],
)
def test_structural_problem(edits: dict[str, Any], path: str, word: str) -> None:
    assert_one(problems(edited(scenario_doc(), edits)), path, word)


def test_odd_keys_are_quoted_in_the_path() -> None:
    found = problems(edited(scenario_doc(), {"visits.0.duration minutes": 1}))
    assert_one(found, "$.visits[0]['duration minutes']", "unknown field")


# --------------------------------------------------------------------- semantics

SITE = {"id": "enn", "location": {"lat": 51.9, "lon": 7.9}}
PIN = {"caseworker": "cw001", "start": "2026-12-01T10:00"}


@pytest.mark.parametrize(
    ("edits", "path", "word"),
    [
        # duplicate ids, each reported at the repeated entry
        ({"sites.+": SITE}, "$.sites[2].id", "duplicate site id 'enn'"),
        ({"vehicles.1.id": "e_bike-enn-1"}, "$.vehicles[1].id", "duplicate vehicle"),
        ({"visits.7.id": "H0001/1"}, "$.visits[7].id", "duplicate visit id 'H0001/1'"),
        ({"visits.7.id": "enn"}, "$.visits[7].id", "also a site id"),
        # dangling references
        ({"caseworkers.0.site": "nowhere"}, "$.caseworkers[0].site", "unknown site 'nowhere'"),
        ({"vehicles.3.site": "nowhere"}, "$.vehicles[3].site", "unknown site 'nowhere'"),
        (
            {"households.1.primary_caseworker": "cw999"},
            "$.households[1].primary_caseworker",
            "unknown caseworker 'cw999'",
        ),
        (
            {"households.0.allowed_caseworkers.0": "cw999"},
            "$.households[0].allowed_caseworkers[0]",
            "unknown caseworker 'cw999'",
        ),
        ({"visits.3.household": "H0099"}, "$.visits[3].household", "unknown household 'H0099'"),
        (
            {"visits.0.pinned": {**PIN, "caseworker": "cw999"}},
            "$.visits[0].pinned.caseworker",
            "unknown caseworker 'cw999'",
        ),
        # end before start
        ({"horizon.end": "2026-11-29"}, "$.horizon.end", "before"),
        (
            {"caseworkers.0.absences.0.end": "2026-12-03"},
            "$.caseworkers[0].absences[0].end",
            "before",
        ),
        (
            {"caseworkers.0.absences.0": {"start": "2026-12-02T12:00", "end": "2026-12-02T12:00"}},
            "$.caseworkers[0].absences[0].end",
            "not after",
        ),
        (
            {"caseworkers.0.absences.0": {"start": "2026-12-03T08:00", "end": "2026-12-02"}},
            "$.caseworkers[0].absences[0].end",
            "not after",
        ),
        (
            {"caseworkers.1.working_hours.tue": ["16:30", "09:00"]},
            "$.caseworkers[1].working_hours.tue",
            "16:30-09:00 ends before",
        ),
        (
            {"caseworkers.1.working_hours.tue": ["09:00", "09:00"]},
            "$.caseworkers[1].working_hours.tue",
            "empty",
        ),
        (
            {"households.0.availability.tue.0": ["13:00", "10:00"]},
            "$.households[0].availability.tue[0]",
            "ends before",
        ),
        (
            {"vehicles.0.blocked": [{"start": "2026-12-01T13:00", "end": "2026-12-01T12:00"}]},
            "$.vehicles[0].blocked[0].end",
            "not after",
        ),
        (
            {"visits.1.window": {"earliest": "2026-12-03", "latest": "2026-12-01"}},
            "$.visits[1].window.latest",
            "before",
        ),
        # coordinates
        ({"sites.0.location.lat": 90.5}, "$.sites[0].location.lat", "out of range"),
        ({"sites.1.location.lon": -180.01}, "$.sites[1].location.lon", "out of range"),
        ({"households.2.location.lat": math.nan}, "$.households[2].location.lat", "finite"),
        ({"households.2.location.lon": math.inf}, "$.households[2].location.lon", "finite"),
        # timezone and region
        ({"timezone": "Europe/Berln"}, "$.timezone", "unknown timezone 'Europe/Berln'"),
        ({"timezone": "/etc/localtime"}, "$.timezone", "unknown timezone"),
        ({"timezone": "Europe"}, "$.timezone", "unknown timezone"),
        ({"region": "DE-XX"}, "$.region", "unknown region 'DE-XX'"),
        ({"region": "Atlantis"}, "$.region", "unknown region"),
        # numbers
        ({"visits.4.duration_minutes": 0}, "$.visits[4].duration_minutes", "positive"),
        ({"visits.4.duration_minutes": -30}, "$.visits[4].duration_minutes", "-30"),
        ({"travel.e_bike.speed_kmh": 0}, "$.travel.e_bike.speed_kmh", "positive"),
        ({"travel.e_car.detour_factor": 0.9}, "$.travel.e_car.detour_factor", "at least 1"),
        ({"travel.walk.max_leg_km": 0}, "$.travel.walk.max_leg_km", "positive"),
        ({"vehicles.2.range_km": 0}, "$.vehicles[2].range_km", "positive"),
        ({"vehicles.2.range_km": -70}, "$.vehicles[2].range_km", "-70"),
        (
            {"caseworkers.1.max_visits_per_day": 0},
            "$.caseworkers[1].max_visits_per_day",
            "at least 1",
        ),
        (
            {"emission_factors_g_per_km.car": -1},
            "$.emission_factors_g_per_km.car",
            ">= 0",
        ),
        ({"objective": {"co2e_kg": math.inf}}, "$.objective.co2e_kg", "finite"),
        # horizon and pins
        ({"horizon.end": "2026-12-31"}, "$.horizon", "32 dates"),
        (
            {"visits.0.pinned": {**PIN, "start": "2026-12-07T10:00"}},
            "$.visits[0].pinned.start",
            "outside the horizon",
        ),
        (
            {"visits.0.pinned": {**PIN, "start": "2026-11-29T10:00"}},
            "$.visits[0].pinned.start",
            "outside the horizon",
        ),
        (
            {
                "horizon": {"start": "2027-03-22", "end": "2027-03-28"},
                "visits.0.pinned": {**PIN, "start": "2027-03-28T02:30"},
            },
            "$.visits[0].pinned.start",
            "does not exist",
        ),
    ],
)
def test_semantic_problem(edits: dict[str, Any], path: str, word: str) -> None:
    doc = edited(scenario_doc(), edits)
    assert_one(problems(doc), path, word)
    # the API path: the same problem from validate_scenario on a parsed model
    scenario = Scenario.model_validate(doc)
    assert [(p.path, word in p.message) for p in validate_scenario(scenario)] == [(path, True)]


def test_duplicates_report_every_repeat_and_point_at_the_first() -> None:
    caseworker = scenario_doc()["caseworkers"][0]
    doc = edited(scenario_doc(), {"caseworkers.+": caseworker})
    doc = edited(doc, {"caseworkers.+": caseworker})
    found = problems(doc)
    assert [p.path for p in found] == ["$.caseworkers[2].id", "$.caseworkers[3].id"]
    assert all("(also $.caseworkers[0])" in p.message for p in found)


def test_validate_scenario_sees_values_pydantic_lets_through() -> None:
    scenario = load_scenario(SCENARIO_TEXT)
    site = scenario.sites[0].model_copy(update={"location": Location(lat=math.nan, lon=200)})
    broken = scenario.model_copy(update={"sites": [site, *scenario.sites[1:]]})
    assert [p.path for p in validate_scenario(broken)] == [
        "$.sites[0].location.lat",
        "$.sites[0].location.lon",
    ]


# ------------------------------------------------------------- all in one report


def test_several_problems_are_reported_together() -> None:
    doc = edited(
        scenario_doc(),
        {
            "timezone": "Mars/Olympus",
            "sites.1.location.lat": 123,
            "caseworkers.1.wroking_hours": {},
            "visits.2.household": "H0099",
            "visits.5.duration_minutes": DELETE,
            "travel.e_bike.speed_kmh": -1,
        },
    )
    with pytest.raises(DocumentInvalid) as info:
        load_scenario(json.dumps(doc), source="w49.json")
    found = info.value.problems
    assert [p.path for p in found] == [
        "$.timezone",
        "$.sites[1].location.lat",
        "$.caseworkers[1].wroking_hours",
        "$.visits[2].household",
        "$.visits[5].duration_minutes",
        "$.travel.e_bike.speed_kmh",
    ]
    # semantic problems are found although the structure is broken
    assert "unknown timezone 'Mars/Olympus'" in found[0].message
    assert "did you mean 'working_hours'" in found[2].message
    assert str(info.value).splitlines() == [f"{p.path}: {p.message}" for p in found]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("edits", "path", "word"),
    [
        # household H0003 is broken: its visit H0003/1 is not also "unknown"
        ({"households.2.location": "somewhere"}, "$.households[2].location", "an object"),
        # sites unreadable: caseworkers and vehicles are not told their site is unknown
        ({"sites": {}}, "$.sites", "expected an array"),
        ({"sites.0.id": DELETE}, "$.sites[0].id", "missing required field 'id'"),
        ({"caseworkers.0.id": 7}, "$.caseworkers[0].id", "expected a string, got 7"),
    ],
)
def test_broken_entries_cause_no_follow_up_problems(
    edits: dict[str, Any], path: str, word: str
) -> None:
    assert_one(problems(edited(scenario_doc(), edits)), path, word)


def test_document_invalid_survives_pickling() -> None:
    with pytest.raises(DocumentInvalid) as info:
        load_scenario("[]", source="x.json")
    again = pickle.loads(pickle.dumps(info.value))
    assert again.problems == info.value.problems
    assert again.source == "x.json"
    assert str(again) == str(info.value)


# -------------------------------------------------------------------------- plans


def test_the_spec_example_plan_loads() -> None:
    plan = load_plan(PLAN_TEXT)
    assert plan.tours[0].legs[0].from_ == plan_doc()["tours"][0]["legs"][0]["from"]


@pytest.mark.parametrize(
    ("edits", "paths", "word"),
    [
        ({"tours.0.return": DELETE}, ["$.tours[0].return"], "missing required field 'return'"),
        (
            {"tours.0.legs.1.from_": "enn", "tours.0.legs.1.from": DELETE},
            ["$.tours[0].legs[1].from", "$.tours[0].legs[1].from_"],
            "'from",
        ),
        (
            {"appointments.0.start": "2026-12-01T11:07:00"},
            ["$.appointments[0].start"],
            "UTC offset",
        ),
        ({"unassigned.0.reason": "sick"}, ["$.unassigned[0].reason"], "got 'sick'"),
        ({"kpis.co2e": 1.0}, ["$.kpis.co2e"], "did you mean 'co2e_kg'"),
        ({"format": "fieldwork-plan/0"}, ["$.format"], "'fieldwork-plan/0'"),
    ],
)
def test_plan_structure(edits: dict[str, Any], paths: list[str], word: str) -> None:
    found = problems(edited(plan_doc(), edits), loader=load_plan)
    assert [p.path for p in found] == paths
    assert all(word in p.message for p in found), found


def test_plan_not_json() -> None:
    assert_one(problems("{", loader=load_plan), "$", "plan is not valid JSON")
