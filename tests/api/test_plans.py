"""Planning runs through the HTTP app on SQLite and PostgreSQL: queue, watch, publish,
409 on a vehicle booked meanwhile (nothing written), re-plans that keep UIDs and report
what moved, appointments by role, and bookings that become blocked time of the export.

The app's run queue is replaced by one that records the plan ids; the test then runs
each plan in its own transaction with ``scheduler.runs.execute_run``, exactly what a
worker does (tests/test_worker.py runs real worker processes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from session_app import WEEK, Tokens
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.routers.plans import get_run_queue
from core.db import write_transaction
from fleet.bookings import book, cancel
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import Appointment, Plan, Tour
from scheduler.runs import execute_run

TIME_LIMIT_S = 2.0


class RecordingQueue:
    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, plan_id: int) -> None:
        self.submitted.append(plan_id)

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def queue(app: FastAPI) -> RecordingQueue:
    recording = RecordingQueue()
    app.dependency_overrides[get_run_queue] = lambda: recording
    return recording


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(client: TestClient, tokens: Tokens, queue: RecordingQueue, session: Session) -> Run:
    """Queue a run through the API, run it as a worker would, and return GET /plans/ID."""

    def queue_and_run(**body: Any) -> dict[str, Any]:
        answer = client.post(
            "/plans",
            json={"week": WEEK, "time_limit_s": TIME_LIMIT_S, **body},
            headers=tokens.header("coordinator"),
        )
        assert answer.status_code == 202, answer.text
        plan_id = answer.json()["id"]
        assert queue.submitted[-1] == plan_id
        assert execute_run(session=session, plan_id=plan_id) == "done"
        done = client.get(f"/plans/{plan_id}", headers=tokens.header("coordinator"))
        assert done.status_code == 200
        return dict(done.json())

    return queue_and_run


def publish(client: TestClient, tokens: Tokens, plan_id: int) -> Any:
    return client.post(f"/plans/{plan_id}/publish", headers=tokens.header("coordinator"))


def publish_ok(client: TestClient, tokens: Tokens, plan_id: int) -> Any:
    """Publish a plan that must publish; a refusal fails with the app's answer."""
    answer = publish(client, tokens, plan_id)
    assert answer.status_code == 200, answer.text
    return answer


def test_queue_watch_and_publish(
    client: TestClient, tokens: Tokens, queue: RecordingQueue, session: Session
) -> None:
    coordinator = tokens.header("coordinator")
    queued = client.post(
        "/plans", json={"week": WEEK, "time_limit_s": TIME_LIMIT_S, "seed": 3}, headers=coordinator
    )
    assert queued.status_code == 202, queued.text
    plan = queued.json()
    assert plan["status"] == "queued" and plan["sites"] == ["enn", "evw"]
    assert plan["progress"]["visits"] == 35 and plan["progress"]["placed"] == 0
    assert plan["plan"] is None and plan["previous_plan_id"] is None
    assert queue.submitted == [plan["id"]]

    assert execute_run(session=session, plan_id=plan["id"]) == "done"
    # A second worker taking the same id finds nothing to do.
    assert execute_run(session=session, plan_id=plan["id"]) is None
    done = client.get(f"/plans/{plan['id']}", headers=coordinator).json()
    assert done["status"] == "done" and done["attempts"] == 1
    assert done["plan"]["format"] == "fieldwork-plan/1"
    assert done["kpis"]["scheduled"] == len(done["plan"]["appointments"]) > 25
    assert done["progress"]["placed"] == done["kpis"]["scheduled"]
    assert done["started_at"] is not None and done["finished_at"] is not None

    listed = client.get("/plans", params={"week": WEEK}, headers=coordinator).json()
    assert [item["id"] for item in listed["items"]] == [plan["id"]]
    assert "plan" not in listed["items"][0]
    assert (
        client.get("/plans", params={"week": "2027-01-04"}, headers=coordinator).json()["total"]
        == 0
    )

    published = publish(client, tokens, plan["id"])
    assert published.status_code == 200, published.text
    result = published.json()
    assert result["counts"] == {
        "new": done["kpis"]["scheduled"],
        "moved": 0,
        "cancelled": 0,
        "unchanged": 0,
    }
    assert result["bookings"] == len(done["plan"]["vehicle_bookings"]) > 0
    assert all(change["uid"].endswith("@fieldwork") for change in result["changes"])
    assert client.get(f"/plans/{plan['id']}", headers=coordinator).json()["status"] == "published"

    rows = session.scalars(select(Appointment).where(Appointment.plan_id == plan["id"])).all()
    assert len(rows) == done["kpis"]["scheduled"]
    assert {row.status for row in rows} == {"confirmed"}
    assert session.scalar(select(func.count()).where(Tour.plan_id == plan["id"])) == len(
        done["plan"]["tours"]
    )
    bookings = session.scalars(
        select(VehicleBooking).where(VehicleBooking.plan_id == plan["id"])
    ).all()
    assert len(bookings) == result["bookings"]
    assert {booking.source for booking in bookings} == {"plan"}

    appointments = client.get("/appointments", params={"limit": 500}, headers=coordinator).json()
    assert appointments["total"] == len(rows)
    first = appointments["items"][0]
    assert first["status"] == "confirmed" and first["sequence"] == 0 and first["tour"]

    # Published once: a second publish is a conflict, not a second set of appointments.
    again = publish(client, tokens, plan["id"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_publish_that_races_a_booking_writes_nothing(
    client: TestClient, tokens: Tokens, run: Run, session: Session
) -> None:
    done = run()
    booked = next(b for b in done["plan"]["vehicle_bookings"])
    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == booked["vehicle"])).one()
    start = datetime.fromisoformat(booked["start"])
    # Someone books the vehicle ad hoc for the middle of the tour after the run ended.
    with write_transaction(session):
        other = book(
            session,
            vehicle_id=vehicle.id,
            start=start + timedelta(minutes=10),
            end=start + timedelta(minutes=40),
            source="adhoc",
            purpose="Fortbildung",
        )

    answer = publish(client, tokens, done["id"])
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 409 and booked["vehicle"] in problem["detail"]
    clash = next(c for c in problem["conflicts"] if c["tour"] == booked["tour"])
    assert clash["vehicle"] == booked["vehicle"]
    assert clash["kind"] == "booking" and clash["other_id"] == other.id
    assert clash["other_source"] == "adhoc" and clash["other_plan_id"] is None
    assert datetime.fromisoformat(clash["other_start"]) == other.start
    assert datetime.fromisoformat(clash["start"]) == start
    assert booked["vehicle"] in clash["reason"] and clash["reason_de"]

    # Nothing written: no appointments, tours or bookings of the plan; still done.
    for model in (Appointment, Tour, VehicleBooking):
        count = session.scalar(select(func.count()).where(model.plan_id == done["id"]))
        assert count == 0, model
    status = client.get(f"/plans/{done['id']}", headers=tokens.header("coordinator"))
    assert status.json()["status"] == "done"

    # Once the ad-hoc booking is cancelled, the same plan publishes.
    with write_transaction(session):
        cancel(session, booking_id=other.id)
    publish_ok(client, tokens, done["id"])


def test_bookings_of_others_are_blocked_time_of_the_next_run(
    client: TestClient, tokens: Tokens, run: Run, session: Session
) -> None:
    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == "ecar-enn-1")).one()
    vehicle.handover_buffer_minutes = 15
    session.flush()
    with write_transaction(session):
        book(
            session,
            vehicle_id=vehicle.id,
            start=datetime.fromisoformat("2026-11-30T07:00:00+00:00"),
            end=datetime.fromisoformat("2026-11-30T15:00:00+00:00"),
            source="adhoc",
        )
    done = run(replan=False)
    plan = session.get(Plan, done["id"])
    assert plan is not None
    exported = next(v for v in plan.scenario["vehicles"] if v["id"] == "ecar-enn-1")
    # Local times (Europe/Berlin, UTC+1), widened by the 15 min handover buffer.
    block = next(b for b in exported["blocked"] if b["reason"] == "gebucht (Einzelbuchung)")
    assert datetime.fromisoformat(block["start"]) == datetime.fromisoformat("2026-11-30T07:45")
    assert datetime.fromisoformat(block["end"]) == datetime.fromisoformat("2026-11-30T16:15")
    for booking in done["plan"]["vehicle_bookings"]:
        if booking["vehicle"] == "ecar-enn-1":
            start = datetime.fromisoformat(booking["start"])
            end = datetime.fromisoformat(booking["end"])
            assert end <= datetime.fromisoformat("2026-11-30T06:45:00+00:00") or start >= (
                datetime.fromisoformat("2026-11-30T15:15:00+00:00")
            )
    publish_ok(client, tokens, done["id"])

    # The published plan's own bookings do not block its re-plan (it replaces them) ...
    again = run()
    assert again["previous_plan_id"] == done["id"]
    replan = session.get(Plan, again["id"])
    assert replan is not None
    reasons = [
        block["reason"]
        for vehicle_doc in replan.scenario["vehicles"]
        for block in vehicle_doc["blocked"]
    ]
    assert reasons.count("gebucht (Einzelbuchung)") == 1
    assert not [reason for reason in reasons if reason.startswith("gebucht (Plan")]


def test_replan_keeps_uids_and_reports_moves_and_cancellations(
    client: TestClient, tokens: Tokens, run: Run, session: Session
) -> None:
    coordinator = tokens.header("coordinator")
    first = run()
    publish_ok(client, tokens, first["id"])
    before = {
        row.visit_request_id: row
        for row in session.scalars(select(Appointment).where(Appointment.plan_id == first["id"]))
    }
    visits = {
        visit["key"]: visit
        for visit in client.get(
            "/visits", params={"week": WEEK, "limit": 500}, headers=coordinator
        ).json()["items"]
    }
    # H0001/1 must now be made on Wednesday (it was planned for Tuesday); H0002/1 now
    # lasts longer than anyone's working day, so it can no longer be planned.
    planned = {a["visit"]: a for a in first["plan"]["appointments"]}
    assert planned["H0001/1"]["start"].startswith("2026-12-01")
    moved_visit, dropped_visit = visits["H0001/1"], visits["H0002/1"]
    changes = (
        (moved_visit, {"earliest": "2026-12-02", "latest": "2026-12-02"}),
        (dropped_visit, {"duration_minutes": 900}),
    )
    for visit, change in changes:
        patched = client.patch(f"/visits/{visit['id']}", json=change, headers=coordinator)
        assert patched.status_code == 200, patched.text

    second = run()
    assert second["previous_plan_id"] == first["id"]
    replanning = second["replanning"]
    assert moved_visit["key"] in replanning["moved"]
    assert dropped_visit["key"] in replanning["dropped"]
    assert replanning["kept"] >= replanning["previous_appointments"] - 5

    published = publish(client, tokens, second["id"])
    assert published.status_code == 200, published.text
    result = published.json()
    assert result["superseded"] == [first["id"]]
    changes = {change["visit"]: change for change in result["changes"]}
    moved = changes[moved_visit["key"]]
    assert moved["kind"] == "moved" and moved["sequence"] == 1
    assert moved["old_start"] != moved["new_start"]
    dropped = changes[dropped_visit["key"]]
    assert dropped["kind"] == "cancelled" and dropped["new_start"] is None
    assert sum(change["kind"] == "unchanged" for change in result["changes"]) == replanning["kept"]

    after = {
        row.visit_request_id: row
        for row in session.scalars(select(Appointment).where(Appointment.plan_id == second["id"]))
    }
    assert set(after) == set(before)  # the cancelled one stays, as cancelled
    for visit_id, old in before.items():
        new = after[visit_id]
        assert new.uid == old.uid
        if new.status == "cancelled":
            assert new.tour_key is None and new.sequence == old.sequence + 1
            assert (new.start, new.caseworker_id) == (old.start, old.caseworker_id)
            assert new.updated_at > old.updated_at
        elif (new.start, new.caseworker_id) == (old.start, old.caseworker_id):
            assert new.sequence == old.sequence and new.updated_at == old.updated_at
        else:
            assert new.sequence == old.sequence + 1 and new.updated_at > old.updated_at
    plans = client.get("/plans", params={"week": WEEK}, headers=coordinator).json()["items"]
    assert {p["id"]: p["status"] for p in plans} == {
        first["id"]: "superseded",
        second["id"]: "published",
    }
    # Only the published plan's bookings hold the vehicles now; the superseded plan's
    # stay on record, cancelled.
    active = set(
        session.scalars(select(VehicleBooking.plan_id).where(VehicleBooking.status == "active"))
    )
    assert active == {second["id"]}
    superseded_bookings = session.scalars(
        select(VehicleBooking.status).where(VehicleBooking.plan_id == first["id"])
    ).all()
    assert superseded_bookings and set(superseded_bookings) == {"cancelled"}
    # Calendars and lists read the published plan only; the cancellation is listed.
    listed = client.get("/appointments", params={"limit": 500}, headers=coordinator).json()
    assert {item["plan_id"] for item in listed["items"]} == {second["id"]}
    cancelled = [item for item in listed["items"] if item["status"] == "cancelled"]
    assert [item["visit"] for item in cancelled] == [dropped_visit["key"]]
    assert cancelled[0]["tour"] is None


def test_roles_and_appointments_of_a_caseworker(
    client: TestClient, tokens: Tokens, run: Run, session: Session
) -> None:
    done = run()
    publish_ok(client, tokens, done["id"])
    own = client.get(
        "/appointments", params={"limit": 500}, headers=tokens.header("caseworker")
    ).json()
    assert own["total"] > 0
    assert {item["caseworker"] for item in own["items"]} == {"cw01"}
    everyone = client.get(
        "/appointments", params={"limit": 500}, headers=tokens.header("coordinator")
    ).json()
    assert {item["caseworker"] for item in everyone["items"]} > {"cw01"}
    foreign = next(item for item in everyone["items"] if item["caseworker"] != "cw01")

    # Another caseworker's appointment or list does not exist for cw01.
    caseworker = tokens.header("caseworker")
    assert client.get(f"/appointments/{foreign['id']}", headers=caseworker).status_code == 404
    assert (
        client.get(
            "/appointments", params={"caseworker": foreign["caseworker"]}, headers=caseworker
        ).status_code
        == 404
    )
    assert (
        client.get(f"/appointments/{own['items'][0]['id']}", headers=caseworker).json()[
            "caseworker"
        ]
        == "cw01"
    )
    filtered = client.get(
        "/appointments", params={"caseworker": "cw01", "limit": 500}, headers=caseworker
    ).json()
    assert filtered["total"] == own["total"]

    # Time window: only what overlaps it.
    first_day = client.get(
        "/appointments",
        params={"from": "2026-11-30T00:00:00+01:00", "to": "2026-12-01T00:00:00+01:00"},
        headers=tokens.header("coordinator"),
    ).json()
    assert 0 < first_day["total"] < everyone["total"]
    assert all(item["start"].startswith("2026-11-30") for item in first_day["items"])

    # A fleet manager sees no appointments (they name households); only planners plan.
    fleet = tokens.header("fleet_manager")
    assert client.get("/appointments", headers=fleet).status_code == 403
    for role in ("caseworker", "fleet_manager"):
        header = tokens.header(role)
        assert client.get("/plans", headers=header).status_code == 403
        assert client.get(f"/plans/{done['id']}", headers=header).status_code == 403
        assert client.post("/plans", json={"week": WEEK}, headers=header).status_code == 403
        assert client.post(f"/plans/{done['id']}/publish", headers=header).status_code == 403
    assert client.get("/plans").status_code == 401


def test_bad_requests(client: TestClient, tokens: Tokens, queue: RecordingQueue) -> None:
    coordinator = tokens.header("coordinator")
    slow = client.post("/plans", json={"week": WEEK, "time_limit_s": 0}, headers=coordinator)
    assert slow.status_code == 422
    assert slow.headers["content-type"].startswith("application/problem+json")
    assert [error["path"] for error in slow.json()["errors"]] == ["$.time_limit_s"]
    unknown_week = client.post("/plans", json={"week": "2027-01-04"}, headers=coordinator)
    assert unknown_week.status_code == 404
    unknown_site = client.post(
        "/plans", json={"week": WEEK, "sites": ["nowhere"]}, headers=coordinator
    )
    assert unknown_site.status_code == 404 and "nowhere" in unknown_site.json()["detail"]
    nothing_to_replan = client.post(
        "/plans", json={"week": WEEK, "replan": True}, headers=coordinator
    )
    assert nothing_to_replan.status_code == 409
    assert queue.submitted == []
    assert client.get("/plans/999999", headers=coordinator).status_code == 404
    assert client.post("/plans/999999/publish", headers=coordinator).status_code == 404
    queued = client.post("/plans", json={"week": WEEK}, headers=coordinator).json()
    not_done = client.post(f"/plans/{queued['id']}/publish", headers=coordinator)
    assert not_done.status_code == 409 and "queued" in not_done.json()["detail"]
    backwards = client.get(
        "/appointments",
        params={"from": "2026-12-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"},
        headers=coordinator,
    )
    assert backwards.status_code == 422


def test_a_plan_queued_before_another_was_published_cannot_undo_it(
    client: TestClient, tokens: Tokens, run: Run
) -> None:
    first, second = run(seed=1), run(seed=2)
    assert first["previous_plan_id"] is None and second["previous_plan_id"] is None
    publish_ok(client, tokens, first["id"])
    stale = publish(client, tokens, second["id"])
    assert stale.status_code == 409
    assert f"plan {first['id']} was published after plan {second['id']}" in stale.json()["detail"]
    assert (
        client.get(f"/plans/{second['id']}", headers=tokens.header("coordinator")).json()["status"]
        == "done"
    )
    # A new run starts from the published plan and may replace it.
    third = run()
    assert third["previous_plan_id"] == first["id"]
    assert publish(client, tokens, third["id"]).json()["superseded"] == [first["id"]]


def test_cancel_a_queued_run_and_discard_a_done_plan(
    client: TestClient, tokens: Tokens, queue: RecordingQueue, run: Run, session: Session
) -> None:
    coordinator = tokens.header("coordinator")
    queued = client.post("/plans", json={"week": WEEK}, headers=coordinator).json()
    cancelled = client.post(f"/plans/{queued['id']}/cancel", headers=coordinator)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    # The worker that takes the id later finds nothing to run.
    assert execute_run(session=session, plan_id=queued["id"]) is None
    assert publish(client, tokens, queued["id"]).status_code == 409
    again = client.post(f"/plans/{queued['id']}/cancel", headers=coordinator)
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]

    done = run()
    assert client.post(f"/plans/{done['id']}/cancel", headers=coordinator).status_code == 200
    assert publish(client, tokens, done["id"]).status_code == 409
    published = run()
    publish_ok(client, tokens, published["id"])
    refused = client.post(f"/plans/{published['id']}/cancel", headers=coordinator)
    assert refused.status_code == 409 and "published" in refused.json()["detail"]
    assert client.post("/plans/999999/cancel", headers=coordinator).status_code == 404
    caseworker = tokens.header("caseworker")
    assert client.post(f"/plans/{done['id']}/cancel", headers=caseworker).status_code == 403
