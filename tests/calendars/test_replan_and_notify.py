"""A re-plan through the real publish service as a feed shows it, and same-day changes
mailed to a local SMTP server (aiosmtpd) with an iTIP attachment a strict parser reads."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from feed_checks import strict
from feed_helpers import NoQueue, Planner, caseworker_id
from ical.calendar_stream import IcsCalendarStream
from live_server import free_port
from session_app import Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.routers.feeds import feed_clock
from api.routers.plans import get_run_queue
from calendars.models import CaseworkerCalendar
from calendars.notify import notify_changes
from calendars.service import options_from
from core.settings import Settings
from scheduler.models import Appointment, Caseworker
from scheduler.runs import execute_run

WEEK = "2026-11-30"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free port of this machine."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Change:
    """As ``scheduler.publishing.AppointmentChange`` (the protocol notify reads)."""

    uid: str
    caseworker_id: int
    old_caseworker_id: int | None
    kind: str
    old_start: datetime | None
    old_end: datetime | None
    new_start: datetime | None
    new_end: datetime | None


def itip_of(message: EmailMessage) -> tuple[str, bytes]:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    method = parts[0].get_param("method")
    payload = parts[0].get_payload(decode=True)
    assert isinstance(method, str) and isinstance(payload, bytes)
    return method, payload


def test_same_day_changes_are_mailed_with_itip(
    session: Session, planner: Planner, smtp: tuple[Mailbox, int], settings: Settings
) -> None:
    mailbox, port = smtp
    now = datetime.now(UTC)
    today = now.date()
    soon = planner.publish(caseworker="cw01", start=today + timedelta(days=1), days=1, per_day=3)
    later = planner.publish(caseworker="cw03", start=today + timedelta(days=5), days=1, per_day=1)
    cw01, cw03, cw05 = (caseworker_id(session, key) for key in ("cw01", "cw03", "cw05"))
    session.add(CaseworkerCalendar(caseworker_id=cw01, email="anna@team.example"))
    session.add(CaseworkerCalendar(caseworker_id=cw03, email="ben@team.example"))
    session.add(CaseworkerCalendar(caseworker_id=cw05, email="cem@team.example"))

    # What a re-plan did: moved one of tomorrow's visits, cancelled another, handed the
    # third to cw05; and moved a visit next week (no mail: the feed has time for it).
    moved, cancelled, handed = soon.appointments
    old_moved = (moved.start, moved.end)
    moved.start, moved.end = moved.start + timedelta(hours=2), moved.end + timedelta(hours=2)
    moved.sequence, moved.updated_at = 1, now
    cancelled.status, cancelled.tour_key = "cancelled", None
    cancelled.sequence, cancelled.updated_at = 1, now
    handed.caseworker_id = cw05
    handed.sequence, handed.updated_at = 1, now
    far = later.appointments[0]
    session.flush()
    changes = [
        Change(moved.uid, cw01, cw01, "moved", *old_moved, moved.start, moved.end),
        Change(cancelled.uid, cw01, cw01, "cancelled", cancelled.start, cancelled.end, None, None),
        Change(handed.uid, cw05, cw01, "moved", handed.start, handed.end, handed.start, handed.end),
        Change(far.uid, cw03, cw03, "moved", far.start, far.end, far.start, far.end),
        Change("unchanged@x", cw01, cw01, "unchanged", None, None, None, None),
    ]
    configured = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    report = notify_changes(
        session=session,
        changes=changes,
        settings=configured,
        options=options_from(configured),
        now=now,
    )
    assert report.failed == [] and not report.smtp_off
    assert sorted(report.sent) == sorted(
        ["anna@team.example", "anna@team.example", "anna@team.example", "cem@team.example"]
    )
    assert len(mailbox.messages) == 4
    by_uid: dict[tuple[str, str], tuple[str, EmailMessage]] = {}
    for message in mailbox.messages:
        method, payload = itip_of(message)
        calendar = IcsCalendarStream.calendar_from_ics(payload.decode("utf-8"))
        assert calendar.method == method
        (event,) = calendar.events
        by_uid[(str(event.uid), str(message["To"]))] = (method, message)
        assert event.sequence == 1
        assert "Geheim" not in message.as_string()
    method, message = by_uid[(moved.uid, "anna@team.example")]
    assert method == "REQUEST"
    assert str(message["Subject"]).startswith("Terminänderung")
    event = IcsCalendarStream.calendar_from_ics(itip_of(message)[1].decode()).events[0]
    assert event.dtstart.astimezone(UTC) == moved.start
    method, message = by_uid[(cancelled.uid, "anna@team.example")]
    assert method == "CANCEL" and str(message["Subject"]).startswith("Termin abgesagt")
    assert by_uid[(handed.uid, "cem@team.example")][0] == "REQUEST"
    assert by_uid[(handed.uid, "anna@team.example")][0] == "CANCEL"

    # Without an address: reported, not mailed; without SMTP: nothing sent, said so.
    session.get(CaseworkerCalendar, cw01).email = None  # type: ignore[union-attr]
    session.flush()
    quiet = notify_changes(
        session=session, changes=changes, settings=settings, options=options_from(settings), now=now
    )
    assert quiet.no_address == ["cw01"] and quiet.smtp_off and quiet.sent == []
    assert len(mailbox.messages) == 4


def test_replan_through_publish_keeps_uid_and_raises_sequence(
    client: TestClient, tokens: Tokens, session: Session, example: None
) -> None:
    app = client.app
    app.dependency_overrides[get_run_queue] = NoQueue  # type: ignore[attr-defined]

    # The week of 2026-11-30 seen from the Sunday before it.
    async def sunday_before() -> datetime:
        return datetime(2026, 11, 29, 12, tzinfo=UTC)

    app.dependency_overrides[feed_clock] = sunday_before  # type: ignore[attr-defined]
    coordinator = tokens.header("coordinator")

    def run_and_publish() -> dict[str, Any]:
        queued = client.post(
            "/plans", json={"week": WEEK, "time_limit_s": 2.0}, headers=coordinator
        )
        assert queued.status_code == 202, queued.text
        plan_id = queued.json()["id"]
        assert execute_run(session=session, plan_id=plan_id) == "done"
        published = client.post(f"/plans/{plan_id}/publish", headers=coordinator)
        assert published.status_code == 200, published.text
        return dict(published.json())

    run_and_publish()
    visits = {
        v["key"]: v
        for v in client.get(
            "/visits", params={"week": WEEK, "limit": 500}, headers=coordinator
        ).json()["items"]
    }
    first = {
        a.visit_request_id: a
        for a in session.scalars(select(Appointment).where(Appointment.status == "confirmed"))
    }
    h1, h2 = visits["H0001/1"], visits["H0002/1"]
    owner = session.get(Caseworker, first[h1["id"]].caseworker_id)
    assert owner is not None
    feed = client.post(f"/feeds/caseworkers/{owner.id}", headers=coordinator).json()
    path = "/feeds/" + feed["token"] + ".ics"
    before = {s.uid: s for s in strict(client.get(path).content)}
    moved_uid = first[h1["id"]].uid
    assert before[moved_uid].sequence == 0

    for visit, change in (
        (h1, {"earliest": "2026-12-02", "latest": "2026-12-02"}),
        (h2, {"duration_minutes": 900}),
    ):
        assert (
            client.patch(f"/visits/{visit['id']}", json=change, headers=coordinator).status_code
            == 200
        )
    result = run_and_publish()
    kinds = {c["visit"]: c["kind"] for c in result["changes"]}
    assert kinds["H0001/1"] == "moved" and kinds["H0002/1"] == "cancelled"

    after_feed = client.get(path)
    assert after_feed.status_code == 200
    after = {s.uid: s for s in strict(after_feed.content)}
    assert after[moved_uid].sequence == 1
    assert after[moved_uid].start != before[moved_uid].start
    assert after[moved_uid].start.date().isoformat() == "2026-12-02"
    cancelled = session.scalars(select(Appointment).where(Appointment.status == "cancelled")).one()
    assert cancelled.uid == first[h2["id"]].uid
    if cancelled.caseworker_id == owner.id:
        other_path = path
    else:
        other = client.post(f"/feeds/caseworkers/{cancelled.caseworker_id}", headers=coordinator)
        other_path = "/feeds/" + other.json()["token"] + ".ics"
    shown = {s.uid: s for s in strict(client.get(other_path).content)}
    assert shown[cancelled.uid].status == "CANCELLED"
    assert shown[cancelled.uid].sequence == first[h2["id"]].sequence + 1
    assert shown[cancelled.uid].start == first[h2["id"]].start
    # Every UID once, although two plans hold the week.
    assert len(after) == len(strict(after_feed.content))


def test_a_booking_cancelled_for_tomorrow_is_mailed(
    session: Session, example: None, smtp: tuple[Mailbox, int], settings: Settings
) -> None:
    from calendars.notify import notify_booking_change
    from fleet.bookings import book, cancel
    from fleet.models import Vehicle

    mailbox, port = smtp
    now = datetime.now(UTC).replace(microsecond=0)
    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == "ecar-enn-1")).one()
    cw03 = caseworker_id(session, "cw03")
    session.add(CaseworkerCalendar(caseworker_id=cw03, email="ben@team.example"))
    tomorrow = now + timedelta(days=1)
    booking = book(
        session,
        vehicle_id=vehicle.id,
        start=tomorrow,
        end=tomorrow + timedelta(hours=2),
        source="adhoc",
        caseworker_id=cw03,
        purpose="Hilfeplangespräch",
    )
    later = book(
        session,
        vehicle_id=vehicle.id,
        start=now + timedelta(days=6),
        end=now + timedelta(days=6, hours=1),
        source="adhoc",
        caseworker_id=cw03,
    )
    configured = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    for row in (booking, later):
        cancel(session, booking_id=row.id)
        report = notify_booking_change(
            session=session,
            booking_id=row.id,
            kind="cancelled",
            old_start=row.start,
            old_end=row.end,
            settings=configured,
            options=options_from(configured),
            now=now,
        )
        assert report.sent == (["ben@team.example"] if row is booking else [])
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert str(message["Subject"]).startswith("Termin abgesagt")
    assert "E-Auto Ennigerloh 1" in str(message["Subject"])
    method, payload = itip_of(message)
    assert method == "CANCEL"
    (event,) = IcsCalendarStream.calendar_from_ics(payload.decode()).events
    assert event.uid == f"booking-{booking.id}@fieldwork"
    assert event.dtstart.astimezone(UTC) == booking.start


def test_booking_endpoints_mail_short_notice_changes(
    session: Session,
    make_client: Any,
    tokens: Tokens,
    smtp: tuple[Mailbox, int],
) -> None:
    """Through the API: moving tomorrow's e-car booking and then cancelling it mails
    the caseworker twice (REQUEST, then CANCEL); a booking next week mails nobody."""
    mailbox, port = smtp
    client = make_client(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    cw01 = caseworker_id(session, "cw01")
    session.add(CaseworkerCalendar(caseworker_id=cw01, email="anna@team.example"))
    session.flush()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    header = tokens.header("coordinator")

    def booked(start: datetime) -> int:
        answer = client.post(
            "/bookings",
            headers=header,
            json={
                "vehicle": "ecar-enn-1",
                "caseworker": "cw01",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
            },
        )
        assert answer.status_code == 201, answer.text
        booking_id: int = answer.json()["id"]
        return booking_id

    soon, later = booked(tomorrow), booked(tomorrow + timedelta(days=7))
    moved = client.patch(
        f"/bookings/{soon}",
        headers=header,
        json={
            "start": (tomorrow + timedelta(hours=3)).isoformat(),
            "end": (tomorrow + timedelta(hours=5)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.text
    assert client.post(f"/bookings/{soon}/cancel", headers=header).status_code == 200
    assert client.post(f"/bookings/{later}/cancel", headers=header).status_code == 200
    assert [itip_of(message)[0] for message in mailbox.messages] == ["REQUEST", "CANCEL"]
    assert mailbox.recipients == [["anna@team.example"], ["anna@team.example"]]
