"""Pushing a caseworker's feed into their CalDAV calendar (Nextcloud, Radicale, ...).

For organisations whose staff read their calendar from a CalDAV server rather than a
subscription: the service writes each event of the caseworker's feed as one calendar
object and removes the objects it wrote earlier that the feed no longer holds. Objects
it did not write (another PRODID) are never touched, so the target may be a calendar
people also use by hand; a dedicated calendar is still the clearer choice.

An object is rewritten only when its UID, SEQUENCE, LAST-MODIFIED, STATUS or times
differ from the server's copy, so pushing an unchanged feed costs one REPORT.
The credentials are stored in ``caseworker_calendar`` (see ``calendars.models`` for the
risk and why an app password is the right thing to store there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import caldav
import requests
from caldav.lib import error as caldav_error
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.ical import PRODID, FeedEvent, single
from calendars.models import CaseworkerCalendar
from calendars.sources import FeedOptions, build_feed
from calendars.tokens import Subject
from core.db import transaction
from core.errors import DomainError, Infeasible

TIMEOUT_SECONDS = 30


class PushFailed(DomainError):
    """The CalDAV server could not be reached or refused the change."""


@dataclass(frozen=True, slots=True)
class PushResult:
    created: int
    updated: int
    deleted: int
    unchanged: int


def _fingerprint(item: FeedEvent) -> tuple[Any, ...]:
    return (
        item.sequence,
        item.last_modified.astimezone(UTC).replace(microsecond=0),
        item.status,
        item.start.astimezone(UTC).replace(microsecond=0),
        item.end.astimezone(UTC).replace(microsecond=0),
    )


def _server_fingerprint(event: Any) -> tuple[Any, ...]:
    def instant(name: str) -> datetime | None:
        value = event.get(name)
        if value is None:
            return None
        moment = value.dt
        return moment.astimezone(UTC) if isinstance(moment, datetime) else None

    return (
        int(event.get("sequence", 0)),
        instant("last-modified"),
        str(event.get("status", "")),
        instant("dtstart"),
        instant("dtend"),
    )


def _put(client: caldav.DAVClient, url: Any, body: str) -> None:
    response = client.put(str(url), body, {"Content-Type": 'text/calendar; charset="utf-8"'})
    if response.status not in (200, 201, 204):
        raise caldav_error.PutError(f"PUT {url}: HTTP {response.status} {response.reason}")


def push_caseworker(
    *,
    session: Session,
    caseworker_id: int,
    options: FeedOptions,
    now: datetime | None = None,
) -> PushResult:
    """Bring the caseworker's CalDAV calendar in line with their feed."""
    target = session.get(CaseworkerCalendar, caseworker_id)
    if target is None or target.caldav_url is None:
        raise Infeasible("no CalDAV calendar is configured for this caseworker")
    feed = build_feed(
        session=session, subject=Subject("caseworker", caseworker_id), options=options, now=now
    )
    try:
        result = _push(
            url=target.caldav_url,
            username=target.caldav_username,
            password=target.caldav_password,
            events=feed.events,
            timezone=feed.timezone,
            language=feed.language,
        )
    except (caldav_error.DAVError, requests.RequestException, OSError) as failure:
        reason = f"{type(failure).__name__}: {failure}".strip().splitlines()[0][:500]
        with transaction(session):
            target.caldav_error = reason
        raise PushFailed(f"CalDAV push to {target.caldav_url} failed: {reason}") from failure
    with transaction(session):
        target.caldav_pushed_at = now or datetime.now(UTC)
        target.caldav_error = None
    return result


def _push(
    *,
    url: str,
    username: str | None,
    password: str | None,
    events: Sequence[FeedEvent],
    timezone: str,
    language: str,
) -> PushResult:
    with caldav.DAVClient(
        url=url, username=username, password=password, timeout=TIMEOUT_SECONDS
    ) as client:
        calendar = client.calendar(url=url)  # type: ignore[no-untyped-call]
        ours: dict[str, tuple[Any, tuple[Any, ...]]] = {}
        for resource in calendar.events():
            parsed = Calendar.from_ical(resource.data)
            if str(parsed.get("prodid", "")) != PRODID:
                continue
            for component in parsed.walk("VEVENT"):
                ours[str(component.get("uid"))] = (resource, _server_fingerprint(component))
        created = updated = unchanged = 0
        wanted = {item.uid for item in events}
        for item in events:
            body = single(item, timezone=timezone, language=language).decode("utf-8")
            existing = ours.get(item.uid)
            # A plain PUT: the library's save() raises SEQUENCE on every write, but the
            # SEQUENCE is the appointment's and must stay what the feed says.
            if existing is None:
                _put(client, calendar.url.join(quote(item.uid, safe="@.-_") + ".ics"), body)
                created += 1
            elif existing[1] != _fingerprint(item):
                _put(client, existing[0].url, body)
                updated += 1
            else:
                unchanged += 1
        deleted = 0
        for uid, (resource, _) in ours.items():
            if uid not in wanted:
                resource.delete()
                deleted += 1
    return PushResult(created=created, updated=updated, deleted=deleted, unchanged=unchanged)


def push_after_publish(
    sessions: Callable[[], AbstractContextManager[Session]],
    caseworker_ids: Iterable[int],
    options: FeedOptions,
) -> dict[int, PushResult | str]:
    """Push the calendars of these caseworkers that have a CalDAV target (after a
    publish changed their appointments); a failure is kept with the caseworker's
    settings and returned, never raised: the publish stands either way."""
    wanted = set(caseworker_ids)
    done: dict[int, PushResult | str] = {}
    if not wanted:
        return done
    with sessions() as session:
        targets = session.scalars(
            select(CaseworkerCalendar.caseworker_id).where(
                CaseworkerCalendar.caseworker_id.in_(wanted),
                CaseworkerCalendar.caldav_url.is_not(None),
            )
        ).all()
        for caseworker_id in sorted(targets):
            try:
                done[caseworker_id] = push_caseworker(
                    session=session, caseworker_id=caseworker_id, options=options
                )
            except PushFailed as failure:
                done[caseworker_id] = str(failure)
    return done
