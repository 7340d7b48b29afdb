"""The trip log through the HTTP API on SQLite and PostgreSQL: confirming a published
tour in one step, ad-hoc trips, corrections as new records, roles, planned tours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from session_app import Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from core.paperless import PaperlessEvent
from fleet.models import Trip, Vehicle
from scheduler.models import Caseworker, Plan, PlanningWeek, Site, Tour

MONDAY = date(2026, 11, 30)


def published_plan(session: Session, status: str = "published") -> Plan:
    """A plan of the demo week with two tours: cw01 by e-bike, cw03 by e-car."""
    week = session.scalars(select(PlanningWeek).where(PlanningWeek.start == MONDAY)).one()
    plan = Plan(week_id=week.id, time_limit_s=10, scenario={"format": "x"}, status=status)
    session.add(plan)
    session.flush()
    for key, caseworker, mode, vehicle, km in (
        ("cw01/2026-11-30/1", "cw01", "e_bike", "ebike-enn-1", 12.4),
        ("cw03/2026-11-30/1", "cw03", "e_car", "ecar-enn-1", 38.0),
    ):
        depart = datetime(2026, 11, 30, 8, tzinfo=UTC)
        session.add(
            Tour(
                plan_id=plan.id,
                key=key,
                caseworker_id=session.scalars(
                    select(Caseworker.id).where(Caseworker.key == caseworker)
                ).one(),
                date=MONDAY,
                mode=mode,
                vehicle_id=session.scalars(select(Vehicle.id).where(Vehicle.key == vehicle)).one(),
                depart=depart,
                return_=depart + timedelta(hours=3),
                distance_km=km,
                travel_minutes=50,
                co2e_kg=0.1,
                baseline_co2e_kg=2.0,
                legs=[],
            )
        )
    session.flush()
    return plan


def test_confirm_a_tour_and_correct_it(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    plan = published_plan(session)
    draft = published_plan(session, status="done")  # not published: not to be confirmed
    auth = tokens.header("caseworker")  # cw01
    week = {"from": "2026-11-30", "to": "2026-12-04"}
    planned = client.get("/trips/planned", params=week, headers=auth).json()
    # A caseworker sees their own planned tours only, and only published ones.
    assert [(p["tour_key"], p["km_planned"], p["planned_only"]) for p in planned] == [
        ("cw01/2026-11-30/1", 12.4, True)
    ]
    everyone = client.get("/trips/planned", params=week, headers=tokens.header("fleet_manager"))
    assert len(everyone.json()) == 2
    unpublished = client.post(
        "/trips/confirm",
        json={"plan_id": draft.id, "tour": "cw01/2026-11-30/1", "km": 12},
        headers=auth,
    )
    assert unpublished.status_code == 404

    confirmed = client.post(
        "/trips/confirm",
        json={
            "plan_id": plan.id,
            "tour": "cw01/2026-11-30/1",
            "odometer_start": 1000,
            "odometer_end": 1013.5,
        },
        headers=auth,
    )
    assert confirmed.status_code == 201, confirmed.text
    trip = confirmed.json()
    assert (trip["km"], trip["mode"], trip["vehicle"], trip["km_planned"]) == (
        13.5,
        "e_bike",
        "ebike-enn-1",
        12.4,
    )
    assert (trip["source"], trip["confirmed"], trip["current"], trip["site"]) == (
        "tour",
        True,
        True,
        "enn",
    )
    twice = client.post(
        "/trips/confirm",
        json={"plan_id": plan.id, "tour": "cw01/2026-11-30/1", "km": 13},
        headers=auth,
    )
    assert twice.status_code == 409
    assert client.get("/trips/planned", params=week, headers=auth).json() == []
    # Another caseworker's tour is not theirs to confirm; a coordinator may.
    other = {"plan_id": plan.id, "tour": "cw03/2026-11-30/1", "km": 40, "mode": "car"}
    assert client.post("/trips/confirm", json=other, headers=auth).status_code == 404
    by_coordinator = client.post("/trips/confirm", json=other, headers=tokens.header("coordinator"))
    assert by_coordinator.status_code == 201
    # Driven by pool car instead of the booked e-car: no vehicle of the plan named.
    assert (by_coordinator.json()["mode"], by_coordinator.json()["vehicle"]) == ("car", None)

    corrected = client.post(
        f"/trips/{trip['id']}/corrections",
        json={"note": "Kilometerstand falsch abgelesen", "km": 14.1},
        headers=auth,
    )
    assert corrected.status_code == 201, corrected.text
    new = corrected.json()
    assert (new["corrects_id"], new["km"], new["odometer_start"]) == (trip["id"], 14.1, None)
    assert new["plan_id"] == plan.id and new["tour_key"] == "cw01/2026-11-30/1"
    again = client.post(
        f"/trips/{trip['id']}/corrections", json={"note": "nochmal", "km": 15}, headers=auth
    )
    assert again.status_code == 409  # correct the current record, not a replaced one
    no_reason = client.post(f"/trips/{new['id']}/corrections", json={"km": 15}, headers=auth)
    assert no_reason.status_code == 422

    current = client.get("/trips", headers=auth).json()
    assert [(t["id"], t["km"]) for t in current["items"]] == [(new["id"], 14.1)]
    every = client.get("/trips", params={"all": "true"}, headers=auth).json()
    assert [(t["id"], t["current"]) for t in every["items"]] == [
        (trip["id"], False),
        (new["id"], True),
    ]
    history = client.get(f"/trips/{trip['id']}", headers=auth).json()
    assert [r["id"] for r in history["records"]] == [trip["id"], new["id"]]
    assert history["current"]["id"] == new["id"]
    # The old record is untouched in the database.
    old = session.get(Trip, trip["id"])
    assert old is not None and old.km == 13.5
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "trip").order_by(AuditEvent.id)
    ).all()
    assert actions == ["confirm", "confirm", "correct"]
    # Two lines not written in a paper log book; the correction replaced a line.
    steps = session.execute(
        select(PaperlessEvent.kind, PaperlessEvent.site_id, PaperlessEvent.reference).order_by(
            PaperlessEvent.id
        )
    ).all()
    enn = session.scalars(select(Site.id).where(Site.key == "enn")).one()
    assert steps == [
        ("trip_confirmed", enn, f"trip:{trip['id']}"),
        ("trip_confirmed", enn, f"trip:{by_coordinator.json()['id']}"),
    ]


def test_adhoc_trips_and_roles(client: TestClient, tokens: Tokens) -> None:
    auth = tokens.header("caseworker")
    walk = client.post(
        "/trips", json={"date": "2026-12-01", "mode": "walk", "km": 2.5}, headers=auth
    )
    assert walk.status_code == 201, walk.text
    assert (walk.json()["caseworker"], walk.json()["source"]) == ("cw01", "adhoc")
    for_other = client.post(
        "/trips",
        json={"caseworker": "cw03", "date": "2026-12-01", "mode": "walk", "km": 1},
        headers=auth,
    )
    assert for_other.status_code == 403
    wrong_kind = client.post(
        "/trips",
        json={"date": "2026-12-01", "mode": "e_car", "km": 10, "vehicle": "ebike-enn-1"},
        headers=auth,
    )
    assert wrong_kind.status_code == 422
    backwards = client.post(
        "/trips",
        json={"date": "2026-12-01", "mode": "e_bike", "odometer_start": 50, "odometer_end": 40},
        headers=auth,
    )
    assert backwards.status_code == 422 and "odometer" in backwards.json()["detail"]
    neither = client.post("/trips", json={"date": "2026-12-01", "mode": "walk"}, headers=auth)
    assert neither.status_code == 422
    # Ad hoc with a booking: its vehicle and planned km come from the booking.
    booked = client.post(
        "/bookings",
        json={
            "vehicle": "ecar-enn-1",
            "start": "2026-12-02T09:00:00+01:00",
            "end": "2026-12-02T12:00:00+01:00",
            "km_planned": 40,
        },
        headers=auth,
    ).json()
    logged = client.post(
        "/trips",
        json={"date": "2026-12-02", "mode": "e_car", "km": 43.2, "booking_id": booked["id"]},
        headers=auth,
    )
    assert logged.status_code == 201
    assert (logged.json()["vehicle"], logged.json()["km_planned"]) == ("ecar-enn-1", 40.0)
    # Fleet managers see every trip but log none; a caseworker sees only their own.
    fleet = tokens.header("fleet_manager")
    assert client.get("/trips", headers=fleet).json()["total"] == 2
    assert (
        client.post(
            "/trips", json={"date": "2026-12-01", "mode": "walk", "km": 1}, headers=fleet
        ).status_code
        == 403
    )
    coordinator_trip = client.post(
        "/trips",
        json={"caseworker": "cw03", "date": "2026-12-01", "mode": "walk", "km": 1},
        headers=tokens.header("coordinator"),
    ).json()
    assert client.get(f"/trips/{coordinator_trip['id']}", headers=auth).status_code == 404
    assert client.get("/trips", headers=auth).json()["total"] == 2
    # A fleet manager corrects an odometer reading (a new record, audited).
    fixed = client.post(
        f"/trips/{logged.json()['id']}/corrections",
        json={"note": "Tacho am Parkplatz abgelesen", "odometer_start": 100, "odometer_end": 143.9},
        headers=fleet,
    )
    assert fixed.status_code == 201 and fixed.json()["km"] == 43.9
    assert fixed.json()["recorded_by"] == "test-fleet_manager"
