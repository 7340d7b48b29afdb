"""Property test: whatever small valid scenario comes in, the plan keeps its promises.

Hypothesis draws scenarios of 1-2 offices, 1-4 caseworkers (random hours, absences,
modes, skills, caps), 0-3 vehicles (blocked intervals, ranges), 1-8 households (random
availability, primary and allowed caseworkers, skills) and 1-10 visits (durations,
priorities, windows, now and then a pin). For each: the independent checker finds no
violation, every visit appears exactly once, and a visit reported as ``capacity`` is
planned when it is the only visit of the week.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import assert_plan_ok, build, caseworker, household, site, vehicle, visit

from scheduler.format import Scenario
from scheduler.planner import plan_scenario

ROOT = Path(__file__).resolve().parent.parent
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODES = ("e_car", "e_bike", "walk", "car", "private_car")
KINDS = ("e_car", "e_bike", "car")
SKILLS = ("tr", "ar", "ru")
#: Horizons: a plain week, a week with its weekend, Christmas (holiday on Friday the
#: 25th), and the week of the October DST change (Sunday 2026-10-25).
HORIZONS = (
    (date(2026, 11, 30), date(2026, 12, 4)),
    (date(2026, 11, 30), date(2026, 12, 6)),
    (date(2026, 12, 21), date(2026, 12, 25)),
    (date(2026, 10, 22), date(2026, 10, 28)),
)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local(day: date, minutes: int) -> str:
    return f"{day.isoformat()}T{hhmm(minutes)}"


@st.composite
def quarter_interval(
    draw: st.DrawFn, earliest: int, latest: int, shortest: int, longest: int
) -> tuple[int, int]:
    """(start, end) minutes of day on quarter hours, earliest <= start < end <= latest."""
    start = draw(st.integers(earliest // 15, (latest - shortest) // 15)) * 15
    length = draw(st.integers(shortest // 15, longest // 15)) * 15
    return start, min(start + length, latest)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    first, last = draw(st.sampled_from(HORIZONS))
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day = st.sampled_from(dates)

    sites = [site("enn")]
    if draw(st.booleans()):
        sites.append(site("evw", east_km=draw(st.floats(-12, 12)), north_km=draw(st.floats(3, 12))))
    site_ids = [s["id"] for s in sites]
    site_at = {s["id"]: s["location"] for s in sites}

    caseworkers = []
    for number in range(draw(st.integers(1, 4))):
        days = draw(st.lists(st.sampled_from(ALL_DAYS), min_size=1, max_size=6, unique=True))
        hours = {}
        for weekday in days:
            start, end = draw(quarter_interval(6 * 60, 20 * 60, 60, 10 * 60))
            hours[weekday] = (hhmm(start), hhmm(end))
        absences = []
        for _ in range(draw(st.integers(0, 2))):
            begin = draw(day)
            if draw(st.booleans()):
                absences.append(
                    (
                        begin.isoformat(),
                        (begin + timedelta(days=draw(st.integers(0, 1)))).isoformat(),
                    )
                )
            else:
                start, end = draw(quarter_interval(7 * 60, 18 * 60, 30, 5 * 60))
                absences.append((local(begin, start), local(begin, end)))
        caseworkers.append(
            caseworker(
                f"cw{number}",
                site=draw(st.sampled_from(site_ids)),
                hours=hours,
                modes=draw(st.lists(st.sampled_from(MODES), min_size=1, max_size=3, unique=True)),
                skills=draw(st.lists(st.sampled_from(SKILLS), max_size=2, unique=True)),
                absences=absences,
                cap=draw(st.none() | st.integers(1, 4)),
            )
        )
    caseworker_ids = [c["id"] for c in caseworkers]

    vehicles = []
    for number in range(draw(st.integers(0, 3))):
        blocked = []
        for _ in range(draw(st.integers(0, 2))):
            begin = draw(day)
            start, end = draw(quarter_interval(7 * 60, 19 * 60, 30, 6 * 60))
            blocked.append((local(begin, start), local(begin, end)))
        vehicles.append(
            vehicle(
                f"v{number}",
                draw(st.sampled_from(KINDS)),
                site=draw(st.sampled_from(site_ids)),
                range_km=draw(st.sampled_from([4.0, 8.0, 15.0, 30.0, 60.0, 150.0])),
                blocked=blocked,
            )
        )

    households = []
    for number in range(draw(st.integers(1, 8))):
        availability: dict[str, list[tuple[str, str]]] | None = None
        if draw(st.integers(0, 3)) > 0:
            availability = {}
            for weekday in draw(
                st.lists(st.sampled_from(ALL_DAYS), min_size=1, max_size=4, unique=True)
            ):
                first_start, first_end = draw(quarter_interval(7 * 60, 14 * 60, 30, 5 * 60))
                intervals = [(hhmm(first_start), hhmm(first_end))]
                if draw(st.booleans()) and first_end + 30 < 20 * 60:
                    start, end = draw(quarter_interval(first_end + 15, 20 * 60, 15, 4 * 60))
                    intervals.append((hhmm(start), hhmm(end)))
                availability[weekday] = intervals
        primary = draw(st.none() | st.sampled_from(caseworker_ids))
        allowed = draw(st.lists(st.sampled_from(caseworker_ids), max_size=2, unique=True))
        home = site_at[draw(st.sampled_from(site_ids))]
        doc = household(
            f"H{number}",
            east_km=draw(st.floats(-8, 8)),
            north_km=draw(st.floats(-8, 8)),
            availability=availability,
            primary=primary,
            allowed=[c for c in allowed if c != primary],
            skills=draw(st.lists(st.sampled_from(SKILLS), max_size=1)),
        )
        # Place the household around the office it was drawn for.
        doc["location"]["lat"] += home["lat"] - sites[0]["location"]["lat"]
        doc["location"]["lon"] += home["lon"] - sites[0]["location"]["lon"]
        households.append(doc)
    household_ids = [h["id"] for h in households]

    visits = []
    for number in range(draw(st.integers(1, 10))):
        earliest = latest = None
        if draw(st.integers(0, 3)) == 0:
            a, b = sorted([draw(day), draw(day)])
            earliest = a.isoformat() if draw(st.booleans()) else None
            latest = b.isoformat() if draw(st.booleans()) or earliest is None else None
        pin = None
        if draw(st.integers(0, 7)) == 0:
            minute = draw(st.integers(7 * 4, 17 * 4)) * 15
            pin = (draw(st.sampled_from(caseworker_ids)), local(draw(day), minute))
        visits.append(
            visit(
                f"V{number}",
                draw(st.sampled_from(household_ids)),
                duration=draw(st.integers(1, 8)) * 15,
                priority=draw(st.integers(1, 3)),
                earliest=earliest,
                latest=latest,
                pin=pin,
            )
        )

    return build(
        horizon={"start": first.isoformat(), "end": last.isoformat()},
        sites=sites,
        caseworkers=caseworkers,
        households=households,
        visits=visits,
        vehicles=vehicles,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_random_scenarios_keep_the_promises(scenario: Scenario) -> None:
    plan = plan_scenario(scenario, time_limit_s=1.0)
    assert_plan_ok(scenario, plan, time_limit_s=1.0)


def example_files() -> list[Path]:
    return sorted((ROOT / "examples").glob("*.scenario.json")) + sorted(
        (ROOT / "tests" / "data" / "spec").glob("*.scenario.json")
    )


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_scenarios_keep_the_promises(path: Path) -> None:
    document: Any = json.loads(path.read_text("utf-8"))
    scenario = Scenario.model_validate(document)
    plan = plan_scenario(scenario, time_limit_s=2.0)
    assert_plan_ok(scenario, plan, time_limit_s=2.0)
