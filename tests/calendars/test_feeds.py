"""Feeds through the HTTP app: what they hold equals the database, read by two parsers;
HTTP caching; tokens that open nothing; roles; privacy by default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient
from feed_checks import Seen, expanded, strict, wire_format
from feed_helpers import BERLIN, Planner, Published, caseworker_id, next_dst_change, site_id
from session_app import Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.models import FeedToken
from calendars.tokens import hash_token
from fleet.models import Vehicle
from scheduler.models import Household, VisitRequest

WIDE = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def subscribe(client: TestClient, tokens: Tokens, role: str, path: str) -> dict[str, str]:
    created = client.post(f"/feeds/{path}", headers=tokens.header(role))
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    return body


def feed_path(created: dict[str, str]) -> str:
    return "/feeds/" + created["token"] + ".ics"


def appointments_seen(published: Published) -> list[Seen]:
    return sorted(
        Seen(
            uid=a.uid,
            start=a.start,
            end=a.end,
            status=a.status.upper(),
            sequence=a.sequence,
            summary="",
        )
        for a in published.appointments
    )


def without_summary(seen: list[Seen]) -> list[Seen]:
    return sorted(
        Seen(s.uid, s.start, s.end, s.status, s.sequence, "")
        for s in seen
        if not s.uid.startswith("tour-")
    )


def test_caseworker_feed_equals_the_database_across_dst(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    # Nine days around the next change of Berlin's clocks (25 October 2026, 28 March
    # 2027, ...): the feed keeps 30 days of history, so the change ahead is the one.
    change = next_dst_change()
    published = planner.publish(
        caseworker="cw01", start=change - timedelta(days=5), days=9, per_day=3
    )
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    assert created["webcal_url"].startswith("webcal://fw.example/feeds/fwcal_")
    assert created["url"] == "https://fw.example" + feed_path(created)

    response = client.get(feed_path(created))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    body = response.content
    wire_format(body)

    expected = appointments_seen(published)
    assert len(expected) == 27
    assert without_summary(strict(body)) == expected
    assert without_summary(expanded(body, *WIDE)) == expected
    # The same wall-clock time on both sides of the change, a different UTC time.
    firsts: dict[object, datetime] = {}
    for seen in strict(body):
        if not seen.uid.startswith("tour-"):
            day = seen.start.astimezone(BERLIN).date()
            firsts[day] = min(firsts.get(day, seen.start), seen.start)
    assert {start.astimezone(BERLIN).time() for start in firsts.values()} == {time(9, 0)}
    before = datetime.combine(change - timedelta(days=2), time(9), BERLIN)
    after = datetime.combine(change + timedelta(days=2), time(9), BERLIN)
    starts = {s.start for s in expected}
    assert before.astimezone(UTC) in starts and after.astimezone(UTC) in starts
    assert before.utcoffset() != after.utcoffset()

    # A way out and back per tour, from the tour's departure and to its return.
    travel = [s for s in strict(body) if s.uid.startswith("tour-")]
    assert len(travel) == 2 * len(published.tours)
    for tour in published.tours:
        assert any(s.start == tour.depart and "Hinfahrt" in s.summary for s in travel)
        assert any(s.end == tour.return_ and "Rückfahrt" in s.summary for s in travel)

    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "fieldwork: Termine cw01"
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT15M"
    assert body.count(b"X-PUBLISHED-TTL:PT15M\r\n") == 1
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    visit = next(e for e in calendar.walk("VEVENT") if not str(e["UID"]).startswith("tour-"))
    assert "· Hausbesuch" in str(visit["SUMMARY"])
    assert str(visit["DESCRIPTION"]).startswith("E-Bike Ennigerloh 1 ab Büro Ennigerloh 08:30")
    assert visit["DTSTAMP"].dt == visit["LAST-MODIFIED"].dt
    assert visit["DTSTART"].params["TZID"] == "Europe/Berlin"
    alarms = visit.walk("VALARM")
    assert len(alarms) == 1 and alarms[0]["TRIGGER"].dt == timedelta(minutes=-30)


def test_nothing_about_a_household_but_its_pseudonym_by_default(
    make_client: Callable[..., TestClient], tokens: Tokens, planner: Planner, session: Session
) -> None:
    published = planner.publish(days=2, per_day=2)
    household = session.get(Household, published.appointments[0].visit_request_id)
    households = list(session.scalars(select(Household)))
    for number, row in enumerate(households):
        row.address = f"Geheimweg {number + 1}, 59320 Ennigerloh"
    session.flush()
    del household
    client = make_client()
    created = subscribe(
        client, tokens, "coordinator", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    body = client.get(feed_path(created)).content
    assert b"Geheimweg" not in body and b"GEO:" not in body and b"LOCATION" not in body
    for row in households:
        assert f"{row.lat}".encode() not in body

    shown = make_client(calendar_show_address=True)
    with_address = shown.get(feed_path(created)).content
    calendar = icalendar.Calendar.from_ical(with_address)
    visits = [e for e in calendar.walk("VEVENT") if not str(e["UID"]).startswith("tour-")]
    assert all(str(e["LOCATION"]).startswith("Geheimweg") for e in visits)
    assert all("GEO" in e for e in visits)
    strict(with_address)


def test_english_text_when_configured(
    make_client: Callable[..., TestClient], tokens: Tokens, planner: Planner, session: Session
) -> None:
    planner.publish(days=1, per_day=1)
    client = make_client(calendar_language="en", calendar_reminder_minutes=10)
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    calendar = icalendar.Calendar.from_ical(client.get(feed_path(created)).content)
    visit = next(e for e in calendar.walk("VEVENT") if not str(e["UID"]).startswith("tour-"))
    assert "· Home visit" in str(visit["SUMMARY"])
    assert "from Büro Ennigerloh 08:30" in str(visit["DESCRIPTION"])
    assert visit["SUMMARY"].params["LANGUAGE"] == "en"
    assert visit.walk("VALARM")[0]["TRIGGER"].dt == timedelta(minutes=-10)


def test_only_published_plans_are_shown(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    draft = planner.publish(days=1, per_day=2, vehicle=None, mode="walk")
    draft.plan.status = "done"
    session.flush()
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    assert strict(client.get(feed_path(created)).content) == []


def test_304_on_if_none_match_and_if_modified_since(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    published = planner.publish(days=2, per_day=2)
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    path = feed_path(created)
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"') and modified.endswith("GMT")

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    # If-None-Match decides when both are sent (RFC 9110 13.2.2).
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.get(path, headers=both).status_code == 200
    head = client.head(path)
    assert head.status_code == 200 and head.headers["etag"] == etag

    # A re-plan moves one appointment: the feed changes, its ETag too.
    moved = published.appointments[0]
    moved.start += timedelta(hours=1)
    moved.end += timedelta(hours=1)
    moved.sequence += 1
    moved.updated_at = datetime.now(UTC) + timedelta(seconds=2)
    session.flush()
    changed = client.get(path, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 200
    event = next(s for s in strict(changed.content) if s.uid == moved.uid)
    assert event.start == moved.start and event.sequence == 1


def test_unknown_and_revoked_tokens_are_404_alike(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    planner.publish(days=1, per_day=1)
    cw01 = caseworker_id(session, "cw01")
    created = subscribe(client, tokens, "caseworker", f"caseworkers/{cw01}")
    old = feed_path(created)
    assert client.get(old).status_code == 200
    # The database holds the hash, never the token.
    stored = list(session.scalars(select(FeedToken.token_hash)))
    assert hash_token(created["token"]) in stored and created["token"] not in stored

    again = client.post(f"/feeds/caseworkers/{cw01}", headers=tokens.header("caseworker"))
    assert again.status_code == 409
    rotated = client.post(f"/feeds/caseworkers/{cw01}/rotate", headers=tokens.header("caseworker"))
    assert rotated.status_code == 201
    new = feed_path(rotated.json())
    assert client.get(new).status_code == 200

    unknown = "/feeds/fwcal_" + "A" * 43 + ".ics"
    too_long = "/feeds/fwcal_" + "A" * 500 + ".ics"
    answers = [client.get(path) for path in (old, unknown, "/feeds/nonsense.ics", too_long)]
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert len({a.json()["detail"] for a in answers}) == 1
    assert client.get(old.replace(".ics", "/qr.png")).status_code == 404

    revoked = client.delete(f"/feeds/caseworkers/{cw01}", headers=tokens.header("caseworker"))
    assert revoked.status_code == 204
    assert client.get(new).status_code == 404
    assert client.get(new, headers={"If-None-Match": "*"}).status_code == 404
    gone = client.delete(f"/feeds/caseworkers/{cw01}", headers=tokens.header("caseworker"))
    assert gone.status_code == 404


def test_who_manages_which_feed(client: TestClient, tokens: Tokens, session: Session) -> None:
    cw01, cw02 = caseworker_id(session, "cw01"), caseworker_id(session, "cw02")
    vehicle = session.scalars(select(Vehicle.id).where(Vehicle.key == "ebike-enn-1")).one()
    site = site_id(session, "enn")
    cases = [
        ("caseworker", f"caseworkers/{cw01}", 201),
        ("caseworker", f"caseworkers/{cw02}", 404),
        ("caseworker", f"vehicles/{vehicle}", 403),
        ("caseworker", f"sites/{site}", 403),
        ("fleet_manager", f"vehicles/{vehicle}", 201),
        ("fleet_manager", f"caseworkers/{cw02}", 403),
        ("fleet_manager", f"sites/{site}", 403),
        ("coordinator", f"caseworkers/{cw02}", 201),
        ("coordinator", f"sites/{site}", 201),
        ("admin", "caseworkers/999999", 404),
    ]
    for role, path, status in cases:
        answer = client.post(f"/feeds/{path}", headers=tokens.header(role))
        assert answer.status_code == status, (role, path, answer.text)
        if status >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
    assert client.post(f"/feeds/caseworkers/{cw01}").status_code == 401
    listed = client.get("/feeds", headers=tokens.header("caseworker")).json()["items"]
    assert [(item["kind"], item["subject"]) for item in listed] == [("caseworker", "cw01")]
    assert "token" not in listed[0]
    everything = client.get("/feeds", headers=tokens.header("coordinator")).json()["items"]
    assert len(everything) == 4
    shown = client.get(f"/feeds/sites/{site}", headers=tokens.header("coordinator")).json()
    assert shown["subject"] == "enn" and "token" not in shown


def test_vehicle_and_site_feeds(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    first = planner.publish(caseworker="cw01", days=3, per_day=2, vehicle="ebike-enn-1")
    second = planner.publish(
        caseworker="cw03", days=3, per_day=1, vehicle="ecar-enn-1", mode="e_car"
    )
    # Another site's caseworker: in neither feed.
    planner.publish(caseworker="cw02", days=3, per_day=1, vehicle="ebike-evw-1")
    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == "ebike-enn-1")).one()
    created = subscribe(client, tokens, "fleet_manager", f"vehicles/{vehicle.id}")
    body = client.get(feed_path(created)).content
    wire_format(body)
    seen = strict(body)
    assert [(s.start, s.end) for s in seen] == sorted((b.start, b.end) for b in first.bookings)
    assert [(s.start, s.end) for s in expanded(body, *WIDE)] == [(s.start, s.end) for s in seen]
    assert all(s.summary == "Gebucht: cw01" for s in seen)

    site = subscribe(client, tokens, "coordinator", f"sites/{site_id(session, 'enn')}")
    site_body = client.get(feed_path(site)).content
    wire_format(site_body)
    expected = sorted(appointments_seen(first) + appointments_seen(second))
    assert without_summary(strict(site_body)) == expected
    assert without_summary(expanded(site_body, *WIDE)) == expected
    # Pseudonymised: household pseudonym and the caseworker's id, no travel blocks.
    summaries = {s.summary for s in strict(site_body)}
    assert all(s.endswith(("· cw01", "· cw03")) for s in summaries)
    assert b"tour-" not in site_body
    assert b"Fachkraft 01" not in site_body


def test_qr_codes(client: TestClient, tokens: Tokens, session: Session) -> None:
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    png = client.get(created["qr_png"].removeprefix("https://fw.example"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get(created["qr_svg"].removeprefix("https://fw.example"))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    import segno

    expected = segno.make(created["webcal_url"], error="m", micro=False)
    assert f'width="{(expected.symbol_size(scale=6, border=4))[0]}"'.encode() in svg.content


@pytest.mark.parametrize("cancelled_days_ago", [2, 40])
def test_cancelled_appointments_stay_30_days(
    client: TestClient,
    tokens: Tokens,
    planner: Planner,
    session: Session,
    cancelled_days_ago: int,
) -> None:
    today = datetime.now(UTC).date()
    published = planner.publish(start=today + timedelta(days=1), days=1, per_day=2)
    gone = published.appointments[1]
    gone.status = "cancelled"
    gone.tour_key = None
    gone.sequence += 1
    gone.updated_at = datetime.now(UTC) - timedelta(days=cancelled_days_ago)
    session.flush()
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    seen = {s.uid: s for s in strict(client.get(feed_path(created)).content)}
    if cancelled_days_ago < 30:
        assert seen[gone.uid].status == "CANCELLED" and seen[gone.uid].sequence == 1
        assert seen[gone.uid].summary.startswith("Abgesagt: ")
    else:
        assert gone.uid not in seen
    assert seen[published.appointments[0].uid].status == "CONFIRMED"


def test_vehicle_feed_shows_adhoc_bookings_and_cancellations(
    client: TestClient, tokens: Tokens, session: Session, example: None
) -> None:
    from fleet.bookings import book, cancel

    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == "ecar-enn-1")).one()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    kept = book(
        session,
        vehicle_id=vehicle.id,
        start=start,
        end=start + timedelta(hours=2),
        source="adhoc",
        caseworker_id=caseworker_id(session, "cw03"),
        purpose="Fortbildung Münster",
    )
    dropped = book(
        session,
        vehicle_id=vehicle.id,
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=4),
        source="adhoc",
    )
    created = subscribe(client, tokens, "fleet_manager", f"vehicles/{vehicle.id}")
    path = feed_path(created)
    first = client.get(path)
    cancel(session, booking_id=dropped.id)
    # The cancellation changes the feed's version: a polling client gets it.
    second = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    seen = {s.uid: s for s in strict(second.content)}
    assert seen[f"booking-{kept.id}@fieldwork"].summary == "Gebucht: cw03"
    assert seen[f"booking-{kept.id}@fieldwork"].status == "CONFIRMED"
    gone = seen[f"booking-{dropped.id}@fieldwork"]
    assert gone.status == "CANCELLED" and gone.sequence == 1
    assert gone.summary == "Storniert: Gebucht (ad hoc)"
    calendar = icalendar.Calendar.from_ical(second.content)
    assert str(calendar["X-WR-CALNAME"]) == "fieldwork: Fahrzeug E-Auto Ennigerloh 1"


def test_calendar_settings_are_checked(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    path = f"/feeds/caseworkers/{caseworker_id(session, 'cw01')}/settings"
    header = tokens.header("caseworker")
    half = client.put(path, json={"caldav_url": "https://cloud.example/dav/"}, headers=header)
    assert half.status_code == 422
    assert half.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in half.json()["errors"]] == ["$.caldav_username"]
    bad = client.put(path, json={"email": "nobody", "colour": "red"}, headers=header)
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"$.email", "$.colour"}
    ok = client.put(path, json={"email": "anna@team.example"}, headers=header)
    assert ok.status_code == 200 and ok.json()["email"] == "anna@team.example"
    other = f"/feeds/caseworkers/{caseworker_id(session, 'cw02')}/settings"
    assert client.get(other, headers=header).status_code == 404


def test_an_erased_address_leaves_a_feed_that_shows_addresses(
    make_client: Callable[..., TestClient], tokens: Tokens, planner: Planner, session: Session
) -> None:
    published = planner.publish(days=1, per_day=1)
    visit = session.get(VisitRequest, published.appointments[0].visit_request_id)
    assert visit is not None
    household = session.get(Household, visit.household_id)
    assert household is not None
    household.address = "Geheimweg 7, 59320 Ennigerloh"
    session.flush()
    client = make_client(calendar_show_address=True)
    created = subscribe(
        client, tokens, "caseworker", f"caseworkers/{caseworker_id(session, 'cw01')}"
    )
    first = client.get(feed_path(created))
    assert b"Geheimweg 7" in first.content
    # Erasure as the GDPR endpoint does it: address and location gone.
    household.address, household.lat, household.lon = None, None, None
    household.erased_at = datetime.now(UTC)
    session.flush()
    second = client.get(feed_path(created), headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert b"Geheimweg" not in second.content and b"GEO:" not in second.content


def test_tokens_stay_out_of_the_access_log() -> None:
    import logging

    from api.routers.feeds import HideFeedTokens

    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(existing, HideFeedTokens) for existing in access.filters)
    token = "fwcal_" + "x" * 43
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/feeds/{token}.ics", "1.1", 200),
        None,
    )
    for existing in access.filters:
        if isinstance(existing, HideFeedTokens):
            existing.filter(record)
    assert token not in record.getMessage()
    assert "/feeds/fwcal_….ics" in record.getMessage()


def test_team_calendars_do_not_ring(
    client: TestClient, tokens: Tokens, planner: Planner, session: Session
) -> None:
    planner.publish(days=1, per_day=2)
    site = subscribe(client, tokens, "coordinator", f"sites/{site_id(session, 'enn')}")
    body = client.get(feed_path(site)).content
    assert b"BEGIN:VEVENT" in body and b"BEGIN:VALARM" not in body
