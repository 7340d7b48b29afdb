"""The pages built on the other services, through the app (TestClient), on SQLite and
PostgreSQL: trips, ad-hoc bookings, calendar links, fleet usage CSV, CSV import and the
sustainability report, each with its role checks."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from web_helpers import CSRF, demo_week, last_week, password, sign_in

from api.auth import add_user, set_password
from calendars.tokens import Subject, active_token, subject_for_token
from core.audit import AuditEvent
from fleet.models import BookingRefusal, Trip, VehicleBooking
from scheduler.models import Caseworker, Household
from scheduler.publishing import publish
from scheduler.runs import execute_run, queue_run
from scheduler.service import import_scenario

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def published(session: Session) -> date:
    """The demo week moved to last week, planned and published; users cw01 and the
    coordinator. Returns the week's Monday."""
    monday = last_week()
    scenario = demo_week(monday)
    import_scenario(session=session, scenario=scenario, actor="test")
    for name, role, caseworker in (
        ("coordinator", "coordinator", None),
        ("cw01", "caseworker", "cw01"),
        ("fleet", "fleet_manager", None),
    ):
        add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="t")
        set_password(session=session, user_name=name, password=password(name), actor="t")
    plan = queue_run(
        session=session,
        week_start=monday,
        sites=None,
        time_limit_s=1,
        seed=0,
        replan=False,
        actor="test",
    )
    assert execute_run(session=session, plan_id=plan.id) == "done"
    publish(session=session, plan_id=plan.id, actor="test")
    return monday


def _token(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def test_a_caseworker_confirms_a_trip_once_and_only_their_own(
    client: TestClient, published: date, session: Session
) -> None:
    sign_in(client, "cw01")
    page = client.get(f"/web/me?week={published}").text
    forms = re.findall(
        r'name="plan" value="(\d+)">\s*<input type="hidden" name="tour" value="([^"]+)"', page
    )
    assert forms, "cw01 has tours to confirm last week"
    plan_id, tour = forms[0]
    token = _token(client, f"/web/me?week={published}")
    answer = client.post(
        "/web/me/trips",
        data={"csrf_token": token, "plan": plan_id, "tour": tour, "km": "17,4", "mode": ""},
    )
    assert answer.status_code == 303, answer.text
    trip = session.scalars(select(Trip).where(Trip.tour_key == tour)).one()
    assert trip.km == pytest.approx(17.4) and trip.confirmed
    assert "Fahrt bestätigt." in client.get(answer.headers["location"]).text
    again = client.post(
        "/web/me/trips",
        data={"csrf_token": token, "plan": plan_id, "tour": tour, "km": "18"},
    )
    assert again.status_code == 409
    # Another caseworker's tour is not there for cw01.
    cw01 = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
    others = session.execute(
        text("SELECT key FROM tour WHERE plan_id = :plan AND caseworker_id <> :me LIMIT 1"),
        {"plan": int(plan_id), "me": cw01.id},
    ).scalar_one()
    refused = client.post(
        "/web/me/trips",
        data={"csrf_token": token, "plan": plan_id, "tour": others, "km": "5"},
    )
    assert refused.status_code == 404


def test_a_caseworker_books_an_ebike_and_the_slot_is_then_taken(
    client: TestClient, published: date, session: Session
) -> None:
    sign_in(client, "cw01")
    token = _token(client, "/web/me/book")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    search = {
        "csrf_token": token,
        "date": tomorrow,
        "start": "09:00",
        "end": "11:00",
        "km": "6",
        "kind": "e_bike",
        "purpose": "Hausbesuche",
    }
    found = client.post("/web/me/book", data=search)
    assert found.status_code == 200
    options = re.findall(
        r'name="vehicle" value="(\d+)">\s*<input type="hidden" name="start" value="([^"]+)">'
        r'\s*<input type="hidden" name="end" value="([^"]+)">',
        found.text,
    )
    assert options
    vehicle, start, end = options[0]
    booked = client.post(
        "/web/me/bookings",
        data={"csrf_token": token, "vehicle": vehicle, "start": start, "end": end, "km": "6"},
    )
    assert booked.status_code == 303
    booking = session.scalars(
        select(VehicleBooking).where(
            VehicleBooking.purpose.is_(None), VehicleBooking.source == "adhoc"
        )
    ).one()
    assert booking.vehicle_id == int(vehicle) and booking.caseworker_id is not None
    # The same vehicle at the same time again: refused, with the reason.
    twice = client.post(
        "/web/me/bookings",
        data={"csrf_token": token, "vehicle": vehicle, "start": start, "end": end, "km": "6"},
    )
    assert twice.status_code == 409 and "Buchung nicht möglich" in twice.text
    # With every e-bike of the office taken, the search offers the nearest free slots and
    # notes the unmet demand; booking one of those marks the request as moved.
    for other_vehicle, other_start, other_end in options[1:]:
        taken = client.post(
            "/web/me/bookings",
            data={
                "csrf_token": token,
                "vehicle": other_vehicle,
                "start": other_start,
                "end": other_end,
                "km": "6",
            },
        )
        assert taken.status_code == 303
    crowded = client.post("/web/me/book", data=search)
    assert "Die nächsten freien Zeiten" in crowded.text
    refusal = session.scalars(select(BookingRefusal)).one()
    assert refusal.outcome == "refused" and refusal.kind == "e_bike"
    slot = re.search(
        r'name="vehicle" value="(\d+)">\s*<input type="hidden" name="start" value="([^"]+)">'
        r'\s*<input type="hidden" name="end" value="([^"]+)">',
        crowded.text,
    )
    assert slot is not None and f'name="refusal" value="{refusal.id}"' in crowded.text
    moved = client.post(
        "/web/me/bookings",
        data={
            "csrf_token": token,
            "vehicle": slot.group(1),
            "start": slot.group(2),
            "end": slot.group(3),
            "km": "6",
            "refusal": str(refusal.id),
        },
    )
    assert moved.status_code == 303
    session.refresh(refusal)
    assert refusal.outcome == "moved"
    cancelled = client.post(f"/web/me/bookings/{booking.id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    session.refresh(booking)
    assert booking.status == "cancelled"


def test_the_calendar_link_is_shown_once_and_a_new_one_replaces_it(
    client: TestClient, published: date, session: Session
) -> None:
    sign_in(client, "cw01")
    cw01 = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
    subject = Subject(kind="caseworker", id=cw01.id)
    token = _token(client, "/web/me/calendar")
    first = client.post("/web/me/calendar", data={"csrf_token": token})
    assert first.status_code == 200
    link = re.search(r'href="(webcal://[^"]+)"', first.text)
    assert link is not None and 'src="data:image/svg+xml;base64,' in first.text
    # The link's token opens cw01's feed (asked of the calendar service directly: the
    # feed route reads with a session of its own, outside the test's transaction).
    feed = link.group(1).split("/feeds/", 1)[1].removesuffix(".ics")
    assert subject_for_token(session=session, token=feed) == subject
    old = active_token(session=session, subject=subject)
    assert old is not None
    later = client.get("/web/me/calendar").text
    assert "webcal://" not in later and "Neuen Link erzeugen" in later
    client.post("/web/me/calendar", data={"csrf_token": token})
    assert subject_for_token(session=session, token=feed) is None


def test_fleet_usage_csv_and_roles(client: TestClient, published: date) -> None:
    sign_in(client, "fleet")
    answer = client.get(f"/web/fleet/usage.csv?week={published}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    assert ";" in text.splitlines()[0] and "ebike-enn-1" in text
    page = client.get(f"/web/fleet?week={published}").text
    assert "data-utilisation" in page
    assert client.get("/web/imports").status_code == 403


def test_csv_import_all_or_nothing_with_row_problems(
    client: TestClient, published: date, session: Session
) -> None:
    sign_in(client, "coordinator")
    token = _token(client, "/web/imports")
    good = (DATA / "households.csv").read_bytes()
    answer = client.post(
        "/web/imports",
        data={"csrf_token": token, "kind": "households"},
        files={"file": ("haushalte.csv", good, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "Importiert" in answer.text
    assert session.scalars(select(Household).where(Household.pseudonym == "H0101")).one()
    bad = (DATA / "households-bad.csv").read_bytes()
    refused = client.post(
        "/web/imports",
        data={"csrf_token": token, "kind": "households"},
        files={"file": ("kaputt.csv", bad, "text/csv")},
    )
    assert refused.status_code == 422
    assert "Zeile " in refused.text and "nichts wurde importiert" in refused.text
    without_token = client.post(
        "/web/imports",
        data={"kind": "households"},
        files={"file": ("haushalte.csv", good, "text/csv")},
    )
    assert without_token.status_code == 400
    exported = client.get("/web/exports/households.csv")
    assert exported.status_code == 200 and "H0101" in exported.content.decode("utf-8-sig")


def test_sustainability_report_page_and_downloads(
    client: TestClient, published: date, session: Session
) -> None:
    sign_in(client, "fleet")
    period = published.strftime("%Y-%m")
    page = client.get(f"/web/reports?period={period}")
    assert page.status_code == 200
    assert "Kilometer nach Verkehrsmittel" in page.text and "<svg" in page.text
    pdf = client.get(f"/web/reports/sustainability.pdf?period={period}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = client.get(f"/web/reports/sustainability.csv?period={period}&site=enn")
    assert csv.status_code == 200 and ";" in csv.content.decode("utf-8-sig")
    assert client.get("/web/reports?period=2026-13").status_code == 422
    assert session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "sustainability_report", AuditEvent.actor == "fleet"
        )
    ).first()
    client.cookies.clear()
    sign_in(client, "cw01")
    assert client.get(f"/web/reports?period={period}").status_code == 403
