"""CalDAV push into a real Radicale server that the test starts on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import caldav
import icalendar
import pytest
from fastapi.testclient import TestClient
from feed_helpers import NoQueue, Planner, caseworker_id
from live_server import free_port
from session_app import Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent

USER, PASSWORD = "anna", "app-password-123"


@dataclass(frozen=True)
class Radicale:
    base: str
    calendar_url: str


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    """Radicale with one user (htpasswd, plain) and an empty calendar of theirs."""
    users = tmp_path / "users"
    users.write_text(f"{USER}:{PASSWORD}\n")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(users),
            "--auth-htpasswd-encryption",
            "plain",
            "--rights-type",
            "owner_only",
            "--storage-filesystem-folder",
            str(tmp_path / "collections"),
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    stderr = server.stderr.read().decode() if server.stderr else ""
                    pytest.fail(f"Radicale did not start: {stderr}")
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/"
        with caldav.DAVClient(url=base, username=USER, password=PASSWORD) as client:
            calendar = client.principal().make_calendar(name="fieldwork", cal_id="fieldwork")
            url = str(calendar.url)
        yield Radicale(base=base, calendar_url=url)
    finally:
        server.terminate()
        server.wait(timeout=10)


def server_events(radicale: Radicale) -> dict[str, icalendar.Event]:
    with caldav.DAVClient(url=radicale.base, username=USER, password=PASSWORD) as client:
        calendar = client.calendar(url=radicale.calendar_url)
        events = {}
        for resource in calendar.events():
            for event in icalendar.Calendar.from_ical(resource.data).walk("VEVENT"):
                events[str(event["UID"])] = event
        return events


def test_push_into_radicale(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session, radicale: Radicale
) -> None:
    published = planner.publish(days=2, per_day=2)
    cw01 = caseworker_id(session, "cw01")
    header = tokens.header("caseworker")
    settings = {
        "email": "anna@team.example",
        "caldav_url": radicale.calendar_url,
        "caldav_username": USER,
        "caldav_password": PASSWORD,
    }
    written = client.put(f"/feeds/caseworkers/{cw01}/settings", json=settings, headers=header)
    assert written.status_code == 200, written.text
    assert written.json()["caldav_password_set"] is True
    shown = client.get(f"/feeds/caseworkers/{cw01}/settings", headers=header)
    assert PASSWORD not in shown.text and "caldav_password" not in shown.json()
    audited = session.scalars(select(AuditEvent).where(AuditEvent.entity == "caseworker_calendar"))
    assert all(PASSWORD not in str(event.detail) for event in audited)
    # Only the caseworker themself (or a coordinator) sees these settings.
    assert (
        client.get(
            f"/feeds/caseworkers/{cw01}/settings", headers=tokens.header("fleet_manager")
        ).status_code
        == 403
    )

    # A hand-made event in the same calendar is not the service's to touch.
    with caldav.DAVClient(url=radicale.base, username=USER, password=PASSWORD) as dav:
        dav.calendar(url=radicale.calendar_url).save_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//team//hand//DE\r\n"
            "BEGIN:VEVENT\r\nUID:own-event@team.example\r\nDTSTAMP:20261123T100000Z\r\n"
            "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Teamsitzung\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        )

    push = f"/feeds/caseworkers/{cw01}/push"
    first = client.post(push, headers=header)
    assert first.status_code == 200, first.text
    # Four visits and a way out and back for each of the two tours.
    assert first.json() == {"created": 8, "updated": 0, "deleted": 0, "unchanged": 0}
    on_server = server_events(radicale)
    for appointment in published.appointments:
        event = on_server[appointment.uid]
        assert event["DTSTART"].dt.astimezone(UTC) == appointment.start
        assert event["DTEND"].dt.astimezone(UTC) == appointment.end
        assert "Hausbesuch" in str(event["SUMMARY"])
    assert "own-event@team.example" in on_server

    assert client.post(push, headers=header).json() == {
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 8,
    }

    # A re-plan moves the first visit and cancels both of the second day: the moved
    # visit and its tour's travel blocks are rewritten (the way out now ends later,
    # SEQUENCE 1), the others become cancelled and the second tour's travel blocks go.
    now = datetime.now(UTC)
    moved, _, *second_day = published.appointments
    moved.start += timedelta(minutes=30)
    moved.end += timedelta(minutes=30)
    moved.sequence, moved.updated_at = 1, now
    for appointment in second_day:
        appointment.status, appointment.tour_key = "cancelled", None
        appointment.sequence, appointment.updated_at = 1, now
    session.flush()
    again = client.post(push, headers=header)
    assert again.json() == {"created": 0, "updated": 5, "deleted": 2, "unchanged": 1}
    on_server = server_events(radicale)
    assert on_server[moved.uid]["DTSTART"].dt.astimezone(UTC) == moved.start
    assert int(on_server[moved.uid]["SEQUENCE"]) == 1
    assert all(str(on_server[a.uid]["STATUS"]) == "CANCELLED" for a in second_day)
    assert "own-event@team.example" in on_server
    assert len(on_server) == 1 + 6

    state = client.get(f"/feeds/caseworkers/{cw01}/settings", headers=header).json()
    assert state["caldav_pushed_at"] is not None and state["caldav_error"] is None

    # A wrong password: the push fails with a problem, and the error is kept.
    wrong = {**settings, "caldav_password": "wrong"}
    client.put(f"/feeds/caseworkers/{cw01}/settings", json=wrong, headers=header)
    failed = client.post(push, headers=header)
    assert failed.status_code == 422
    assert failed.headers["content-type"] == "application/problem+json"
    assert "CalDAV push" in failed.json()["detail"] and "wrong" not in failed.json()["detail"]
    state = client.get(f"/feeds/caseworkers/{cw01}/settings", headers=header).json()
    assert state["caldav_error"]


def test_publishing_pushes_the_calendars_it_changed(
    client: TestClient, tokens: Tokens, session: Session, radicale: Radicale
) -> None:
    from api.routers.plans import get_run_queue
    from scheduler.models import Appointment, Plan
    from scheduler.runs import execute_run

    client.app.dependency_overrides[get_run_queue] = NoQueue  # type: ignore[attr-defined]
    coordinator = tokens.header("coordinator")
    cw01 = caseworker_id(session, "cw01")
    settings = {"caldav_url": radicale.calendar_url, "caldav_username": USER}
    written = client.put(
        f"/feeds/caseworkers/{cw01}/settings",
        json={**settings, "caldav_password": PASSWORD},
        headers=coordinator,
    )
    assert written.status_code == 200, written.text
    queued = client.post(
        "/plans", json={"week": "2026-11-30", "time_limit_s": 2.0}, headers=coordinator
    )
    assert queued.status_code == 202, queued.text
    plan_id = queued.json()["id"]
    assert execute_run(session=session, plan_id=plan_id) == "done"
    published = client.post(f"/plans/{plan_id}/publish", headers=coordinator)
    assert published.status_code == 200, published.text

    # The push ran after the answer (a background task) for cw01, who has a target.
    state = client.get(f"/feeds/caseworkers/{cw01}/settings", headers=coordinator).json()
    assert state["caldav_pushed_at"] is not None and state["caldav_error"] is None
    since = datetime.now(UTC) - timedelta(days=30)
    expected = {
        a.uid
        for a in session.scalars(
            select(Appointment)
            .join(Plan, Plan.id == Appointment.plan_id)
            .where(Plan.id == plan_id, Appointment.caseworker_id == cw01)
        )
        if a.end >= since
    }
    pushed = {uid for uid in server_events(radicale) if not uid.startswith("tour-")}
    assert pushed == expected
