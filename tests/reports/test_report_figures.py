"""Every figure of the report for the hand-built November (``conftest.py``), to the gram,
against a hand computation with the UBA 2024 figures written out as numbers:

car and private car 222 g/km (tailpipe 179, upstream 43); grid 363 g/kWh (direct);
e-car 17 kWh/100 km on record; e-bike 0.6 kWh/100 km (its kind's default); walking 0;
paper 5 g CO2e and 5 g per sheet; pages per step 1, 0.05, 0.04, 2, 2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from report_month import Month
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from core.db import transaction
from fleet import trips as trip_log
from fleet.models import Vehicle, VehicleBooking
from reports.periods import Period, parse_period
from reports.schemas import SustainabilityReport
from reports.sustainability import ReportOptionInvalid, ReportOptions, sustainability_report
from scheduler.models import Site

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))

# The trips of November, in grams, by hand.
T1 = {"km": 25.5, "kwh": 25.5 * 17.0 / 100}  # e-car, confirmed 25.5 km (planned 24.0)
T1["g"] = T1["kwh"] * 363  # 1573.605 g
T2 = {"km": 31.2, "g": 31.2 * 222, "tail": 31.2 * 179, "up": 31.2 * 43}  # private car, planned
T3 = {"km": 8.4, "kwh": 8.4 * 0.6 / 100}  # e-bike, confirmed
T3["g"] = T3["kwh"] * 363  # 18.2952 g
T4 = {"km": 42.0, "g": 42.0 * 222, "tail": 42.0 * 179, "up": 42.0 * 43}  # pool car (evb)
WALK = {"km": 1.6, "g": 0.0}
OWN_CAR = {"km": 12.0, "g": 12.0 * 222, "tail": 12.0 * 179, "up": 12.0 * 43}
POOL_CAR = {"km": 18.0, "g": 18.0 * 222, "tail": 18.0 * 179, "up": 18.0 * 43}
ALL = [T1, T2, T3, T4, WALK, OWN_CAR, POOL_CAR]


def kg(grams: float) -> float:
    return round(grams / 1000, 3)


def report(session: Session, **options: object) -> SustainabilityReport:
    period = options.pop("period", NOVEMBER)
    assert isinstance(period, Period)
    return sustainability_report(
        session=session,
        options=ReportOptions(period=period, **options),  # type: ignore[arg-type]
    )


def test_totals_to_the_gram(session: Session, month: Month) -> None:
    result = report(session)
    totals = result.totals
    km = sum(trip["km"] for trip in ALL)
    grams = sum(trip["g"] for trip in ALL)
    assert totals.trips == 7
    assert totals.km == pytest.approx(138.7)
    assert totals.low_emission_km == pytest.approx(25.5 + 8.4 + 1.6)
    assert totals.low_emission_share == round(35.5 / 138.7, 4)
    assert totals.co2e_kg == kg(grams) == 24.502
    assert totals.co2e_tailpipe_kg == kg(
        T2["tail"] + T4["tail"] + OWN_CAR["tail"] + POOL_CAR["tail"]
    )
    # Electricity counts as upstream of the vehicle (generation), fuel supply too.
    assert totals.co2e_upstream_kg == kg(
        T1["g"] + T3["g"] + T2["up"] + T4["up"] + OWN_CAR["up"] + POOL_CAR["up"]
    )
    assert totals.co2e_unsplit_kg == 0
    assert totals.co2e_g_per_km == round(grams / km, 1)
    assert totals.energy_kwh == round(T1["kwh"] + T3["kwh"], 3) == 4.385
    # Home visits: T1 2, T2 1, T3 2, T4 1; the cancelled appointment and ad-hoc trips none.
    assert totals.home_visits == 6
    assert totals.co2e_per_home_visit_kg == kg((T1["g"] + T2["g"] + T3["g"] + T4["g"]) / 6)
    # Baseline: every km by private petrol car; avoided apart, never netted.
    assert totals.baseline_mode == "private_car"
    assert totals.baseline_co2e_kg == kg(km * 222) == 30.791
    assert totals.avoided_co2e_kg == kg(km * 222 - grams) == 6.289


def test_by_mode_and_by_scope(session: Session, month: Month) -> None:
    result = report(session)
    by_mode = {line.mode: line for line in result.by_mode}
    assert list(by_mode) == ["car", "e_car", "e_bike", "walk", "private_car"]
    assert (by_mode["car"].trips, by_mode["car"].km) == (2, 60.0)
    assert by_mode["car"].co2e_kg == kg(T4["g"] + POOL_CAR["g"]) == 13.32
    assert by_mode["car"].co2e_tailpipe_kg == kg(T4["tail"] + POOL_CAR["tail"]) == 10.74
    assert by_mode["car"].co2e_upstream_kg == kg(T4["up"] + POOL_CAR["up"]) == 2.58
    assert by_mode["e_car"].co2e_kg == kg(T1["g"]) == 1.574
    assert by_mode["e_car"].energy_kwh == round(T1["kwh"], 3) == 4.335
    assert by_mode["e_car"].avoided_co2e_kg == kg(25.5 * 222 - T1["g"]) == 4.087
    assert by_mode["e_bike"].co2e_kg == kg(T3["g"]) == 0.018
    assert by_mode["e_bike"].energy_kwh == round(T3["kwh"], 3) == 0.05
    assert by_mode["walk"].co2e_kg == 0 and by_mode["walk"].avoided_co2e_kg == kg(1.6 * 222)
    assert by_mode["private_car"].co2e_kg == kg(T2["g"] + OWN_CAR["g"]) == 9.59
    assert by_mode["private_car"].avoided_co2e_kg == 0
    assert by_mode["car"].km_share == round(60.0 / 138.7, 4)

    by_scope = {line.scope: line for line in result.by_scope}
    # Pool cars' fuel: scope 1; its supply: scope 3 cat. 3.
    assert by_scope["scope1"].co2e_kg == kg(T4["tail"] + POOL_CAR["tail"])
    assert by_scope["scope3_cat3"].co2e_kg == kg(T4["up"] + POOL_CAR["up"])
    # Pool e-vehicles' electricity: scope 2.
    assert by_scope["scope2"].co2e_kg == kg(T1["g"] + T3["g"]) == 1.592
    assert by_scope["scope2"].modes == ["e_car", "e_bike"]
    # Private cars: scope 3 cat. 6 (business travel).
    assert by_scope["scope3_cat6"].co2e_kg == kg(T2["g"] + OWN_CAR["g"])
    assert by_scope["scope3_cat6"].modes == ["private_car"]
    # The inventory adds up; avoided emissions are no part of it.
    inventory = sum(line.co2e_kg for line in result.by_scope)
    assert inventory == pytest.approx(result.totals.co2e_kg, abs=0.002)


def test_planned_against_confirmed(session: Session, month: Month) -> None:
    planned = report(session).planned_vs_confirmed
    assert planned.tours == 4  # T1-T4; T5 is December, the draft plan's tour counts nowhere
    assert (planned.tours_confirmed, planned.tours_unconfirmed) == (3, 1)
    assert planned.km_planned_confirmed_tours == pytest.approx(24.0 + 8.4 + 40.0)
    assert planned.km_confirmed_tours == pytest.approx(25.5 + 8.4 + 42.0)
    assert planned.km_difference == pytest.approx(3.5)
    assert planned.km_unconfirmed == pytest.approx(31.2)
    assert (planned.adhoc_trips, planned.adhoc_km) == (3, pytest.approx(31.6))
    assert planned.corrected_trips == 0


def test_trip_log_lines(session: Session, month: Month) -> None:
    lines = report(session).trips
    assert [line.ref for line in lines] == [
        f"trip:{month.trips['T1']}",
        f"tour:{month.tours['T2']}",
        f"trip:{month.trips['T3']}",
        f"trip:{month.trips['T4']}",
        f"trip:{month.trips['walk']}",
        f"trip:{month.trips['own_car']}",
        f"trip:{month.trips['pool_car']}",
    ]
    first, planned = lines[0], lines[1]
    assert (first.status, first.mode, first.vehicle, first.km_planned, first.km) == (
        "confirmed",
        "e_car",
        "ecar-enn-1",
        24.0,
        25.5,
    )
    assert (first.energy_kwh, first.co2e_kg, first.scope, first.home_visits) == (
        4.335,
        1.574,
        "scope2",
        2,
    )
    assert (planned.status, planned.km, planned.co2e_kg, planned.scope) == (
        "planned",
        31.2,
        kg(T2["g"]),
        "scope3_cat6",
    )
    assert lines[4].home_visits is None  # an ad-hoc trip names no visits
    # Caseworkers are pseudonyms of this report: no key, no name.
    names = {line.caseworker for line in lines}
    assert names == {"MA-01", "MA-02", "MA-03"}
    assert lines[0].caseworker == lines[2].caseworker  # T1 and T3 are cw01's
    dumped = report(session).model_dump_json()
    assert "cw0" not in dumped and "Name cw" not in dumped
    assert "H000" not in dumped  # no household either


def test_paper_avoided(session: Session, month: Month) -> None:
    paper = report(session).paper
    lines = {line.kind: line for line in paper.lines}
    # 2 + 3 rosters (the first at 00:30 local on 11-01, still 10-31 in UTC).
    assert (lines["plan_published"].events, lines["plan_published"].sheets) == (5, 5.0)
    # The trip log's own steps: T1, T3, T4 and three ad-hoc trips (October's not).
    assert (lines["trip_confirmed"].events, lines["trip_confirmed"].sheets) == (6, 0.3)
    assert (lines["booking_online"].events, lines["booking_online"].sheets) == (2, 0.08)
    # 4 visit records; the 5 at 00:30 local on 12-01 belong to December.
    assert (lines["visit_record"].events, lines["visit_record"].sheets) == (4, 8.0)
    assert (lines["consent"].events, lines["consent"].sheets) == (2, 4.0)
    sheets = 5 + 0.3 + 0.08 + 8 + 4
    assert paper.sheets == pytest.approx(sheets)
    assert paper.paper_kg == kg(sheets * 5.0) == 0.087
    assert paper.co2e_kg == kg(sheets * 5.0)
    assert lines["visit_record"].co2e_kg == kg(8 * 5.0)


def test_e_vehicle_utilisation(session: Session, month: Month) -> None:
    vehicles = {line.vehicle: line for line in report(session).vehicles}
    assert set(vehicles) == {"ecar-enn-1", "ebike-enn-1"}  # pool cars are no e-vehicles
    ecar = vehicles["ecar-enn-1"]
    # 21 working days in November 2026 (no public holiday of DE-NW on a weekday) x 10 h,
    # less 10 h of maintenance on 11-06; 3 h booked (the cancelled booking frees its slot).
    assert (ecar.available_hours, ecar.booked_hours) == (200.0, 3.0)
    assert ecar.utilisation == round(3 / 200, 4)
    assert (ecar.trips, ecar.km, ecar.energy_kwh) == (1, 25.5, 4.335)
    assert vehicles["ebike-enn-1"].utilisation == 0


def test_cargo_bikes_are_e_vehicles_of_the_report(session: Session, month: Month) -> None:
    enn = session.scalars(select(Site.id).where(Site.key == "enn")).one()
    cargo = Vehicle(key="lastenrad-enn-1", site_id=enn, kind="cargo_bike", range_km=40)
    session.add(cargo)
    session.flush()
    start = datetime(2026, 11, 10, 9, tzinfo=UTC)
    session.add(
        VehicleBooking(
            vehicle_id=cargo.id,
            start=start,
            end=start + timedelta(hours=2),
            blocked_until=start + timedelta(hours=2),
            source="adhoc",
        )
    )
    session.flush()
    line = {line.vehicle: line for line in report(session).vehicles}["lastenrad-enn-1"]
    assert (line.kind, line.booked_hours, line.available_hours) == ("cargo_bike", 2.0, 210.0)


def test_a_site_alone(session: Session, month: Month) -> None:
    enn = report(session, site="enn")
    assert enn.site_label == "Ennigerloh"
    assert enn.totals.trips == 6  # everything but T4 (Everswinkel)
    assert enn.totals.co2e_kg == kg(sum(trip["g"] for trip in ALL if trip is not T4))
    assert [line.vehicle for line in enn.vehicles] == ["ebike-enn-1", "ecar-enn-1"]
    # Paperless steps of the site only: no Everswinkel, no step without a site.
    lines = {line.kind: line for line in enn.paper.lines}
    assert (lines["trip_confirmed"].events, lines["consent"].events) == (5, 0)
    evb = report(session, site="evb")
    assert (evb.totals.trips, evb.totals.co2e_kg) == (1, kg(T4["g"]))
    assert evb.totals.home_visits == 1
    # The whole programme is both sites together.
    whole = report(session)
    assert whole.totals.km == pytest.approx(enn.totals.km + evb.totals.km)


def test_a_correction_changes_the_report_and_is_audited(session: Session, month: Month) -> None:
    before = report(session)
    with transaction(session):
        correction = trip_log.correct(
            session,
            trip_id=month.trips["T4"],
            km=44.0,
            note="Umleitung wegen Baustelle",
            actor="coordinator",
        )
    after = report(session)
    assert after.totals.trips == before.totals.trips
    assert after.totals.km == pytest.approx(before.totals.km + 2.0)
    assert after.totals.co2e_kg == kg(sum(trip["g"] for trip in ALL) + 2.0 * 222)
    assert after.planned_vs_confirmed.corrected_trips == 1
    assert after.planned_vs_confirmed.km_confirmed_tours == pytest.approx(25.5 + 8.4 + 44.0)
    refs = [line.ref for line in after.trips]
    assert f"trip:{correction.id}" in refs and f"trip:{month.trips['T4']}" not in refs
    assert next(line for line in after.trips if line.ref == f"trip:{correction.id}").corrected
    # The correction left an audit record naming the record it replaces.
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "trip", AuditEvent.entity_id == str(correction.id)
        )
    ).one()
    assert event.action == "correct" and event.actor == "coordinator"
    assert event.detail is not None and event.detail["corrects_id"] == month.trips["T4"]
    assert event.detail["km"] == 44.0


def test_confirming_the_planned_tour(session: Session, month: Month) -> None:
    tour_key = "cw02/2026-11-04/1"
    with transaction(session):
        trip_log.confirm_tour(session, plan_id=month.plan_id, tour_key=tour_key, km=30.0)
    planned = report(session).planned_vs_confirmed
    assert (planned.tours_confirmed, planned.tours_unconfirmed) == (4, 0)
    assert planned.km_unconfirmed == 0
    assert report(session).totals.km == pytest.approx(138.7 - 31.2 + 30.0)


def test_other_factor_sets_and_baselines(session: Session, month: Month) -> None:
    desnz = report(session, factor_source="desnz")
    # Tailpipe only for cars (164.5 g/km), so no fuel supply in scope 3 cat. 3.
    km_cars = 42.0 + 18.0 + 31.2 + 12.0
    assert desnz.totals.co2e_kg == kg(km_cars * 164.5 + T1["g"] + T3["g"])
    scopes = {line.scope: line.co2e_kg for line in desnz.by_scope}
    assert scopes["scope3_cat3"] == 0
    assert scopes["scope1"] == kg(60.0 * 164.5)
    tremod = report(session, factor_source="uba_tremod")
    # The fleet-average car (230 g/km) does not split tailpipe from upstream.
    assert tremod.totals.co2e_unsplit_kg == kg(43.2 * 230)
    assert tremod.totals.baseline_co2e_kg == kg(138.7 * 230)
    ecar = report(session, baseline_mode="e_car")
    # Against an e-car (the kind's 16 kWh/100 km x 363 g/kWh) walking still saves.
    assert ecar.totals.baseline_co2e_kg == kg(138.7 * 16 / 100 * 363)
    items = {item.key for item in report(session).factors.items}
    assert {"mode.car", "mode.private_car", "grid", "consumption.e_car", "paper"} <= items
    assert "paperless.trip_confirmed" in items


def test_bad_options(session: Session, month: Month) -> None:
    with pytest.raises(ReportOptionInvalid, match="unknown site 'nowhere'") as site:
        report(session, site="nowhere")
    assert site.value.option == "site"
    with pytest.raises(ReportOptionInvalid, match="unknown factor set 'ipcc'") as source:
        report(session, factor_source="ipcc")
    assert source.value.option == "factor_set"
    with pytest.raises(ReportOptionInvalid, match="unknown baseline mode 'rocket'"):
        report(session, baseline_mode="rocket")
    with pytest.raises(ReportOptionInvalid, match="first reference year is 2023") as early:
        report(session, period=Period(date(2019, 1, 1), date(2019, 12, 31)))
    assert early.value.option == "period"


def test_an_empty_period(session: Session, month: Month) -> None:
    empty = report(session, period=parse_period("2026-03"))
    assert (empty.totals.trips, empty.totals.km, empty.totals.co2e_kg) == (0, 0, 0)
    assert empty.totals.low_emission_share is None
    assert empty.totals.co2e_per_home_visit_kg is None
    assert empty.paper.sheets == 0


def test_periods() -> None:
    assert parse_period("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-q4") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert parse_period("2028-02").end == date(2028, 2, 29)
    assert parse_period("2026") == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert parse_period("2026-11").label_de() == "November 2026"
    assert parse_period("2026-Q4").label_de() == "4. Quartal 2026"
    assert parse_period("2026").label_de() == "2026"
    assert Period(date(2026, 11, 2), date(2026, 11, 20)).label_de() == "02.11.2026–20.11.2026"
    for bad in ("2026-13", "2026-Q5", "26", "November"):
        with pytest.raises(ValueError, match="is not a period"):
            parse_period(bad)
    with pytest.raises(ValueError, match="ends"):
        Period(date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(ValueError, match="more than"):
        Period(date(2020, 1, 1), date(2030, 1, 1))
