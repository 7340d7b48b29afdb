"""One test per planning rule, each on a small scenario where the rule binds.

Every plan goes through ``plan_ok``: the independent checker finds no violation, every
visit appears exactly once, and a visit reported as ``capacity`` is planned when it is
the only visit of the week.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from geopy.distance import geodesic
from scenarios import (
    FRI,
    MON,
    THU,
    TUE,
    WED,
    appointment,
    assert_plan_ok,
    at,
    build,
    caseworker,
    household,
    local,
    overlaps,
    plan_ok,
    planned,
    reason,
    site,
    tour_of,
    vehicle,
    visit,
)

from scheduler.format import Scenario, dump_document
from scheduler.planner import plan_scenario

LIMIT = 2.0
#: For tests whose answer depends on the search running to its own stop (by step count,
#: well under a second here): a limit a loaded 2-core CI machine cannot reach first.
UNHURRIED = 30.0


def local_date(moment: datetime) -> date:
    return local(moment).date()


def inside(appt_start: datetime, appt_end: datetime, day: date, start: str, end: str) -> bool:
    return at(day, start) <= appt_start and appt_end <= at(day, end)


# ---------------------------------------------------------------------- working hours


def test_working_hours_bind_appointments_and_tours() -> None:
    scenario = build(
        caseworkers=[
            caseworker("cw-a", hours={"mon": ["08:00", "16:00"], "tue": ["08:00", "16:00"]})
        ],
        households=[
            # Only in the evening: after the caseworker's hours every day.
            household(
                "LATE", availability={"mon": [["17:00", "19:00"]], "tue": [["16:00", "20:00"]]}
            ),
            # Early morning: only 08:00+travel .. 09:30 is inside the hours.
            household("EARLY", availability={"tue": [["06:00", "09:30"]]}),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert reason(plan, "LATE/1") == "no_time_window"
    early = appointment(plan, "EARLY/1")
    assert local_date(early.start) == TUE
    assert at(TUE, "08:00") < early.start
    assert early.end <= at(TUE, "09:30")
    trip = tour_of(plan, "EARLY/1")
    assert at(TUE, "08:00") <= trip.depart
    assert trip.return_ <= at(TUE, "16:00")


# -------------------------------------------------------------------------- absences


def test_whole_day_absence() -> None:
    scenario = build(
        caseworkers=[
            caseworker(
                "cw-a",
                absences=[("2026-12-02", "2026-12-02"), ("2026-11-30", "2026-12-01")],
            )
        ],
        households=[
            household("WED", availability={"wed": [["09:00", "12:00"]]}),
            household(
                "MON-TUE", availability={"mon": [["09:00", "12:00"]], "tue": [["09:00", "12:00"]]}
            ),
            household(
                "TUE-WED-THU", availability={d: [["09:00", "12:00"]] for d in ("tue", "wed", "thu")}
            ),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert reason(plan, "WED/1") == "caseworker_absent"
    # An absence given as a date range includes its last date.
    assert reason(plan, "MON-TUE/1") == "caseworker_absent"
    assert local_date(appointment(plan, "TUE-WED-THU/1").start) == THU
    for trip in plan.tours:
        assert trip.date not in {MON, TUE, WED}


def test_partial_day_absence_given_as_local_datetimes() -> None:
    absent = (at(TUE, "10:00"), at(TUE, "12:00"))
    scenario = build(
        caseworkers=[caseworker("cw-a", absences=[("2026-12-01T10:00", "2026-12-01T12:00")])],
        households=[
            # 09:00-10:00 would end the tour after 10:00; only after the absence fits.
            household("A", east_km=2, availability={"tue": [["09:00", "16:00"]]}),
            household("B", north_km=2, availability={"tue": [["09:00", "16:00"]]}),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert planned(plan) == {"A/1", "B/1"}
    for trip in plan.tours:
        assert not overlaps((trip.depart, trip.return_), absent), trip.id
    for appt in plan.appointments:
        assert not overlaps((appt.start, appt.end), absent)
    # A visit from 09:00 would bring the caseworker back after 10:00: both lie after it.
    assert all(a.start >= absent[1] for a in plan.appointments)


# ----------------------------------------------------------------------- public holiday


def christmas_week(**overrides: object) -> Scenario:
    return build(horizon={"start": "2026-12-21", "end": "2026-12-25"}, **overrides)


def test_public_holiday_has_no_appointments() -> None:
    christmas = date(2026, 12, 25)
    assert christmas.weekday() == 4  # a Friday
    households = [household(f"H{i}", east_km=1 + i, availability=None) for i in range(4)]
    households.append(
        household("FRI", availability={"thu": [["09:00", "12:00"]], "fri": [["09:00", "16:00"]]})
    )
    visits = [visit(f"H{i}/1", f"H{i}", earliest="2026-12-24") for i in range(4)]
    visits.append(visit("FRI/1", "FRI"))
    visits.append(visit("FRI/2", "FRI", earliest="2026-12-25", latest="2026-12-25"))
    scenario = christmas_week(
        caseworkers=[caseworker("cw-a"), caseworker("cw-b")],
        households=households,
        visits=visits,
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    for appt in plan.appointments:
        assert local_date(appt.start) != christmas, appt.visit
    for trip in plan.tours:
        assert trip.date != christmas
    # The window leaves only the holiday.
    assert reason(plan, "FRI/2") == "no_time_window"
    assert local_date(appointment(plan, "FRI/1").start) == date(2026, 12, 24)
    # Windows Thu 24th .. end: all on the 24th, since the 25th is a holiday.
    for i in range(4):
        assert local_date(appointment(plan, f"H{i}/1").start) == date(2026, 12, 24)


def test_visit_available_only_on_holiday_has_no_time_window() -> None:
    scenario = christmas_week(
        households=[household("H1", availability={"fri": [["09:00", "16:00"]]})]
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert reason(plan, "H1/1") == "no_time_window"
    assert plan.tours == []


# ------------------------------------------------------------------ household availability


def test_appointment_lies_wholly_inside_one_availability_interval() -> None:
    scenario = build(
        households=[
            # The first interval is too short for 90 min; 08:30-10:00 would span the gap.
            household(
                "SPLIT",
                east_km=2,
                availability={"tue": [["08:00", "09:00"], ["09:30", "10:00"], ["13:00", "15:00"]]},
            ),
            household(
                "TWO", north_km=2, availability={"mon": [["09:00", "10:00"], ["11:00", "12:00"]]}
            ),
        ],
        visits=[visit("SPLIT/1", "SPLIT", duration=90), visit("TWO/1", "TWO", duration=60)],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    split = appointment(plan, "SPLIT/1")
    assert local_date(split.start) == TUE
    assert inside(split.start, split.end, TUE, "13:00", "15:00")
    two = appointment(plan, "TWO/1")
    assert local_date(two.start) == MON
    assert inside(two.start, two.end, MON, "09:00", "10:00") or inside(
        two.start, two.end, MON, "11:00", "12:00"
    )


# ------------------------------------------------------------------------ date window


def test_visit_date_window() -> None:
    scenario = build(
        households=[household("H1"), household("H2", north_km=2), household("H3", east_km=-2)],
        visits=[
            visit("H1/1", "H1", earliest="2026-12-03", latest="2026-12-03"),
            visit("H2/1", "H2", earliest="2026-12-02"),
            visit("H3/1", "H3", earliest="2026-12-07"),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert local_date(appointment(plan, "H1/1").start) == THU
    assert local_date(appointment(plan, "H2/1").start) in {WED, THU, FRI}
    assert reason(plan, "H3/1") == "no_time_window"


# ------------------------------------------------------------------------- continuity


def test_continuity_primary_preferred() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a"), caseworker("cw-b")],
        households=[
            household("H1", primary="cw-b", allowed=["cw-a"]),
            household("H2", north_km=2, primary="cw-a", allowed=["cw-b"]),
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert appointment(plan, "H1/1").caseworker == "cw-b"
    assert appointment(plan, "H2/1").caseworker == "cw-a"
    assert plan.kpis.continuity_breaks == 0


def test_continuity_allowed_caseworker_when_primary_absent() -> None:
    scenario = build(
        caseworkers=[
            caseworker("cw-a"),
            caseworker("cw-b", absences=[("2026-11-30", "2026-12-04")]),
            caseworker("cw-c"),
        ],
        households=[household("H1", primary="cw-b", allowed=["cw-a"])],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert appointment(plan, "H1/1").caseworker == "cw-a"
    assert plan.kpis.continuity_breaks == 1


def test_continuity_nobody_else_ever() -> None:
    scenario = build(
        caseworkers=[
            caseworker("cw-a", absences=[("2026-11-30", "2026-12-04")]),
            caseworker("cw-b", absences=[("2026-11-30", "2026-12-04")]),
            caseworker("cw-c", skills=["tr"]),
        ],
        households=[
            household("ABSENT", primary="cw-b", allowed=["cw-a"]),
            # The allowed caseworkers lack Turkish; cw-c has it but may not visit.
            household("SKILL", north_km=2, primary="cw-a", allowed=["cw-b"], skills=["tr"]),
            household("ONLY-A", east_km=-2, allowed=["cw-a"]),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert reason(plan, "ABSENT/1") == "caseworker_absent"
    assert reason(plan, "SKILL/1") == "no_caseworker"
    assert reason(plan, "ONLY-A/1") == "caseworker_absent"
    assert plan.appointments == []


# ----------------------------------------------------------------------------- skills


def test_required_skills() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a", skills=["ar"]), caseworker("cw-b", skills=["tr", "ar"])],
        households=[
            household("TR", skills=["tr"]),
            household("PL", north_km=2, skills=["pl"]),
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert appointment(plan, "TR/1").caseworker == "cw-b"
    assert reason(plan, "PL/1") == "no_caseworker"


# ------------------------------------------------------------------- max visits per day


def test_max_visits_per_day_only_one_day() -> None:
    households = [household(f"H{i}", east_km=0.5 + 0.3 * i, north_km=0.4 * i) for i in range(5)]
    visits = [
        visit(f"H{i}/1", f"H{i}", duration=30, earliest="2026-12-01", latest="2026-12-01")
        for i in range(5)
    ]
    scenario = build(caseworkers=[caseworker("cw-a", cap=2)], households=households, visits=visits)
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert len(plan.appointments) == 2
    assert all(local_date(a.start) == TUE for a in plan.appointments)
    assert sorted(u.reason for u in plan.unassigned) == ["capacity"] * 3


def test_max_visits_per_day_spreads_over_days() -> None:
    households = [
        household(
            f"H{i}",
            east_km=0.5 + 0.3 * i,
            north_km=0.4 * i,
            availability={
                "tue": [["08:00", "16:00"]],
                "wed": [["08:00", "16:00"]],
                "thu": [["08:00", "16:00"]],
            },
        )
        for i in range(5)
    ]
    visits = [visit(f"H{i}/1", f"H{i}", duration=30) for i in range(5)]
    scenario = build(caseworkers=[caseworker("cw-a", cap=2)], households=households, visits=visits)
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert len(plan.appointments) == 5
    per_day: dict[date, int] = defaultdict(int)
    for appt in plan.appointments:
        per_day[local_date(appt.start)] += 1
    assert max(per_day.values()) <= 2


def test_max_visits_per_day_across_two_tours() -> None:
    # The e-bike is blocked at noon, so the day has a morning and an afternoon tour;
    # the cap counts the visits of both.
    scenario = build(
        caseworkers=[caseworker("cw-a", cap=2)],
        households=[
            household("A", east_km=1, availability={"tue": [["09:00", "10:30"]]}),
            household("B", east_km=1.3, availability={"tue": [["09:00", "10:30"]]}),
            household("C", north_km=1, availability={"tue": [["14:00", "15:00"]]}),
        ],
        visits=[
            visit("A/1", "A", duration=30, priority=2),
            visit("B/1", "B", duration=30, priority=1),
            visit("C/1", "C", duration=30, priority=3),
        ],
        vehicles=[vehicle("ebike-1", "e_bike", blocked=[("2026-12-01T11:00", "2026-12-01T13:00")])],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert planned(plan) == {"A/1", "C/1"}
    assert reason(plan, "B/1") == "capacity"


# ------------------------------------------------------------------------------- pins


def test_pins_kept_exactly() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a"), caseworker("cw-b")],
        households=[
            household("H1", primary="cw-a", allowed=["cw-b"]),
            household("H2", north_km=2),
        ],
        visits=[
            # Pinned to the non-primary caseworker: the pin wins over continuity.
            visit("H1/1", "H1", pin=("cw-b", "2026-12-01T10:07")),
            visit("H2/1", "H2", duration=45, pin=("cw-a", "2026-12-03T14:30")),
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    first = appointment(plan, "H1/1")
    assert (first.caseworker, first.start) == ("cw-b", at(TUE, "10:07"))
    assert first.start.isoformat() == "2026-12-01T10:07:00+01:00"
    second = appointment(plan, "H2/1")
    assert (second.caseworker, second.start, second.end) == (
        "cw-a",
        at(THU, "14:30"),
        at(THU, "15:15"),
    )


def test_infeasible_pins() -> None:
    scenario = build(
        caseworkers=[
            caseworker("cw-a"),
            caseworker("cw-b", absences=[("2026-12-02", "2026-12-02")]),
        ],
        households=[
            household("H1"),
            household("H2", north_km=2, primary="cw-a"),
            household("H3", east_km=-2, availability={"mon": [["09:00", "12:00"]]}),
            household("H4", north_km=-2),
            household("H5", east_km=2, availability={"tue": [["10:00", "10:30"]]}),
        ],
        visits=[
            visit("H1/1", "H1", pin=("cw-a", "2026-12-01T17:00")),  # after hours
            # Regression: a pin at the start of a window shorter than the visit was kept.
            visit("H5/1", "H5", duration=45, pin=("cw-a", "2026-12-01T10:00")),
            visit("H2/1", "H2", pin=("cw-b", "2026-12-01T10:00")),  # not allowed
            visit("H3/1", "H3", pin=("cw-a", "2026-12-01T10:00")),  # household not available
            visit("H4/1", "H4", pin=("cw-b", "2026-12-02T10:00")),  # caseworker absent
            visit("H1/2", "H1", pin=("cw-a", "2026-12-25T10:00")),  # outside the horizon
            visit("H4/2", "H4", pin=("cw-a", "2026-12-01T15:00")),  # return after hours
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert plan.appointments == []
    assert {u.visit: u.reason for u in plan.unassigned} == {
        v: "pin_infeasible" for v in ("H1/1", "H2/1", "H3/1", "H4/1", "H1/2", "H4/2", "H5/1")
    }


def test_conflicting_pins_keep_one_and_report_capacity() -> None:
    # Both pins fit alone, not together: the same caseworker at the same time.
    scenario = build(
        households=[household("H1"), household("H2", north_km=2)],
        visits=[
            visit("H1/1", "H1", pin=("cw-a", "2026-12-01T10:00")),
            visit("H2/1", "H2", priority=3, pin=("cw-a", "2026-12-01T10:30")),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    kept = appointment(plan, "H2/1")
    assert (kept.caseworker, kept.start) == ("cw-a", at(TUE, "10:30"))
    assert reason(plan, "H1/1") == "capacity"


# ------------------------------------------------------------- one visit per household/date


def test_visits_of_one_household_fall_on_different_dates() -> None:
    scenario = build(
        households=[
            household(
                "TWO", availability={"mon": [["08:00", "16:00"]], "tue": [["08:00", "16:00"]]}
            ),
            household(
                "THREE",
                north_km=2,
                availability={"wed": [["08:00", "16:00"]], "thu": [["08:00", "16:00"]]},
            ),
        ],
        visits=[
            visit("TWO/1", "TWO", duration=30),
            visit("TWO/2", "TWO", duration=30),
            visit("THREE/1", "THREE", duration=30),
            visit("THREE/2", "THREE", duration=30),
            visit("THREE/3", "THREE", duration=30),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    two = {local_date(appointment(plan, v).start) for v in ("TWO/1", "TWO/2")}
    assert two == {MON, TUE}
    three = [a for a in plan.appointments if a.household == "THREE"]
    assert len(three) == 2
    assert {local_date(a.start) for a in three} == {WED, THU}
    assert [u.reason for u in plan.unassigned] == ["capacity"]


# ------------------------------------------------------- several tours per caseworker/day


def test_two_tours_around_a_vehicle_block() -> None:
    block = (at(TUE, "11:00"), at(TUE, "13:00"))
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike"])],
        households=[
            household("AM", east_km=2, availability={"tue": [["09:00", "10:00"]]}),
            household("PM", north_km=2, availability={"tue": [["14:00", "15:00"]]}),
        ],
        vehicles=[vehicle("ebike-1", "e_bike", blocked=[("2026-12-01T11:00", "2026-12-01T13:00")])],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert planned(plan) == {"AM/1", "PM/1"}
    assert len(plan.tours) == 2
    assert {t.vehicle for t in plan.tours} == {"ebike-1"}
    assert len(plan.vehicle_bookings) == 2
    for booking in plan.vehicle_bookings:
        assert not overlaps((booking.start, booking.end), block)
    assert tour_of(plan, "AM/1").id != tour_of(plan, "PM/1").id


def test_walk_in_the_morning_and_e_bike_in_the_afternoon() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["walk", "e_bike"])],
        households=[
            # 1 km: walkable (1.2 km leg, walk max 2 km).
            household("NEAR", east_km=1, availability={"tue": [["09:00", "10:00"]]}),
            # 4 km: beyond walking distance.
            household("FAR", north_km=4, availability={"tue": [["14:00", "15:00"]]}),
        ],
        vehicles=[vehicle("ebike-1", "e_bike", blocked=[("2026-12-01T07:00", "2026-12-01T12:00")])],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    near, far = tour_of(plan, "NEAR/1"), tour_of(plan, "FAR/1")
    assert near.id != far.id
    assert (near.mode, near.vehicle) == ("walk", None)
    assert (far.mode, far.vehicle) == ("e_bike", "ebike-1")
    assert far.depart >= at(TUE, "12:00")
    assert near.return_ <= far.depart


# --------------------------------------------------------------------------- vehicles


def test_shared_vehicle_one_tour_at_a_time() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_car"]), caseworker("cw-b", modes=["e_car"])],
        households=[
            household("A", east_km=3, primary="cw-a", availability={"tue": [["08:00", "13:00"]]}),
            household("B", north_km=3, primary="cw-b", availability={"tue": [["08:00", "13:00"]]}),
        ],
        visits=[visit("A/1", "A", duration=90), visit("B/1", "B", duration=90)],
        vehicles=[vehicle("ecar-1", "e_car")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert appointment(plan, "A/1").caseworker == "cw-a"
    assert appointment(plan, "B/1").caseworker == "cw-b"
    bookings = plan.vehicle_bookings
    assert [b.vehicle for b in bookings] == ["ecar-1", "ecar-1"]
    assert not overlaps((bookings[0].start, bookings[0].end), (bookings[1].start, bookings[1].end))
    tours = sorted(plan.tours, key=lambda t: t.depart)
    assert tours[0].return_ <= tours[1].depart


def test_vehicle_blocked_interval() -> None:
    block = (at(TUE, "08:00"), at(TUE, "12:00"))
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_car"])],
        households=[
            household("H1", availability={"tue": [["09:00", "15:00"]]}),
            household("H2", north_km=2, availability={"tue": [["09:00", "11:00"]]}),
        ],
        vehicles=[vehicle("ecar-1", "e_car", blocked=[("2026-12-01T08:00", "2026-12-01T12:00")])],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    h1 = tour_of(plan, "H1/1")
    assert h1.depart >= block[1]
    for booking in plan.vehicle_bookings:
        assert not overlaps((booking.start, booking.end), block)
    assert reason(plan, "H2/1") == "no_vehicle"


def test_vehicle_range_per_date_moves_second_tour_to_another_day() -> None:
    # Each trip is ~15.6 km (6 km x 1.3, out and back); range 20 km allows one per date.
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_car"])],
        households=[
            household(
                "EAST",
                east_km=6,
                availability={"mon": [["08:00", "16:00"]], "tue": [["08:00", "16:00"]]},
            ),
            household(
                "WEST",
                east_km=-6,
                availability={"mon": [["08:00", "16:00"]], "tue": [["08:00", "16:00"]]},
            ),
        ],
        vehicles=[vehicle("ecar-1", "e_car", range_km=20)],
    )
    plan = plan_ok(scenario, time_limit_s=UNHURRIED)

    assert planned(plan) == {"EAST/1", "WEST/1"}
    assert {t.date for t in plan.tours} == {MON, TUE}
    for trip in plan.tours:
        assert trip.distance_km <= 20


def test_vehicle_range_per_date_moves_second_tour_to_another_mode() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_car", "private_car"])],
        households=[
            household("EAST", east_km=6, availability={"mon": [["08:00", "16:00"]]}),
            household("WEST", east_km=-6, availability={"mon": [["08:00", "16:00"]]}),
        ],
        vehicles=[vehicle("ecar-1", "e_car", range_km=20)],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert planned(plan) == {"EAST/1", "WEST/1"}
    km_by_vehicle: dict[str | None, float] = defaultdict(float)
    for trip in plan.tours:
        km_by_vehicle[trip.vehicle] += trip.distance_km
    assert km_by_vehicle["ecar-1"] <= 20
    # The e-car (lower CO2e) takes one trip, the private car the other.
    assert sorted(t.mode for t in plan.tours) == ["e_car", "private_car"]


def test_max_leg_km_picks_a_mode_that_reaches() -> None:
    travel = {
        "e_car": {"speed_kmh": 45, "detour_factor": 1.3},
        "e_bike": {"speed_kmh": 17, "detour_factor": 1.2, "max_leg_km": 3},
    }
    both = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike", "e_car"])],
        households=[household("FAR", east_km=5)],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ecar-1", "e_car")],
        travel=travel,
    )
    plan = plan_ok(both, time_limit_s=LIMIT)
    assert tour_of(plan, "FAR/1").mode == "e_car"
    for trip in plan.tours:
        if trip.mode == "e_bike":
            assert all(leg.km <= 3 for leg in trip.legs)

    bike_only = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike"])],
        households=[household("FAR", east_km=5)],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ecar-1", "e_car")],
        travel=travel,
    )
    plan = plan_ok(bike_only, time_limit_s=LIMIT)
    assert reason(plan, "FAR/1") == "out_of_reach"


def test_max_leg_km_between_households() -> None:
    # Each household is 2.4 km (bike) from the office, but 4.8 km from the other.
    travel = {"e_bike": {"speed_kmh": 17, "detour_factor": 1.2, "max_leg_km": 3}}
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_bike"])],
        households=[
            household("EAST", east_km=2, availability={"tue": [["08:00", "16:00"]]}),
            household("WEST", east_km=-2, availability={"tue": [["08:00", "16:00"]]}),
        ],
        visits=[visit("EAST/1", "EAST", duration=30), visit("WEST/1", "WEST", duration=30)],
        travel=travel,
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert planned(plan) == {"EAST/1", "WEST/1"}
    assert len(plan.tours) == 2
    for trip in plan.tours:
        assert all(leg.km <= 3 for leg in trip.legs)


def test_vehicle_range_too_small_for_the_trip_is_no_vehicle() -> None:
    # The round trip is ~15.6 km; the only e-car may ride 10 km a day.
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["e_car"])],
        households=[household("FAR", east_km=6), household("NEAR", north_km=1)],
        vehicles=[vehicle("ecar-1", "e_car", range_km=10)],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert reason(plan, "FAR/1") == "no_vehicle"
    assert "NEAR/1" in planned(plan)


def test_mode_without_vehicle_at_site() -> None:
    scenario = build(
        sites=[site("enn"), site("evw", north_km=10)],
        caseworkers=[caseworker("cw-a", modes=["e_car"])],
        households=[household("H1")],
        # An e-car exists, but at the other office; the own office has only e-bikes.
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ecar-evw", "e_car", site="evw")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert reason(plan, "H1/1") == "no_vehicle"
    assert plan.tours == []


# --------------------------------------------------------------------------- priority


def test_priority_wins_when_capacity_allows_one_visit() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a")],
        households=[
            household("LOW", east_km=2, availability={"mon": [["09:00", "10:00"]]}),
            household("HIGH", north_km=2, availability={"mon": [["09:00", "10:00"]]}),
        ],
        visits=[visit("LOW/1", "LOW", priority=1), visit("HIGH/1", "HIGH", priority=3)],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert planned(plan) == {"HIGH/1"}
    assert reason(plan, "LOW/1") == "capacity"


def test_priority_outweighs_count_of_lower_visits() -> None:
    # One slot on Monday: a priority-3 visit against two priority-1 visits.
    scenario = build(
        caseworkers=[caseworker("cw-a")],
        households=[
            household("A", east_km=1, availability={"mon": [["09:00", "11:00"]]}),
            household("B", east_km=1.2, availability={"mon": [["09:00", "11:00"]]}),
            household("C", north_km=-1, availability={"mon": [["09:00", "11:00"]]}),
        ],
        visits=[
            visit("A/1", "A", duration=40, priority=1),
            visit("B/1", "B", duration=40, priority=1),
            visit("C/1", "C", duration=100, priority=3),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert "C/1" in planned(plan)


# -------------------------------------------------------------------------------- DST


def test_dst_change_between_weeks() -> None:
    scenario = build(
        horizon={"start": "2026-10-19", "end": "2026-10-30"},
        households=[
            household("H1", availability={"wed": [["10:00", "11:00"]]}),
            household("H2", north_km=2, availability={"mon": [["14:30", "15:30"]]}),
        ],
        visits=[
            visit("H1/1", "H1", earliest="2026-10-21", latest="2026-10-21"),
            visit("H1/2", "H1", earliest="2026-10-28", latest="2026-10-28"),
            visit("H2/1", "H2", earliest="2026-10-19", latest="2026-10-19"),
            visit("H2/2", "H2", earliest="2026-10-26", latest="2026-10-26"),
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    expected = {
        "H1/1": ("2026-10-21T10:00:00+02:00", "2026-10-21T11:00:00+02:00"),
        "H1/2": ("2026-10-28T10:00:00+01:00", "2026-10-28T11:00:00+01:00"),
        "H2/1": ("2026-10-19T14:30:00+02:00", "2026-10-19T15:30:00+02:00"),
        "H2/2": ("2026-10-26T14:30:00+01:00", "2026-10-26T15:30:00+01:00"),
    }
    for visit_id, (start, end) in expected.items():
        appt = appointment(plan, visit_id)
        assert (appt.start.isoformat(), appt.end.isoformat()) == (start, end)
    for trip in plan.tours:
        offset = timedelta(hours=2) if trip.date < date(2026, 10, 25) else timedelta(hours=1)
        assert trip.depart.utcoffset() == offset
        assert trip.return_.utcoffset() == offset


def test_dst_weekend_shift() -> None:
    weekend = {"sat": ["08:00", "16:00"], "sun": ["08:00", "16:00"], "mon": ["08:00", "16:00"]}
    scenario = build(
        horizon={"start": "2026-10-24", "end": "2026-10-26"},
        caseworkers=[caseworker("cw-a", hours=weekend), caseworker("cw-b", hours=weekend)],
        households=[
            household(
                "H1",
                availability={
                    "sat": [["09:00", "10:00"]],
                    "sun": [["09:00", "10:00"]],
                    "mon": [["09:00", "10:00"]],
                },
            ),
            # Hours start 08:00 wall-clock on Sunday (CET) and the trip takes 9 min.
            household("H2", north_km=2, availability={"sun": [["08:00", "09:30"]]}),
        ],
        visits=[
            visit("H1/1", "H1", earliest="2026-10-24", latest="2026-10-24"),
            visit("H1/2", "H1", earliest="2026-10-25", latest="2026-10-25"),
            visit("H1/3", "H1", earliest="2026-10-26", latest="2026-10-26"),
            visit("H2/1", "H2", duration=60),
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ebike-2", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)

    assert appointment(plan, "H1/1").start.isoformat() == "2026-10-24T09:00:00+02:00"
    assert appointment(plan, "H1/2").start.isoformat() == "2026-10-25T09:00:00+01:00"
    assert appointment(plan, "H1/3").start.isoformat() == "2026-10-26T09:00:00+01:00"
    h2 = appointment(plan, "H2/1")
    assert h2.start.utcoffset() == timedelta(hours=1)
    assert at(date(2026, 10, 25), "08:09") <= h2.start
    assert h2.end <= at(date(2026, 10, 25), "09:30")
    assert tour_of(plan, "H2/1").depart >= at(date(2026, 10, 25), "08:00")


# ------------------------------------------------------------------------------- kpis


def test_kpis_equal_the_sums() -> None:
    scenario = build(
        caseworkers=[
            caseworker("cw-a", modes=["e_bike", "walk"]),
            caseworker("cw-b", modes=["e_car"]),
        ],
        households=[
            household("A", east_km=1, primary="cw-a"),
            household("B", east_km=3, primary="cw-a", allowed=["cw-b"]),
            household("C", north_km=12, primary="cw-b"),
            household(
                "D",
                north_km=-4,
                primary="cw-b",
                allowed=["cw-a"],
                availability={"mon": [["09:00", "11:00"]]},
            ),
            household(
                "E",
                north_km=-4.2,
                primary="cw-b",
                allowed=["cw-a"],
                availability={"mon": [["09:00", "11:00"]]},
            ),
            household("X", availability={"sat": [["09:00", "11:00"]]}),
        ],
        vehicles=[vehicle("ebike-1", "e_bike"), vehicle("ecar-1", "e_car")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    kpis = plan.kpis
    assert kpis.visits == len(scenario.visits)
    assert kpis.scheduled == len(plan.appointments)
    assert kpis.unassigned == len(plan.unassigned) == 1
    assert kpis.scheduled + kpis.unassigned == kpis.visits
    assert kpis.travel_minutes == sum(t.travel_minutes for t in plan.tours)
    modes = {t.mode for t in plan.tours}
    assert set(kpis.distance_km) == modes
    for mode in modes:
        total = sum(t.distance_km for t in plan.tours if t.mode == mode)
        assert kpis.distance_km[mode] == pytest.approx(total, abs=1e-3)
    factors = scenario.emission_factors_g_per_km or {}
    co2e = 0.0
    baseline = 0.0
    places = {s.id: s.location for s in scenario.sites}
    places.update(
        {
            v.id: next(h.location for h in scenario.households if h.id == v.household)
            for v in scenario.visits
        }
    )
    for trip in plan.tours:
        assert trip.distance_km == pytest.approx(sum(leg.km for leg in trip.legs), abs=1e-3)
        assert trip.travel_minutes == sum(leg.minutes for leg in trip.legs)
        assert trip.co2e_kg == pytest.approx(trip.distance_km * factors[trip.mode] / 1000, abs=1e-3)
        co2e += trip.co2e_kg
        for leg in trip.legs:
            a, b = places[leg.from_], places[leg.to]
            baseline += (
                geodesic((a.lat, a.lon), (b.lat, b.lon)).km * 1.3 * factors["private_car"] / 1000
            )
    assert kpis.co2e_kg == pytest.approx(co2e, abs=1e-3)
    assert kpis.baseline_co2e_kg == pytest.approx(baseline, abs=1e-3, rel=1e-3)
    assert kpis.avoided_co2e_kg == pytest.approx(kpis.baseline_co2e_kg - kpis.co2e_kg, abs=1e-3)
    breaks = sum(
        1
        for a in plan.appointments
        if (
            primary := next(
                h for h in scenario.households if h.id == a.household
            ).primary_caseworker
        )
        is not None
        and primary != a.caseworker
    )
    assert kpis.continuity_breaks == breaks


# -------------------------------------------------------------------------- objective


def test_short_trips_go_by_e_bike() -> None:
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["private_car", "e_bike"])],
        households=[household("H1", east_km=2), household("H2", north_km=1.5)],
        vehicles=[vehicle("ebike-1", "e_bike")],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert planned(plan) == {"H1/1", "H2/1"}
    assert {t.mode for t in plan.tours} == {"e_bike"}
    assert plan.kpis.co2e_kg < plan.kpis.baseline_co2e_kg


def test_every_visit_planned_when_the_week_has_room() -> None:
    # Nine visits of 45-75 min for two caseworkers with a free week: all fit easily.
    households = [
        household(
            f"H{i}", east_km=(i % 4) - 1.5, north_km=(i // 4) - 1, primary=f"cw-{'ba'[i % 2]}"
        )
        for i in range(9)
    ]
    scenario = build(
        caseworkers=[caseworker("cw-a"), caseworker("cw-b")],
        households=households,
        visits=[
            visit(f"H{i}/1", f"H{i}", duration=45 + 15 * (i % 3), priority=1 + i % 3)
            for i in range(9)
        ],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert plan.unassigned == []
    assert plan.kpis.scheduled == 9


def test_no_visit_dropped_to_save_travel() -> None:
    # A far visit costs much travel and CO2e but is still planned.
    scenario = build(
        caseworkers=[caseworker("cw-a", modes=["private_car"])],
        households=[household("FAR", east_km=40)],
        vehicles=[],
    )
    plan = plan_ok(scenario, time_limit_s=LIMIT)
    assert planned(plan) == {"FAR/1"}


# ------------------------------------------------------------------------ repeatability


def test_planning_is_repeatable() -> None:
    households = [
        household(
            f"H{i}",
            east_km=(i % 4) - 1.5,
            north_km=(i // 4) - 1,
            availability={
                "mon": [["09:00", "12:00"]],
                "tue": [["13:00", "16:00"]],
                "thu": [["08:00", "11:00"]],
            },
            primary="cw-a" if i % 2 else "cw-b",
        )
        for i in range(10)
    ]
    scenario = build(
        caseworkers=[caseworker("cw-a", cap=3), caseworker("cw-b", modes=["e_bike", "walk"])],
        households=households,
        visits=[
            visit(f"H{i}/1", f"H{i}", duration=45 + 15 * (i % 3), priority=1 + i % 3)
            for i in range(10)
        ],
        vehicles=[vehicle("ebike-1", "e_bike", blocked=[("2026-11-30T10:00", "2026-11-30T11:00")])],
    )

    def document() -> dict[str, Any]:
        plan = plan_scenario(scenario, time_limit_s=UNHURRIED, seed=7)
        assert_plan_ok(scenario, plan, time_limit_s=UNHURRIED)
        doc = dump_document(plan)
        del doc["solver"]["wall_s"]
        return doc

    first = document()
    # One shared e-bike, blocked on Monday morning, limits the week to 8-10 visits.
    assert len(first["appointments"]) >= 8
    assert document() == first
    assert document() == first
