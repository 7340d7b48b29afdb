"""Reading feeds as clients do: two independent parsers and the wire format's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream


@dataclass(frozen=True, order=True)
class Seen:
    """An event as a client sees it: times in UTC."""

    uid: str
    start: datetime
    end: datetime
    status: str
    sequence: int
    summary: str


def wire_format(body: bytes) -> None:
    """CRLF line ends only, every line at most 75 octets, valid UTF-8 on every line."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a character


def strict(body: bytes) -> list[Seen]:
    """The events as the strict ``ical`` package reads them (raises on any error)."""
    calendar = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    seen = []
    for event in calendar.events:
        assert isinstance(event.dtstart, datetime) and isinstance(event.dtend, datetime)
        assert event.dtstart.tzinfo is not None
        seen.append(
            Seen(
                uid=str(event.uid),
                start=event.dtstart.astimezone(UTC),
                end=event.dtend.astimezone(UTC),
                status=str(event.status.value if event.status else ""),
                sequence=int(event.sequence or 0),
                summary=str(event.summary),
            )
        )
    return sorted(seen)


def expanded(body: bytes, start: datetime, end: datetime) -> list[Seen]:
    """The events ``recurring_ical_events`` yields between start and end."""
    calendar = icalendar.Calendar.from_ical(body)
    seen = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        seen.append(
            Seen(
                uid=str(event["UID"]),
                start=event["DTSTART"].dt.astimezone(UTC),
                end=event["DTEND"].dt.astimezone(UTC),
                status=str(event.get("STATUS", "")),
                sequence=int(event.get("SEQUENCE", 0)),
                summary=str(event["SUMMARY"]),
            )
        )
    return sorted(seen)
