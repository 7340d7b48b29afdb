"""The synthetic demo scenarios: deterministic, consistent, realistic, plannable."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import pytest
from geopy.distance import geodesic

from fleet.modes import MODES_WITH_VEHICLE
from scheduler.demo import (
    EXAMPLES,
    example_scenarios,
    generate_scenario,
    scenario_json,
    write_examples,
)
from scheduler.format import WEEKDAYS, Caseworker, Household, Scenario, Visit
from scheduler.rules import horizon_dates, region_holidays, travel_params

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
WARENDORF_FILE = "ennigerloh-everswinkel.scenario.json"
ROTTWEIL_FILE = "rottweil.scenario.json"


@pytest.fixture(scope="module")
def examples() -> dict[str, Scenario]:
    return example_scenarios()


@pytest.fixture(scope="module")
def variety(examples: dict[str, Scenario]) -> list[Scenario]:
    """Scenarios of every kind the generator makes, for the consistency checks."""
    return [
        *examples.values(),
        generate_scenario(households=30, seed=2, modes="single"),
        generate_scenario(households=120, seed=5, programme="rottweil", sites=5),
        generate_scenario(households=400, seed=11, sites=6, caseworkers=20),
        generate_scenario(households=7, seed=3, caseworkers=1),
    ]


# --------------------------------------------------------------------- determinism


@pytest.mark.parametrize("programme", ["warendorf", "rottweil"])
def test_same_seed_same_scenario(programme: str) -> None:
    first = generate_scenario(households=40, seed=3, programme=programme)
    second = generate_scenario(households=40, seed=3, programme=programme)
    assert scenario_json(first) == scenario_json(second)


@pytest.mark.parametrize("programme", ["warendorf", "rottweil"])
def test_different_seeds_differ(programme: str) -> None:
    texts = {
        scenario_json(generate_scenario(households=40, seed=seed, programme=programme))
        for seed in (1, 2, 3)
    }
    assert len(texts) == 3


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_example_files_are_what_the_generator_makes(
    filename: str, examples: dict[str, Scenario]
) -> None:
    text = (EXAMPLES_DIR / filename).read_text(encoding="utf-8")
    assert text == scenario_json(examples[filename]), (
        f"examples/{filename} drifted from scheduler.demo; refresh it with "
        "`.venv/bin/python -m scheduler.demo`"
    )


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_example_files_parse_and_round_trip(filename: str) -> None:
    text = (EXAMPLES_DIR / filename).read_text(encoding="utf-8")
    scenario = Scenario.model_validate_json(text)
    assert scenario_json(scenario) == text


def test_write_examples(tmp_path: Path) -> None:
    write_examples(tmp_path)
    for filename in EXAMPLES:
        written = (tmp_path / filename).read_text(encoding="utf-8")
        assert written == (EXAMPLES_DIR / filename).read_text(encoding="utf-8")
        assert json.loads(written)["format"] == "fieldwork-scenario/1"


# ---------------------------------------------------------------- the two examples


def test_warendorf_example(examples: dict[str, Scenario]) -> None:
    scenario = examples[WARENDORF_FILE]
    assert scenario.name == "ANNA Ennigerloh/Everswinkel, KW 49 2026"
    assert scenario.region == "DE-NW"
    assert scenario.timezone == "Europe/Berlin"
    assert (scenario.horizon.start, scenario.horizon.end) == (date(2026, 11, 30), date(2026, 12, 4))
    assert [(s.id, s.location.lat, s.location.lon) for s in scenario.sites] == [
        ("enn", 51.8367, 8.0311),
        ("evw", 51.9253, 7.8476),
    ]
    assert len(scenario.households) == 30
    assert len(scenario.caseworkers) == 5
    assert Counter(v.kind for v in scenario.vehicles) == {"e_car": 2, "e_bike": 4}
    assert scenario.travel is None
    assert scenario.emission_factors_g_per_km is None
    assert scenario.baseline_mode == "private_car"
    assert any("private_car" in c.modes for c in scenario.caseworkers)
    _assert_has_the_features(scenario)


def test_rottweil_example(examples: dict[str, Scenario]) -> None:
    scenario = examples[ROTTWEIL_FILE]
    assert scenario.name == "Akti(F) Landkreis Rottweil, KW 49 2026"
    assert scenario.region == "DE-BW"
    assert [s.id for s in scenario.sites] == ["rw", "sbg", "obd"]
    assert len(scenario.households) == 24
    assert len(scenario.caseworkers) == 4
    for household in scenario.households:  # all in Landkreis Rottweil and around
        assert 48.0 < household.location.lat < 48.45
        assert 8.2 < household.location.lon < 8.85
    _assert_has_the_features(scenario)


def _assert_has_the_features(scenario: Scenario) -> None:
    visits = scenario.visits
    assert len(visits) > len(scenario.households)  # some second visits
    assert sum(v.pinned is not None for v in visits) in (1, 2)
    assert any(v.window is not None for v in visits)
    assert any(h.required_skills for h in scenario.households)
    assert any(h.availability is None for h in scenario.households)
    absences = [a for c in scenario.caseworkers for a in c.absences]
    assert any(type(a.start) is date for a in absences)  # a whole day
    assert any(isinstance(a.start, datetime) for a in absences)  # part of a day
    assert any(c.max_visits_per_day for c in scenario.caseworkers)
    assert any(v.blocked for v in scenario.vehicles)
    modes = {m for c in scenario.caseworkers for m in c.modes}
    assert {"e_bike", "e_car", "walk"} <= modes
    assert any(set(c.modes) <= {"e_bike", "walk"} for c in scenario.caseworkers)
    assert sum(h.primary_caseworker is not None for h in scenario.households) >= 0.9 * len(
        scenario.households
    )


# ------------------------------------------------------------------- consistency


def test_references_resolve(variety: list[Scenario]) -> None:
    for scenario in variety:
        for items in (
            scenario.sites,
            scenario.caseworkers,
            scenario.vehicles,
            scenario.households,
            scenario.visits,
        ):
            ids = [item.id for item in items]
            assert len(ids) == len(set(ids)), scenario.name
        sites = {s.id for s in scenario.sites}
        caseworkers = {c.id: c for c in scenario.caseworkers}
        households = {h.id for h in scenario.households}
        assert {c.site for c in scenario.caseworkers} <= sites
        assert {v.site for v in scenario.vehicles} <= sites
        for household in scenario.households:
            assert household.primary_caseworker in {None, *caseworkers}
            assert set(household.allowed_caseworkers) <= set(caseworkers)
            assert household.primary_caseworker not in household.allowed_caseworkers
            if household.allowed_caseworkers:
                primary = caseworkers[str(household.primary_caseworker)]
                for colleague in household.allowed_caseworkers:
                    assert caseworkers[colleague].site == primary.site
        for visit in scenario.visits:
            assert visit.household in households
            assert visit.id.startswith(f"{visit.household}/")
            if visit.pinned is not None:
                assert visit.pinned.caseworker in caseworkers


def test_every_required_skill_is_held_by_an_allowed_caseworker(variety: list[Scenario]) -> None:
    for scenario in variety:
        for household in scenario.households:
            if not household.required_skills:
                continue
            allowed = _allowed(scenario, household)
            assert any(set(household.required_skills) <= set(c.skills) for c in allowed)
            assert set(household.required_skills) <= {"tr", "ar", "ru", "uk"}


def test_caseworkers_modes_have_vehicles_at_their_site(variety: list[Scenario]) -> None:
    for scenario in variety:
        for caseworker in scenario.caseworkers:
            for mode in caseworker.modes:
                if mode in MODES_WITH_VEHICLE:
                    assert any(
                        v.kind == mode and v.site == caseworker.site for v in scenario.vehicles
                    ), (scenario.name, caseworker.id, mode)


def test_vehicle_ranges_and_blockings(variety: list[Scenario]) -> None:
    for scenario in variety:
        for vehicle in scenario.vehicles:
            if vehicle.kind == "e_car":
                assert 180 <= vehicle.range_km <= 250
            elif vehicle.kind == "e_bike":
                assert 50 <= vehicle.range_km <= 80
            for blocked in vehicle.blocked:
                assert blocked.start < blocked.end
                assert blocked.reason
                assert scenario.horizon.start <= blocked.start.date() <= scenario.horizon.end


def test_visits_are_well_formed(variety: list[Scenario]) -> None:
    for scenario in variety:
        per_household = Counter(v.household for v in scenario.visits)
        assert set(per_household) == {h.id for h in scenario.households}
        assert set(per_household.values()) <= {1, 2}
        for visit in scenario.visits:
            assert visit.duration_minutes in (45, 60, 90, 120)
            assert 1 <= visit.priority <= 3
            if visit.window is not None:
                earliest = visit.window.earliest or scenario.horizon.start
                latest = visit.window.latest or scenario.horizon.end
                assert scenario.horizon.start <= earliest <= latest <= scenario.horizon.end


def test_pins_are_plausible(variety: list[Scenario]) -> None:
    for scenario in variety:
        caseworkers = {c.id: c for c in scenario.caseworkers}
        households = {h.id: h for h in scenario.households}
        for visit in scenario.visits:
            if visit.pinned is None:
                continue
            caseworker = caseworkers[visit.pinned.caseworker]
            household = households[visit.household]
            assert caseworker in _allowed(scenario, household)
            start = visit.pinned.start
            day = start.date()
            begin = start.hour * 60 + start.minute
            end = begin + visit.duration_minutes
            assert scenario.horizon.start <= day <= scenario.horizon.end
            windows = _free(caseworker, day)
            assert any(lo < begin and end < hi for lo, hi in windows)
            intervals = _availability(household, caseworker, day)
            assert any(lo <= begin and end <= hi for lo, hi in intervals)
            assert visit.window is None


def test_households_lie_near_their_caseworkers(variety: list[Scenario]) -> None:
    for scenario in variety:
        sites = {s.id: s for s in scenario.sites}
        caseworkers = {c.id: c for c in scenario.caseworkers}
        for household in scenario.households:
            if household.primary_caseworker is None:
                continue
            site = sites[caseworkers[household.primary_caseworker].site]
            km = geodesic(
                (household.location.lat, household.location.lon),
                (site.location.lat, site.location.lon),
            ).km
            assert km < 16.0, (scenario.name, household.id, km)


# --------------------------------------------------------------------- plannable


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_examples_are_plannable_but_not_trivially(
    filename: str, examples: dict[str, Scenario]
) -> None:
    """Each visit could be planned on its own, except the few that are impossible by design."""
    scenario = examples[filename]
    impossible = {v.id for v in scenario.visits if not _possible_alone(scenario, v)}
    households = {h.id: h for h in scenario.households}
    caseworkers = {c.id: c for c in scenario.caseworkers}
    off_hours = {
        v.id
        for v in scenario.visits
        if set((households[v.household].availability or {"mon": []}).keys()) <= {"sat", "sun"}
    }
    cyclist_only = {
        v.id
        for v in scenario.visits
        if (primary := households[v.household].primary_caseworker) is not None
        and set(caseworkers[primary].modes) <= {"e_bike", "walk"}
        and not households[v.household].allowed_caseworkers
        and _site_km(scenario, households[v.household], caseworkers[primary]) * 1.2 > 10.0
    }
    assert len(off_hours) == 1
    assert len(cyclist_only) == 1
    assert impossible == off_hours | cyclist_only


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_scenarios_are_mostly_plannable(seed: int) -> None:
    scenario = generate_scenario(
        households=60, seed=seed, programme=("warendorf", "rottweil")[seed % 2]
    )
    impossible = [v.id for v in scenario.visits if not _possible_alone(scenario, v)]
    assert 1 <= len(impossible) <= 0.1 * len(scenario.visits)


# ------------------------------------------------------------------- large / modes


def test_large_scenario() -> None:
    scenario = generate_scenario(households=3000, seed=1, sites=6, caseworkers=150)
    assert len(scenario.households) == 3000
    assert len(scenario.caseworkers) == 150
    assert [s.id for s in scenario.sites] == ["enn", "evw", "waf", "bec", "ahl", "oel"]
    assert scenario.name == "ANNA Kreis Warendorf, KW 49 2026"
    staff = Counter(c.site for c in scenario.caseworkers)
    assert set(staff.values()) == {25}
    fleet = Counter((v.site, v.kind) for v in scenario.vehicles)
    for site in staff:
        assert fleet[(site, "e_car")] == 7  # one per four caseworkers
        assert fleet[(site, "e_bike")] == 9  # one per three
    assert len(scenario.visits) > 3000
    assert 50 <= sum(v.pinned is not None for v in scenario.visits) <= 150
    assert sum(len(c.absences) for c in scenario.caseworkers) == 60
    households_per_site = Counter(
        next(c.site for c in scenario.caseworkers if c.id == h.primary_caseworker)
        for h in scenario.households
        if h.primary_caseworker
    )
    assert min(households_per_site.values()) > 300


def test_single_mode() -> None:
    mixed = generate_scenario(households=60, seed=4)
    single = generate_scenario(households=60, seed=4, modes="single")
    assert all(c.modes == ["e_car"] for c in single.caseworkers)
    assert {v.kind for v in single.vehicles} == {"e_car"}
    assert not any(v.blocked for v in single.vehicles)
    assert Counter(v.site for v in single.vehicles) == Counter(c.site for c in single.caseworkers)
    # Everything else as in a mixed scenario.
    assert len(single.visits) > len(single.households)
    assert any(v.pinned for v in single.visits)
    assert [c.working_hours for c in single.caseworkers] == [
        c.working_hours for c in mixed.caseworkers
    ]


def test_week_start_is_normalised_to_monday() -> None:
    scenario = generate_scenario(households=12, week_start=date(2027, 3, 10))
    assert (scenario.horizon.start, scenario.horizon.end) == (date(2027, 3, 8), date(2027, 3, 12))
    assert scenario.name.endswith("KW 10 2027")


def test_holidays_get_no_pins_or_blockings() -> None:
    # Christmas week 2026: Friday 25 December is a holiday in NRW.
    scenario = generate_scenario(households=200, seed=8, week_start=date(2026, 12, 21))
    holiday = date(2026, 12, 25)
    assert all(v.pinned is None or v.pinned.start.date() != holiday for v in scenario.visits)
    assert all(b.start.date() != holiday for v in scenario.vehicles for b in v.blocked)


def test_pseudonyms_only(variety: list[Scenario]) -> None:
    for scenario in variety:
        for caseworker in scenario.caseworkers:
            assert re.fullmatch(r"Fachkraft \d+", caseworker.name or ""), caseworker.name
        for household in scenario.households:
            assert re.fullmatch(r"H\d{4,}", household.id)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"programme": "muenster"},
        {"modes": "multi"},
        {"households": 0},
        {"sites": 0},
        {"sites": 25},
        {"caseworkers": 0},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate_scenario(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- helpers


def _allowed(scenario: Scenario, household: Household) -> list[Caseworker]:
    if household.primary_caseworker is None:
        return list(scenario.caseworkers)
    wanted = {household.primary_caseworker, *household.allowed_caseworkers}
    return [c for c in scenario.caseworkers if c.id in wanted]


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _free(caseworker: Caseworker, day: date) -> list[tuple[int, int]]:
    """The caseworker's working time on ``day`` after absences, in minutes."""
    hours = caseworker.working_hours.get(WEEKDAYS[day.weekday()])
    if hours is None:
        return []
    windows = [(_minutes(hours[0]), _minutes(hours[1]))]
    for absence in caseworker.absences:
        if isinstance(absence.start, datetime) and isinstance(absence.end, datetime):
            if absence.start.date() != day:
                continue
            cut = (_minutes(absence.start.time()), _minutes(absence.end.time()))
            windows = [
                part
                for lo, hi in windows
                for part in ((lo, min(hi, cut[0])), (max(lo, cut[1]), hi))
                if part[0] < part[1]
            ]
        elif absence.start <= day <= absence.end:
            return []
    return windows


def _availability(household: Household, caseworker: Caseworker, day: date) -> list[tuple[int, int]]:
    weekday = WEEKDAYS[day.weekday()]
    if household.availability is None:
        return [(0, 24 * 60)]
    return [(_minutes(a), _minutes(b)) for a, b in household.availability.get(weekday, [])]


def _site_km(scenario: Scenario, household: Household, caseworker: Caseworker) -> float:
    site = next(s for s in scenario.sites if s.id == caseworker.site)
    return float(
        geodesic(
            (household.location.lat, household.location.lon),
            (site.location.lat, site.location.lon),
        ).km
    )


def _possible_alone(scenario: Scenario, visit: Visit) -> bool:
    """Whether the visit fits some caseworker's day, ignoring all other visits."""
    params = travel_params(scenario)
    start, end = scenario.horizon.start, scenario.horizon.end
    holidays = region_holidays(scenario.region, range(start.year, end.year + 1))
    household = next(h for h in scenario.households if h.id == visit.household)
    for caseworker in _allowed(scenario, household):
        if visit.pinned is not None and visit.pinned.caseworker != caseworker.id:
            continue
        if not set(household.required_skills) <= set(caseworker.skills):
            continue
        geodesic_km = _site_km(scenario, household, caseworker)
        travel: int | None = None
        for mode in caseworker.modes:
            if mode in MODES_WITH_VEHICLE and not any(
                v.kind == mode and v.site == caseworker.site for v in scenario.vehicles
            ):
                continue
            km = params[mode].leg_km(geodesic_km)
            if params[mode].reaches(km):
                minutes = params[mode].leg_minutes(km)
                travel = minutes if travel is None else min(travel, minutes)
        if travel is None:
            continue
        for day in horizon_dates(scenario):
            if day in holidays:
                continue
            if visit.window is not None:
                if visit.window.earliest and day < visit.window.earliest:
                    continue
                if visit.window.latest and day > visit.window.latest:
                    continue
            if visit.pinned is not None and visit.pinned.start.date() != day:
                continue
            for f_lo, f_hi in _free(caseworker, day):
                for a_lo, a_hi in _availability(household, caseworker, day):
                    lo, hi = max(a_lo, f_lo + travel), min(a_hi, f_hi - travel)
                    if visit.pinned is not None:
                        pin = _minutes(visit.pinned.start.time())
                        if lo <= pin and pin + visit.duration_minutes <= hi:
                            return True
                    elif hi - lo >= visit.duration_minutes:
                        return True
    return False
