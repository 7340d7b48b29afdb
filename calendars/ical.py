"""Feed items to iCalendar bytes (RFC 5545): the only module that builds calendars.

It sees plain, frozen data (``FeedEvent``, ``Feed``) and knows nothing of the database
or HTTP. What clients depend on, and how it is met here:

- A stable ``UID`` per appointment across re-plans and a ``SEQUENCE`` raised on every
  published change (both from the appointment), so a client updates the event instead
  of adding a second one.
- ``DTSTAMP`` and ``LAST-MODIFIED``: a feed has no METHOD, so RFC 5545 3.8.7.2 makes
  DTSTAMP the time the information was last revised, which is ``LAST-MODIFIED``. That
  keeps a feed's bytes a function of the database: the same data renders the same
  calendar, whenever it is asked for.
- Times in the site's zone (``DTSTART;TZID=Europe/Berlin``) with a ``VTIMEZONE`` for
  that zone covering the years of the events, so clients without the IANA database
  (Outlook) show the right wall-clock time on both sides of a DST change.
- ``X-WR-CALNAME``/``NAME``, ``REFRESH-INTERVAL`` (RFC 7986) and ``X-PUBLISHED-TTL``
  (Outlook), ``X-WR-TIMEZONE`` (Google, Apple).
- CRLF line ends and lines folded at 75 octets: icalendar's serializer does both, and
  folds between UTF-8 characters, never inside one (tests check every line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration, vText

PRODID = "-//fieldwork//Calendar feeds 1.0//DE"
EventStatus = Literal["TENTATIVE", "CONFIRMED", "CANCELLED"]
ItipMethod = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of a feed: an appointment, a travel block or a vehicle booking.

    Instants are timezone-aware; they are written in the feed's zone.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    status: EventStatus
    sequence: int
    last_modified: datetime
    categories: tuple[str, ...] = ()
    location: str | None = None
    geo: tuple[float, float] | None = None
    #: A reminder this many minutes before the start (VALARM); None: no reminder.
    alarm_minutes: int | None = None
    alarm_text: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    description: str
    timezone: str
    refresh_minutes: int
    language: str
    events: Sequence[FeedEvent]


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(microsecond=0)


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of ``tzid`` for the years first_year..last_year (inclusive).

    Limited to the years used: the default (1970 to 2038) would add about 140 lines of
    transitions to every feed. Cached, because a feed's years rarely change.
    """
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _event(item: FeedEvent, zone: ZoneInfo, language: str, stamp: datetime | None) -> Event:
    event = Event()
    event.add("uid", item.uid)
    # See the module docstring: without METHOD, DTSTAMP is the last revision.
    event.add("dtstamp", _utc(stamp or item.last_modified))
    event.add("last-modified", _utc(item.last_modified))
    event.add("sequence", item.sequence)
    event.add("dtstart", item.start.astimezone(zone).replace(microsecond=0))
    event.add("dtend", item.end.astimezone(zone).replace(microsecond=0))
    event.add("summary", vText(item.summary, params={"language": language}))
    if item.description:
        event.add("description", vText(item.description, params={"language": language}))
    event.add("status", item.status)
    event.add("transp", "TRANSPARENT" if item.status == "CANCELLED" else "OPAQUE")
    event.add("class", "PRIVATE")
    if item.categories:
        event.add("categories", list(item.categories))
    if item.location:
        event.add("location", item.location)
    if item.geo is not None:
        event.add("geo", item.geo)
    if item.alarm_minutes is not None and item.status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-item.alarm_minutes))
        alarm.add("description", item.alarm_text or item.summary)
        event.add_component(alarm)
    return event


def _calendar(timezone: str, events: Sequence[FeedEvent]) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if events:
        years = [moment.year for item in events for moment in (item.start, item.end)]
        calendar.add_component(vtimezone(timezone, min(years) - 1, max(years) + 1))
    return calendar


def render(feed: Feed) -> bytes:
    """The feed as an iCalendar object (UTF-8, CRLF, folded)."""
    zone = ZoneInfo(feed.timezone)
    calendar = _calendar(feed.timezone, feed.events)
    calendar.add("x-wr-calname", feed.name)
    calendar.add("name", feed.name)
    calendar.add("x-wr-caldesc", feed.description)
    calendar.add("x-wr-timezone", feed.timezone)
    refresh = timedelta(minutes=feed.refresh_minutes)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))
    head = calendar.to_ical()
    assert head.endswith(_END)
    events = sorted(feed.events, key=lambda item: (item.start, item.uid))
    return b"".join(
        (head[: -len(_END)], *(_event_bytes(item, zone, feed.language) for item in events), _END)
    )


_END = b"END:VCALENDAR\r\n"


@lru_cache(maxsize=20_000)
def _event_bytes(item: FeedEvent, zone: ZoneInfo, language: str) -> bytes:
    """One VEVENT as folded iCalendar lines; cached, since a re-plan changes few events
    and serialising is most of a feed's cost (about 0.3 ms an event)."""
    return bytes(_event(item, zone, language, None).to_ical())


def itip(
    item: FeedEvent,
    *,
    method: ItipMethod,
    timezone: str,
    language: str,
    organizer: str,
    attendee: str,
    sent_at: datetime,
) -> bytes:
    """An iTIP message (RFC 5546) that updates or cancels one event in a mail client.

    REQUEST carries the event as it now is, CANCEL the cancelled one; both with the
    feed's UID and SEQUENCE, so the client changes the very event the feed shows.
    ``organizer`` is the sending address, ``attendee`` the caseworker's.
    """
    zone = ZoneInfo(timezone)
    calendar = _calendar(timezone, [item])
    calendar.add("method", method)
    event = _event(item, zone, language, sent_at)
    organizer_address = vCalAddress(f"mailto:{organizer}")
    organizer_address.params["cn"] = vText("fieldwork")
    event.add("organizer", organizer_address)
    attendee_address = vCalAddress(f"mailto:{attendee}")
    attendee_address.params["role"] = vText("REQ-PARTICIPANT")
    attendee_address.params["partstat"] = vText("NEEDS-ACTION")
    attendee_address.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee_address)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def single(item: FeedEvent, *, timezone: str, language: str) -> bytes:
    """One event as its own iCalendar object (a CalDAV resource holds exactly one)."""
    calendar = _calendar(timezone, [item])
    calendar.add_component(_event(item, ZoneInfo(timezone), language, None))
    return bytes(calendar.to_ical())
