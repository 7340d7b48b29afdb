"""A small builder of planning scenarios for tests, plus the checks every planned test runs.

Scenarios are written as plain dicts (the file format's field names) and validated with
``Scenario.model_validate``, so a test reads like the JSON a coordinator would write::

    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike"])],
        households=[household("H1", east_km=2, availability={"tue": [["09:00", "12:00"]]})],
        visits=[visit("H1/1", "H1", duration=60)],
        vehicles=[vehicle("ebike-1", "e_bike")],
    )

Defaults: timezone Europe/Berlin, region DE-NW, horizon Mon 2026-11-30 .. Fri 2026-12-04,
one site ``enn`` (Ennigerloh office) at 51.8367, 8.0311; households are placed a given
number of km east/north of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.check import check_plan
from scheduler.format import Appointment, Plan, Scenario, Tour
from scheduler.planner import plan_scenario

Doc = dict[str, Any]

TIMEZONE = "Europe/Berlin"
ZONE = ZoneInfo(TIMEZONE)
SITE_ID = "enn"
SITE_LAT = 51.8367
SITE_LON = 8.0311
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE_HOURS = {day: ["08:00", "16:00"] for day in WEEKDAYS}

MON, TUE, WED, THU, FRI = (
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2026, 12, 2),
    date(2026, 12, 3),
    date(2026, 12, 4),
)

#: The travel model of the spec's example, explicit so test distances are predictable.
TRAVEL: Doc = {
    "e_car": {"speed_kmh": 45, "detour_factor": 1.3},
    "e_bike": {"speed_kmh": 17, "detour_factor": 1.2, "max_leg_km": 10},
    "walk": {"speed_kmh": 4.5, "detour_factor": 1.2, "max_leg_km": 2},
    "car": {"speed_kmh": 45, "detour_factor": 1.3},
    "private_car": {"speed_kmh": 45, "detour_factor": 1.3},
}
FACTORS: Doc = {"e_car": 58, "e_bike": 6, "walk": 0, "car": 222, "private_car": 210}


def offset(
    east_km: float = 0.0, north_km: float = 0.0, *, lat: float = SITE_LAT, lon: float = SITE_LON
) -> Doc:
    """A location about ``east_km`` east and ``north_km`` north of (lat, lon)."""
    return {
        "lat": round(lat + north_km / 111.2, 6),
        "lon": round(lon + east_km / (111.32 * math.cos(math.radians(lat))), 6),
    }


def site(site_id: str = SITE_ID, *, east_km: float = 0.0, north_km: float = 0.0) -> Doc:
    return {"id": site_id, "name": f"Office {site_id}", "location": offset(east_km, north_km)}


def caseworker(
    caseworker_id: str = "cw-a",
    *,
    site: str = SITE_ID,
    hours: Mapping[str, Sequence[str]] | None = None,
    modes: Sequence[str] = ("e_bike",),
    skills: Sequence[str] = (),
    absences: Iterable[tuple[str, str]] = (),
    cap: int | None = None,
) -> Doc:
    doc: Doc = {
        "id": caseworker_id,
        "site": site,
        "working_hours": {k: list(v) for k, v in (hours or OFFICE_HOURS).items()},
        "modes": list(modes),
        "skills": list(skills),
        "absences": [{"start": start, "end": end} for start, end in absences],
    }
    if cap is not None:
        doc["max_visits_per_day"] = cap
    return doc


def household(
    household_id: str,
    *,
    east_km: float = 2.0,
    north_km: float = 0.0,
    availability: Mapping[str, Sequence[Sequence[str]]] | None = None,
    primary: str | None = None,
    allowed: Sequence[str] = (),
    skills: Sequence[str] = (),
) -> Doc:
    doc: Doc = {
        "id": household_id,
        "location": offset(east_km, north_km),
        "allowed_caseworkers": list(allowed),
        "required_skills": list(skills),
    }
    if availability is not None:
        doc["availability"] = {k: [list(i) for i in v] for k, v in availability.items()}
    if primary is not None:
        doc["primary_caseworker"] = primary
    return doc


def visit(
    visit_id: str,
    household_id: str,
    *,
    duration: int = 60,
    priority: int = 1,
    earliest: str | None = None,
    latest: str | None = None,
    pin: tuple[str, str] | None = None,
) -> Doc:
    doc: Doc = {
        "id": visit_id,
        "household": household_id,
        "duration_minutes": duration,
        "priority": priority,
    }
    if earliest is not None or latest is not None:
        doc["window"] = {
            key: value
            for key, value in (("earliest", earliest), ("latest", latest))
            if value is not None
        }
    if pin is not None:
        doc["pinned"] = {"caseworker": pin[0], "start": pin[1]}
    return doc


def vehicle(
    vehicle_id: str,
    kind: str,
    *,
    site: str = SITE_ID,
    range_km: float = 200.0,
    blocked: Iterable[tuple[str, str]] = (),
) -> Doc:
    return {
        "id": vehicle_id,
        "kind": kind,
        "site": site,
        "range_km": range_km,
        "blocked": [{"start": start, "end": end} for start, end in blocked],
    }


def build(
    *,
    caseworkers: Sequence[Doc] | None = None,
    households: Sequence[Doc] | None = None,
    visits: Sequence[Doc] | None = None,
    vehicles: Sequence[Doc] | None = None,
    **overrides: Any,
) -> Scenario:
    """A validated scenario; by default one e-bike caseworker, one household, one visit."""
    households = list(households) if households is not None else [household("H1")]
    doc: Doc = {
        "format": "fieldwork-scenario/1",
        "name": "test scenario",
        "timezone": TIMEZONE,
        "region": "DE-NW",
        "horizon": {"start": MON.isoformat(), "end": FRI.isoformat()},
        "sites": [site()],
        "caseworkers": list(caseworkers) if caseworkers is not None else [caseworker()],
        "vehicles": list(vehicles) if vehicles is not None else [vehicle("ebike-1", "e_bike")],
        "households": households,
        "visits": (
            list(visits)
            if visits is not None
            else [visit(f"{h['id']}/1", h["id"]) for h in households]
        ),
        "travel": TRAVEL,
        "emission_factors_g_per_km": FACTORS,
        "baseline_mode": "private_car",
    }
    doc.update(overrides)
    return Scenario.model_validate(doc)


# --------------------------------------------------------------------------- planning


def with_visits(scenario: Scenario, visit_ids: Iterable[str]) -> Scenario:
    """The same scenario with only the given visits."""
    keep = set(visit_ids)
    return scenario.model_copy(update={"visits": [v for v in scenario.visits if v.id in keep]})


def assert_plan_ok(scenario: Scenario, plan: Plan, *, time_limit_s: float = 2.0) -> None:
    """The promises every plan keeps, whatever the test is about.

    The independent checker finds nothing; every visit appears exactly once; and a visit
    reported as ``capacity`` really fits when it is the only visit of the week.
    """
    violations = check_plan(scenario, plan)
    assert violations == [], "\n".join(f"rule {v.rule} {v.path}: {v.message}" for v in violations)
    seen = Counter([a.visit for a in plan.appointments] + [u.visit for u in plan.unassigned])
    assert seen == Counter(v.id for v in scenario.visits)
    for entry in plan.unassigned:
        if entry.reason != "capacity":
            continue
        alone = with_visits(scenario, [entry.visit])
        alone_plan = plan_scenario(alone, time_limit_s=time_limit_s)
        assert [a.visit for a in alone_plan.appointments] == [entry.visit], (
            f"visit {entry.visit} is reported as capacity but cannot be planned alone: "
            f"{[(u.reason, u.detail) for u in alone_plan.unassigned]}"
        )


def plan_ok(scenario: Scenario, *, time_limit_s: float = 2.0, seed: int = 0) -> Plan:
    """Plan ``scenario`` and assert the promises every plan keeps."""
    plan = plan_scenario(scenario, time_limit_s=time_limit_s, seed=seed)
    assert_plan_ok(scenario, plan, time_limit_s=time_limit_s)
    return plan


# ---------------------------------------------------------------------- plan lookups


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


def at(day: date, hhmm: str) -> datetime:
    """An aware local datetime in the scenario's zone."""
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=ZONE)


def appointment(plan: Plan, visit_id: str) -> Appointment:
    found = [a for a in plan.appointments if a.visit == visit_id]
    unassigned = [(u.visit, u.reason, u.detail) for u in plan.unassigned]
    assert len(found) == 1, f"visit {visit_id} is not planned: {unassigned}"
    return found[0]


def tour(plan: Plan, tour_id: str) -> Tour:
    found = [t for t in plan.tours if t.id == tour_id]
    assert len(found) == 1
    return found[0]


def tour_of(plan: Plan, visit_id: str) -> Tour:
    return tour(plan, appointment(plan, visit_id).tour)


def reason(plan: Plan, visit_id: str) -> str | None:
    """The unassigned reason of a visit, None when it is planned."""
    found = [u.reason for u in plan.unassigned if u.visit == visit_id]
    return found[0] if found else None


def planned(plan: Plan) -> set[str]:
    return {a.visit for a in plan.appointments}


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
