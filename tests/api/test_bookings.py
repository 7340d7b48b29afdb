"""Bookings through the HTTP API on SQLite and PostgreSQL: overlap, handover buffer,
maintenance, range, retired vehicles, roles, find me a vehicle, refused requests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from session_app import Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from core.paperless import PaperlessEvent
from fleet.models import BookingRefusal, VehicleBooking
from scheduler.models import Caseworker

DAY = "2026-12-07"  # a Monday after the demo week; Europe/Berlin is UTC+1


def at(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}:00+01:00"


def vehicle_id(client: TestClient, tokens: Tokens, key: str) -> int:
    vehicles = client.get("/vehicles", headers=tokens.header("fleet_manager")).json()["items"]
    return next(int(v["id"]) for v in vehicles if v["key"] == key)


def booking(
    client: TestClient,
    tokens: Tokens,
    role: str,
    vehicle: str,
    start: str,
    end: str,
    **extra: Any,
) -> Any:
    body = {"vehicle": vehicle, "start": at(start), "end": at(end), **extra}
    return client.post("/bookings", json=body, headers=tokens.header(role))


def test_overlap_and_handover_buffer(client: TestClient, tokens: Tokens) -> None:
    # An imported e-car keeps 15 minutes for plugging in and handing over.
    car = client.get(
        f"/vehicles/{vehicle_id(client, tokens, 'ecar-enn-1')}", headers=tokens.header("admin")
    )
    assert car.json()["handover_buffer_minutes"] == 15
    first = booking(client, tokens, "caseworker", "ecar-enn-1", "09:00", "10:00", km_planned=20)
    assert first.status_code == 201, first.text
    assert first.json()["caseworker"] == "cw01"
    assert first.json()["blocked_until"].startswith("2026-12-07T09:15:00")  # UTC
    overlap = booking(client, tokens, "coordinator", "ecar-enn-1", "09:30", "11:00")
    assert overlap.status_code == 409
    assert overlap.headers["content-type"] == "application/problem+json"
    problem = overlap.json()
    (conflict,) = problem["conflicts"]
    assert conflict["kind"] == "booking" and conflict["booking_id"] == first.json()["id"]
    assert conflict["vehicle"] == "ecar-enn-1"
    assert "07.12.2026 09:00 bis 07.12.2026 10:15" in conflict["reason_de"]
    assert "handover included" in conflict["reason_en"]
    assert problem["detail"] == conflict["reason_de"]
    in_buffer = booking(client, tokens, "coordinator", "ecar-enn-1", "10:10", "11:00")
    assert in_buffer.status_code == 409
    after_buffer = booking(client, tokens, "coordinator", "ecar-enn-1", "10:15", "11:00")
    assert after_buffer.status_code == 201, after_buffer.text
    # Cancelling frees the slot; the cancelled booking stays visible.
    cancelled = client.post(
        f"/bookings/{first.json()['id']}/cancel", headers=tokens.header("caseworker")
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(
        f"/bookings/{first.json()['id']}/cancel", headers=tokens.header("caseworker")
    )
    assert again.status_code == 409
    retaken = booking(client, tokens, "fleet_manager", "ecar-enn-1", "09:00", "10:00")
    assert retaken.status_code == 201, retaken.text


def test_online_bookings_count_as_paperless_steps(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    """Each ad-hoc booking made in fieldwork is a line not written on the paper list by
    the key box (a refused one is none)."""
    made = booking(client, tokens, "caseworker", "ecar-enn-1", "09:00", "10:00")
    refused = booking(client, tokens, "coordinator", "ecar-enn-1", "09:30", "11:00")
    assert (made.status_code, refused.status_code) == (201, 409)
    steps = session.execute(
        select(PaperlessEvent.kind, PaperlessEvent.count, PaperlessEvent.reference)
    ).all()
    assert steps == [("booking_online", 1, f"booking:{made.json()['id']}")]


def test_maintenance_blocks(client: TestClient, tokens: Tokens, session: Session) -> None:
    car = vehicle_id(client, tokens, "ecar-evw-1")
    fleet = tokens.header("fleet_manager")
    block = client.post(
        f"/vehicles/{car}/blocks",
        json={"start": at("12:00"), "end": at("15:00"), "reason": "Inspektion"},
        headers=fleet,
    )
    assert block.status_code == 201, block.text
    refused = booking(client, tokens, "coordinator", "ecar-evw-1", "14:00", "16:00")
    assert refused.status_code == 409
    assert [c["kind"] for c in refused.json()["conflicts"]] == ["block"]
    assert "Inspektion" in refused.json()["conflicts"][0]["reason_de"]
    # A block over an existing booking is refused until the booking moves.
    held = booking(client, tokens, "coordinator", "ecar-evw-1", "08:00", "09:00")
    assert held.status_code == 201
    clash = client.post(
        f"/vehicles/{car}/blocks",
        json={"start": at("08:30"), "end": at("10:00")},
        headers=fleet,
    )
    assert clash.status_code == 409
    assert clash.json()["conflicts"][0]["booking_id"] == held.json()["id"]
    assert client.get(f"/vehicles/{car}/blocks", headers=fleet).json()[0]["reason"] == "Inspektion"
    # Caseworkers read blocks but may not add any.
    assert (
        client.post(
            f"/vehicles/{car}/blocks",
            json={"start": at("18:00"), "end": at("19:00")},
            headers=tokens.header("caseworker"),
        ).status_code
        == 403
    )
    removed = client.delete(f"/vehicles/{car}/blocks/{block.json()['id']}", headers=fleet)
    assert removed.status_code == 204
    assert booking(client, tokens, "coordinator", "ecar-evw-1", "14:00", "16:00").status_code == 201
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "vehicle_block")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "delete"]


def test_range_per_day(client: TestClient, tokens: Tokens) -> None:
    # ebike-enn-2 rides at most 60 km a day.
    assert (
        booking(
            client, tokens, "coordinator", "ebike-enn-2", "08:00", "09:00", km_planned=40
        ).status_code
        == 201
    )
    over = booking(client, tokens, "coordinator", "ebike-enn-2", "10:00", "11:00", km_planned=25)
    assert over.status_code == 409
    (conflict,) = over.json()["conflicts"]
    assert conflict["kind"] == "range"
    assert "65 km" in conflict["reason_de"] and "Reichweite 60 km" in conflict["reason_de"]
    fits = booking(client, tokens, "coordinator", "ebike-enn-2", "10:00", "11:00", km_planned=20)
    assert fits.status_code == 201
    next_day = client.post(
        "/bookings",
        json={
            "vehicle": "ebike-enn-2",
            "start": at("08:00", "2026-12-08"),
            "end": at("09:00", "2026-12-08"),
            "km_planned": 60,
        },
        headers=tokens.header("coordinator"),
    )
    assert next_day.status_code == 201


def test_change_moves_under_the_rules(client: TestClient, tokens: Tokens) -> None:
    coordinator = tokens.header("coordinator")
    first = booking(client, tokens, "coordinator", "ebike-enn-1", "08:00", "09:00").json()
    second = booking(client, tokens, "coordinator", "ebike-enn-1", "11:00", "12:00").json()
    moved = client.patch(f"/bookings/{first['id']}", json={"end": at("10:00")}, headers=coordinator)
    assert moved.status_code == 200 and moved.json()["end"] == "2026-12-07T09:00:00Z"
    clash = client.patch(f"/bookings/{first['id']}", json={"end": at("11:30")}, headers=coordinator)
    assert clash.status_code == 409
    assert clash.json()["conflicts"][0]["booking_id"] == second["id"]
    # ebike-enn-2 was free all along: not unmet demand.
    assert clash.json()["refusal_id"] is None
    assert (
        client.get(f"/bookings/{first['id']}", headers=coordinator)
        .json()["end"]
        .startswith("2026-12-07T09:00")
    )
    other_bike = client.patch(
        f"/bookings/{first['id']}",
        json={"vehicle": "ebike-enn-2", "end": at("11:30")},
        headers=coordinator,
    )
    assert other_bike.status_code == 200 and other_bike.json()["vehicle"] == "ebike-enn-2"
    bad = client.patch(
        f"/bookings/{first['id']}", json={"start": "2026-12-07T08:00:00"}, headers=coordinator
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "$.start"


def test_a_refused_change_is_unmet_demand(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    """The office's only e-car cannot be kept longer: the refused change is recorded
    as a refused request, as a refused new booking is."""
    coordinator = tokens.header("coordinator")
    first = booking(client, tokens, "caseworker", "ecar-enn-1", "08:00", "09:00", km_planned=20)
    booking(client, tokens, "coordinator", "ecar-enn-1", "11:00", "12:00").json()
    longer = client.patch(
        f"/bookings/{first.json()['id']}", json={"end": at("11:30")}, headers=coordinator
    )
    assert longer.status_code == 409
    refusal = session.get(BookingRefusal, longer.json()["refusal_id"])
    assert refusal is not None and refusal.kind == "e_car" and refusal.outcome == "refused"
    assert (refusal.start.isoformat(), refusal.end.isoformat()) == (
        "2026-12-07T07:00:00+00:00",
        "2026-12-07T10:30:00+00:00",
    )
    cw01 = session.scalars(select(Caseworker.id).where(Caseworker.key == "cw01")).one()
    assert first.json()["caseworker"] == "cw01"
    assert refusal.km == 20 and refusal.caseworker_id == cw01


def test_roles(client: TestClient, tokens: Tokens, session: Session) -> None:
    for_other = booking(
        client, tokens, "caseworker", "ebike-enn-1", "08:00", "09:00", caseworker="cw03"
    )
    assert for_other.status_code == 403
    theirs = booking(
        client, tokens, "fleet_manager", "ebike-enn-1", "08:00", "09:00", caseworker="cw03"
    )
    assert theirs.status_code == 201 and theirs.json()["booked_by"] == "test-fleet_manager"
    mine = booking(client, tokens, "caseworker", "ebike-enn-2", "08:00", "09:00")
    assert mine.status_code == 201
    # A caseworker sees only their own bookings; another's is 404, changes to it too.
    listed = client.get("/bookings", headers=tokens.header("caseworker")).json()
    assert [item["id"] for item in listed["items"]] == [mine.json()["id"]]
    other_id = theirs.json()["id"]
    assert (
        client.get(f"/bookings/{other_id}", headers=tokens.header("caseworker")).status_code == 404
    )
    assert (
        client.post(f"/bookings/{other_id}/cancel", headers=tokens.header("caseworker")).status_code
        == 404
    )
    everyone = client.get("/bookings", headers=tokens.header("fleet_manager")).json()
    assert everyone["total"] == 2
    filtered = client.get(
        "/bookings", params={"caseworker": "cw03"}, headers=tokens.header("coordinator")
    ).json()
    assert [item["id"] for item in filtered["items"]] == [other_id]
    # Fleet managers see vehicles, bookings and trips, never household data.
    assert client.get("/households", headers=tokens.header("fleet_manager")).status_code == 403
    assert client.get("/trips", headers=tokens.header("fleet_manager")).status_code == 200
    events = session.scalars(
        select(AuditEvent.actor)
        .where(AuditEvent.entity == "vehicle_booking")
        .order_by(AuditEvent.id)
    ).all()
    assert events == ["test-fleet_manager", "test-caseworker"]


def test_retire(client: TestClient, tokens: Tokens) -> None:
    bike = vehicle_id(client, tokens, "ebike-evw-1")
    # Retiring lists the bookings still to come (real time: two weeks from today).
    later = (date.today() + timedelta(days=14)).isoformat()
    body = {"vehicle": "ebike-evw-1", "start": at("08:00", later), "end": at("09:00", later)}
    future = client.post("/bookings", json=body, headers=tokens.header("coordinator")).json()
    retired = client.post(f"/vehicles/{bike}/retire", headers=tokens.header("fleet_manager"))
    assert retired.status_code == 200, retired.text
    assert retired.json()["vehicle"]["active"] is False
    assert retired.json()["vehicle"]["retired_at"] is not None
    assert retired.json()["future_bookings"] == [future["id"]]
    refused = booking(client, tokens, "coordinator", "ebike-evw-1", "10:00", "11:00")
    assert [c["kind"] for c in refused.json()["conflicts"]] == ["retired"]
    assert (
        client.post(f"/vehicles/{bike}/retire", headers=tokens.header("fleet_manager")).status_code
        == 409
    )
    assert (
        client.post(f"/vehicles/{bike}/retire", headers=tokens.header("caseworker")).status_code
        == 403
    )


def test_find_me_a_vehicle(client: TestClient, tokens: Tokens, session: Session) -> None:
    auth = tokens.header("caseworker")
    short = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("09:00"), "end": at("11:00"), "km": 12},
        headers=auth,
    )
    assert short.status_code == 200, short.text
    found = short.json()
    # e-bikes (2 g/km) before the e-car (58 g/km); the bike with more range left first.
    assert [p["vehicle"] for p in found["free"]] == ["ebike-enn-1", "ebike-enn-2", "ecar-enn-1"]
    assert found["free"][0]["co2e_kg"] == 0.024 and found["free"][2]["co2e_kg"] == 0.696
    assert found["nearest_slots"] == [] and found["refusal_id"] is None
    # 30 km out and back: a 15 km leg is too long for an e-bike (10 km at most).
    far = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("09:00"), "end": at("11:00"), "km": 30},
        headers=auth,
    ).json()
    assert [p["vehicle"] for p in far["free"]] == ["ecar-enn-1"]
    taken = booking(client, tokens, "coordinator", "ecar-enn-1", "08:00", "12:00")
    assert taken.status_code == 201
    busy = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("09:00"), "end": at("11:00"), "km": 30},
        headers=auth,
    ).json()
    assert busy["free"] == []
    # The nearest free two hours: right after the booking (until 12:00) and its
    # 15 minutes' buffer. Before it there is none: it would have to start at 05:45,
    # before the service day (06:00), to leave the buffer before 08:00.
    slots = [(p["vehicle"], p["start"]) for p in busy["nearest_slots"]]
    assert slots[:2] == [
        ("ecar-enn-1", "2026-12-07T11:15:00Z"),
        ("ecar-enn-1", "2026-12-07T11:30:00Z"),
    ]
    assert len(slots) == 5
    assert busy["refusal_id"] is not None
    refusal = session.get(BookingRefusal, busy["refusal_id"])
    assert refusal is not None and (refusal.kind, refusal.outcome) == ("e_car", "refused")
    moved = client.post(
        "/bookings",
        json={
            "vehicle": "ecar-enn-1",
            "start": "2026-12-07T11:15:00Z",
            "end": "2026-12-07T13:15:00Z",
            "km_planned": 30,
            "refusal_id": busy["refusal_id"],
        },
        headers=auth,
    )
    assert moved.status_code == 201, moved.text
    session.refresh(refusal)
    assert (refusal.outcome, refusal.booking_id) == ("moved", moved.json()["id"])
    # A destination instead of km: twice the geodesic distance times the detour factor.
    dest = client.post(
        "/bookings/find",
        json={
            "site": "enn",
            "start": at("15:00"),
            "end": at("17:00"),
            "destination": [51.9253, 7.8476],
            "kinds": ["e_car"],
        },
        headers=auth,
    ).json()
    assert dest["km"] == pytest.approx(2 * 16.03 * 1.3, abs=0.05)  # 16.03 km geodesic
    # Nothing at the office could ride 500 km: no proposal, and no unmet demand either.
    impossible = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("15:00"), "end": at("17:00"), "km": 500},
        headers=auth,
    ).json()
    assert (impossible["free"], impossible["nearest_slots"]) == ([], [])
    assert impossible["refusal_id"] is None
    invalid = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("15:00"), "end": at("17:00")},
        headers=auth,
    )
    assert invalid.status_code == 422


def test_a_refused_booking_is_recorded_only_when_no_vehicle_of_its_kind_is_free(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    assert (
        booking(client, tokens, "coordinator", "ebike-enn-1", "09:00", "10:00").status_code == 201
    )
    # ebike-enn-2 is still free: not a shortage, just the wrong bike.
    other_free = booking(client, tokens, "coordinator", "ebike-enn-1", "09:00", "10:00")
    assert other_free.status_code == 409 and other_free.json()["refusal_id"] is None
    assert (
        booking(client, tokens, "coordinator", "ebike-enn-2", "09:00", "10:00").status_code == 201
    )
    none_free = booking(client, tokens, "caseworker", "ebike-enn-1", "09:30", "10:30", km_planned=8)
    assert none_free.status_code == 409
    refusal = session.get(BookingRefusal, none_free.json()["refusal_id"])
    assert refusal is not None
    assert (refusal.kind, refusal.km, refusal.outcome) == ("e_bike", 8.0, "refused")
    assert session.scalar(select(VehicleBooking.id).where(VehicleBooking.km_planned == 8)) is None


def test_find_with_the_fleet_booked_for_days(client: TestClient, tokens: Tokens) -> None:
    for day in range(4, 11):
        busy = client.post(
            "/bookings",
            json={
                "vehicle": "ecar-enn-1",
                "start": f"2026-12-{day:02d}T06:00:00+01:00",
                "end": f"2026-12-{day:02d}T21:59:00+01:00",
            },
            headers=tokens.header("fleet_manager"),
        )
        assert busy.status_code == 201
    found = client.post(
        "/bookings/find",
        json={"site": "enn", "start": at("09:00"), "end": at("11:00"), "km": 30},
        headers=tokens.header("caseworker"),
    ).json()
    # No slot within three days either side, yet the e-car could ride it: unmet demand.
    assert (found["free"], found["nearest_slots"]) == ([], [])
    assert found["refusal_id"] is not None


def test_a_plan_booking_changes_with_its_plan(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    from test_trips import published_plan

    from fleet.bookings import book
    from scheduler.models import Caseworker, Tour

    plan = published_plan(session)
    tour = session.scalars(
        select(Tour).where(Tour.plan_id == plan.id, Tour.key.startswith("cw01"))
    ).one()
    booked = book(
        session,
        vehicle_id=tour.vehicle_id or 0,
        start=tour.depart,
        end=tour.return_,
        source="plan",
        plan_id=plan.id,
        tour_key=tour.key,
        km_planned=tour.distance_km,
        caseworker_id=session.scalars(select(Caseworker.id).where(Caseworker.key == "cw01")).one(),
    )
    mine = client.get("/bookings", params={"source": "plan"}, headers=tokens.header("caseworker"))
    assert [item["tour_key"] for item in mine.json()["items"]] == [tour.key]
    moved = client.patch(
        f"/bookings/{booked.id}",
        json={"end": "2026-11-30T12:00:00Z"},
        headers=tokens.header("coordinator"),
    )
    assert moved.status_code == 409 and "re-plan" in moved.json()["detail"]
    assert (
        client.post(
            f"/bookings/{booked.id}/cancel", headers=tokens.header("caseworker")
        ).status_code
        == 403
    )
    cancelled = client.post(f"/bookings/{booked.id}/cancel", headers=tokens.header("coordinator"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
