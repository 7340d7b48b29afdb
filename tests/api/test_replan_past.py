"""A re-plan in the middle of a week through the HTTP app (SQLite and PostgreSQL): what
has started before the run's now stays exactly as published (tours, appointments,
bookings), the rest of the week is re-planned; a tour confirmed under the superseded
plan stays confirmed (trip log and report); publishing counts paperless steps.

The run's now is set through the ``run_clock`` dependency: Wednesday 10:00 of the demo
week (Mon 2026-11-30 .. Fri 2026-12-04, Europe/Berlin)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from session_app import WEEK, Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_plans import RecordingQueue, publish, publish_ok, queue  # noqa: F401 (fixture)

from api.routers.plans import run_clock
from core.paperless import PaperlessEvent
from fleet.models import VehicleBooking
from scheduler.models import Appointment, Caseworker, Plan, Site, Tour
from scheduler.runs import execute_run

TIME_LIMIT_S = 2.0
#: Wednesday 10:00 in Ennigerloh: Monday, Tuesday and Wednesday morning are the past.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def run_at(
    client: TestClient,
    tokens: Tokens,
    app: FastAPI,
    session: Session,
    now: datetime | None,
) -> dict[str, Any]:
    if now is not None:
        app.dependency_overrides[run_clock] = lambda: now
    else:
        app.dependency_overrides.pop(run_clock, None)
    coordinator = tokens.header("coordinator")
    answer = client.post(
        "/plans", json={"week": WEEK, "time_limit_s": TIME_LIMIT_S}, headers=coordinator
    )
    assert answer.status_code == 202, answer.text
    plan_id = answer.json()["id"]
    assert execute_run(session=session, plan_id=plan_id) == "done"
    return dict(client.get(f"/plans/{plan_id}", headers=coordinator).json())


def appointments(session: Session, plan_id: int) -> dict[int, Appointment]:
    return {
        row.visit_request_id: row
        for row in session.scalars(select(Appointment).where(Appointment.plan_id == plan_id))
    }


def tours(session: Session, plan_id: int) -> dict[str, Tour]:
    return {row.key: row for row in session.scalars(select(Tour).where(Tour.plan_id == plan_id))}


@pytest.mark.usefixtures("queue")
def test_a_midweek_replan_keeps_the_past_exactly(
    client: TestClient, tokens: Tokens, app: FastAPI, session: Session
) -> None:
    coordinator = tokens.header("coordinator")
    first = run_at(client, tokens, app, session, None)
    publish_ok(client, tokens, first["id"])
    before = appointments(session, first["id"])
    before_tours = tours(session, first["id"])
    past = {vid: a for vid, a in before.items() if a.start < NOW}
    assert len(past) >= 5 and len(past) < len(before)
    kept_tours = {key for key, tour in before_tours.items() if tour.depart < NOW}
    visits = {
        visit["id"]: visit
        for visit in client.get(
            "/visits", params={"week": WEEK, "limit": 500}, headers=coordinator
        ).json()["items"]
    }
    # Changes that would move or drop past visits in a whole-week re-plan: one of
    # Monday's visits now lasts longer than a working day, another must be on Friday.
    monday = sorted(
        (a for a in past.values() if a.start.date() == datetime(2026, 11, 30).date()),
        key=lambda a: a.start,
    )
    assert len(monday) >= 2
    too_long, to_friday = monday[0], monday[1]
    future = next(a for a in before.values() if a.start > NOW)
    for visit_id, change in (
        (too_long.visit_request_id, {"duration_minutes": 900}),
        (to_friday.visit_request_id, {"earliest": "2026-12-04"}),
        (future.visit_request_id, {"duration_minutes": 900}),
    ):
        patched = client.patch(f"/visits/{visit_id}", json=change, headers=coordinator)
        assert patched.status_code == 200, patched.text

    second = run_at(client, tokens, app, session, NOW)
    assert second["previous_plan_id"] == first["id"]
    plan_row = session.get(Plan, second["id"])
    assert plan_row is not None and plan_row.created_at == NOW
    # The run planned the rest of the week only: the kept visits are not in its
    # scenario, every caseworker is away until now, and nothing new starts before now.
    planned_keys = {visit["id"] for visit in plan_row.scenario["visits"]}
    assert not planned_keys & {visits[vid]["key"] for vid in past}
    for caseworker in plan_row.scenario["caseworkers"]:
        assert {"start": "2026-11-30T00:00", "end": "2026-12-02T10:00", "reason": "vergangen"} in (
            caseworker["absences"]
        )
    for appointment in second["plan"]["appointments"]:
        assert datetime.fromisoformat(appointment["start"]) >= NOW
    assert visits[future.visit_request_id]["key"] in second["replanning"]["dropped"]

    published = publish(client, tokens, second["id"])
    assert published.status_code == 200, published.text
    result = published.json()
    changes = {change["uid"]: change for change in result["changes"]}
    after = appointments(session, second["id"])
    for visit_id, old in past.items():
        new = after[visit_id]
        assert (
            new.status,
            new.caseworker_id,
            new.start,
            new.end,
            new.tour_key,
            new.uid,
            new.sequence,
            new.updated_at,
        ) == (
            old.status,
            old.caseworker_id,
            old.start,
            old.end,
            old.tour_key,
            old.uid,
            old.sequence,
            old.updated_at,
        )
        assert changes[old.uid]["kind"] == "unchanged"
    assert after[future.visit_request_id].status == "cancelled"
    assert changes[future.uid]["kind"] == "cancelled"

    after_tours = tours(session, second["id"])
    fields = ("caseworker_id", "date", "mode", "vehicle_id", "depart", "return_", "distance_km")
    for key in kept_tours:
        old_tour, new_tour = before_tours[key], after_tours[key]
        assert [getattr(new_tour, f) for f in fields] == [getattr(old_tour, f) for f in fields]
        assert new_tour.legs == old_tour.legs and new_tour.co2e_kg == old_tour.co2e_kg
    # The kept tours' bookings are the same rows, now the new plan's; the superseded
    # plan has no active booking left.
    bookings = list(
        session.scalars(
            select(VehicleBooking).where(
                VehicleBooking.plan_id.in_((first["id"], second["id"])),
                VehicleBooking.status == "active",
            )
        )
    )
    assert {b.plan_id for b in bookings} == {second["id"]}
    kept_booked = {b.tour_key for b in bookings if b.tour_key in kept_tours}
    assert kept_booked == {key for key in kept_tours if before_tours[key].vehicle_id is not None}
    assert kept_booked


@pytest.mark.usefixtures("queue")
def test_a_tour_confirmed_before_a_replan_stays_confirmed(
    client: TestClient, tokens: Tokens, app: FastAPI, session: Session
) -> None:
    first = run_at(client, tokens, app, session, None)
    publish_ok(client, tokens, first["id"])
    monday_tours = sorted(
        (t for t in tours(session, first["id"]).values() if t.depart < NOW),
        key=lambda t: (t.date, t.key),
    )
    cw01 = session.scalars(select(Caseworker.id).where(Caseworker.key == "cw01")).one()
    tour = next(t for t in monday_tours if t.caseworker_id == cw01)
    auth = tokens.header("caseworker")  # cw01
    week = {"from": "2026-11-30", "to": "2026-12-04"}
    confirmed = client.post(
        "/trips/confirm",
        json={"plan_id": first["id"], "tour": tour.key, "km": tour.distance_km + 1},
        headers=auth,
    )
    assert confirmed.status_code == 201, confirmed.text
    planned_before = client.get("/trips/planned", params=week, headers=auth).json()
    assert tour.key not in {p["tour_key"] for p in planned_before}

    second = run_at(client, tokens, app, session, NOW)
    publish_ok(client, tokens, second["id"])
    assert tour.key in tours(session, second["id"])  # carried over
    planned = client.get("/trips/planned", params=week, headers=auth).json()
    assert tour.key not in {p["tour_key"] for p in planned}
    assert {p["plan_id"] for p in planned} == {second["id"]}
    twice = client.post(
        "/trips/confirm",
        json={"plan_id": second["id"], "tour": tour.key, "km": tour.distance_km},
        headers=auth,
    )
    assert twice.status_code == 409, twice.text
    assert f"plan {first['id']}" in twice.json()["detail"]
    # Another tour of the new plan is confirmed as usual.
    other = next(p for p in planned)
    again = client.post(
        "/trips/confirm",
        json={"plan_id": second["id"], "tour": other["tour_key"], "km": other["km_planned"]},
        headers=auth,
    )
    assert again.status_code == 201, again.text

    report = client.get(
        "/reports/sustainability", params=week, headers=tokens.header("coordinator")
    )
    assert report.status_code == 200, report.text
    body = report.json()
    published_tours = tours(session, second["id"])
    counted = body["planned_vs_confirmed"]
    # Every tour of the published plan once: two confirmed by trips, the rest planned.
    assert counted["tours_confirmed"] == 2
    assert counted["tours_unconfirmed"] == len(published_tours) - 2
    assert Counter(line["status"] for line in body["trips"]) == {
        "confirmed": 2,
        "planned": len(published_tours) - 2,
    }
    planned_km = sum(
        t.distance_km
        for key, t in published_tours.items()
        if key not in (tour.key, other["tour_key"])
    )
    assert counted["km_unconfirmed"] == pytest.approx(planned_km, abs=0.01)


@pytest.mark.usefixtures("queue")
def test_publishing_counts_a_paperless_step_per_site(
    client: TestClient, tokens: Tokens, app: FastAPI, session: Session
) -> None:
    first = run_at(client, tokens, app, session, None)
    publish_ok(client, tokens, first["id"])
    expected: dict[int, set[int]] = {}
    for row in appointments(session, first["id"]).values():
        caseworker = session.get(Caseworker, row.caseworker_id)
        assert caseworker is not None
        expected.setdefault(caseworker.site_id, set()).add(caseworker.id)
    events = list(
        session.scalars(select(PaperlessEvent).where(PaperlessEvent.kind == "plan_published"))
    )
    assert {(e.site_id, e.count, e.reference) for e in events} == {
        (site_id, len(ids), f"plan:{first['id']}") for site_id, ids in expected.items()
    }
    assert len(expected) == len(list(session.scalars(select(Site)))) == 2

    # A re-plan publishes again: its own steps, and the first plan's stay.
    second = run_at(client, tokens, app, session, NOW)
    publish_ok(client, tokens, second["id"])
    refs = Counter(
        e.reference
        for e in session.scalars(
            select(PaperlessEvent).where(PaperlessEvent.kind == "plan_published")
        )
    )
    assert refs == {f"plan:{first['id']}": 2, f"plan:{second['id']}": 2}


@pytest.mark.usefixtures("queue")
def test_a_week_that_is_over_is_not_replanned(
    client: TestClient, tokens: Tokens, app: FastAPI, session: Session
) -> None:
    first = run_at(client, tokens, app, session, None)
    publish_ok(client, tokens, first["id"])
    app.dependency_overrides[run_clock] = lambda: datetime(2026, 12, 7, 8, tzinfo=UTC)
    late = client.post(
        "/plans",
        json={"week": WEEK, "time_limit_s": TIME_LIMIT_S},
        headers=tokens.header("coordinator"),
    )
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert "is over" in late.json()["detail"]
    assert session.scalars(select(Plan.id)).all() == [first["id"]]
