"""The renderer and the feed cache on their own (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from feed_checks import strict, wire_format

from calendars.ical import Feed, FeedEvent, itip, render
from calendars.service import FeedCache, qr_code, webcal_url


def event(number: int, **changes: object) -> FeedEvent:
    start = datetime(2027, 3, 26, 8, 0, tzinfo=UTC) + timedelta(days=number)
    fields: dict[str, object] = {
        "uid": f"visit-{number}@fieldwork",
        "start": start,
        "end": start + timedelta(minutes=45),
        "summary": f"H{number:04d} · Hausbesuch",
        "description": "E-Bike Ennigerloh 1 ab Büro Ennigerloh 08:30, zurück 12:10\n"
        + "Besuch H0001/1 · 45 Min. · Tour cw01/2027-03-26/1 " * 3,
        "status": "CONFIRMED",
        "sequence": 2,
        "last_modified": datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
        "alarm_minutes": 30,
    }
    fields.update(changes)
    return FeedEvent(**fields)  # type: ignore[arg-type]


def test_render_is_a_function_of_the_data_and_folds_utf8_safely() -> None:
    feed = Feed(
        name="fieldwork: Termine cw01",
        description="Veröffentlichte Termine",
        timezone="Europe/Berlin",
        refresh_minutes=15,
        language="de",
        events=[event(n) for n in range(5)],
    )
    body = render(feed)
    assert render(feed) == body  # no clock in it: DTSTAMP is the last revision
    wire_format(body)
    seen = strict(body)
    # 28 March 2027: summer time begins; 08:00 UTC is 09:00 before and 10:00 after.
    local = [s.start.astimezone(ZoneInfo("Europe/Berlin")).hour for s in seen]
    assert local == [9, 9, 10, 10, 10]
    assert len(body.splitlines()) > 5 * 15


def test_cancelled_events_do_not_ring_and_are_transparent() -> None:
    body = render(
        Feed("x", "y", "Europe/Berlin", 15, "de", [event(1, status="CANCELLED", sequence=3)])
    )
    assert b"BEGIN:VALARM" not in body
    assert b"TRANSP:TRANSPARENT" in body and b"STATUS:CANCELLED" in body


def test_itip_messages() -> None:
    sent = datetime(2027, 3, 27, 7, 0, tzinfo=UTC)
    for method in ("REQUEST", "CANCEL"):
        body = itip(
            event(1),
            method=method,  # type: ignore[arg-type]
            timezone="Europe/Berlin",
            language="de",
            organizer="fieldwork@kreis.example",
            attendee="anna@kreis.example",
            sent_at=sent,
        )
        wire_format(body)
        calendar = icalendar.Calendar.from_ical(body)
        assert str(calendar["METHOD"]) == method
        (vevent,) = calendar.walk("VEVENT")
        assert vevent["DTSTAMP"].dt == sent
        assert str(vevent["ORGANIZER"]) == "mailto:fieldwork@kreis.example"
        assert str(vevent["ATTENDEE"]) == "mailto:anna@kreis.example"


def test_feed_cache_keeps_the_most_recent_within_its_bytes() -> None:
    cache = FeedCache(max_bytes=10)
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert cache.get("a") == b"12345"  # a is now the most recent
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") == b"12345" and cache.get("c") == b"1234"


def test_webcal_and_qr() -> None:
    assert webcal_url("https://fw.example/", "fwcal_x") == "webcal://fw.example/feeds/fwcal_x.ics"
    assert webcal_url("http://127.0.0.1:8000", "t") == "webcal://127.0.0.1:8000/feeds/t.ics"
    assert qr_code("webcal://fw.example/feeds/t.ics", "png").startswith(b"\x89PNG")
    assert b"<svg" in qr_code("webcal://fw.example/feeds/t.ics", "svg")
