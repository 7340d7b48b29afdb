"""Serving feeds: a token to a calendar, with the version that makes 304s cheap.

``open_feed`` looks the token up and computes the feed's version (two small indexed
queries); the HTTP layer answers 304 from that alone. Only when the client's copy is
stale is the feed built and rendered, and the bytes are kept in a ``FeedCache`` under
their ETag, so the next client polling the same version gets them without rendering.
The ETag is weak (``W/``): renaming a vehicle or a site shows in the feed only with its
next change, so two responses with one ETag are equivalent rather than byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.ical import render
from calendars.models import FeedKind
from calendars.sources import FeedOptions, build_feed, feed_version
from calendars.tokens import Subject, subject_for_token
from core.errors import NotFound
from core.settings import Settings
from fleet.models import Vehicle
from scheduler.models import Caseworker, Site

#: Raised whenever what a feed renders changes for the same data (a new property, a
#: wording): every client then gets the new rendering once.
RENDERING = "2"


def options_from(settings: Settings) -> FeedOptions:
    return FeedOptions(
        language=settings.calendar_language,
        show_address=settings.calendar_show_address,
        reminder_minutes=settings.calendar_reminder_minutes,
        refresh_minutes=settings.calendar_refresh_minutes,
    )


@dataclass(frozen=True, slots=True)
class OpenFeed:
    """A token's feed and its current version, before anything is rendered."""

    subject: Subject
    etag: str
    last_modified: datetime | None


def open_feed(
    *, session: Session, token: str, options: FeedOptions, now: datetime | None = None
) -> OpenFeed | None:
    """The feed an active token opens and its ETag, or None for any bad token."""
    subject = subject_for_token(session=session, token=token)
    if subject is None:
        return None
    version = feed_version(session=session, subject=subject, options=options, now=now)
    digest = hashlib.sha256(
        f"{RENDERING}|{subject.kind}:{subject.id}|{version.key()}|{options!r}".encode()
    ).hexdigest()[:32]
    return OpenFeed(subject=subject, etag=f'W/"{digest}"', last_modified=version.last_modified)


class FeedCache:
    """Rendered feeds by ETag, the most recently used up to ``max_bytes`` in all (one
    cache per app, so per database). A caseworker's feed of a few hundred events is
    about 150 kB: the default keeps a few hundred feeds."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._items.get(etag)
            if body is not None:
                self._items.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        with self._lock:
            old = self._items.pop(etag, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[etag] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


def feed_body(
    *,
    session: Session,
    feed: OpenFeed,
    options: FeedOptions,
    cache: FeedCache | None = None,
    now: datetime | None = None,
) -> bytes:
    """The rendered feed (from the cache when this version was rendered before)."""
    if cache is not None:
        cached = cache.get(feed.etag)
        if cached is not None:
            return cached
    body = render(
        build_feed(session=session, subject=feed.subject, options=options, now=now or _now())
    )
    if cache is not None:
        cache.put(feed.etag, body)
    return body


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------- links, QR


def feed_url(public_url: str, token: str) -> str:
    """``https://host/feeds/TOKEN.ics``: the capability URL."""
    return f"{public_url.rstrip('/')}/feeds/{token}.ics"


def webcal_url(public_url: str, token: str) -> str:
    """The same URL as ``webcal://``: phones and desktop clients open it as a
    subscription (the scheme says "subscribe", the client fetches over HTTPS or HTTP)."""
    url = feed_url(public_url, token)
    return "webcal://" + url.split("://", 1)[1]


QrFormat = Literal["png", "svg"]


def qr_code(text: str, kind: QrFormat) -> bytes:
    """A QR code of ``text`` (error correction M, 6 px modules, 4-module quiet zone)."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    if kind == "png":
        code.save(out, kind="png", scale=6, border=4)
    else:
        code.save(out, kind="svg", scale=6, border=4, xmldecl=True, svgns=True)
    return out.getvalue()


def subject_for_key(*, session: Session, kind: FeedKind, key: str) -> Subject:
    """The feed subject a planning-format id names (``cw01``, ``ebike-enn-1``, ``enn``)."""
    model: type[Caseworker] | type[Vehicle] | type[Site]
    model = {"caseworker": Caseworker, "vehicle": Vehicle, "site": Site}[kind]  # type: ignore[assignment]
    found = session.scalar(select(model.id).where(model.key == key))
    if found is None:
        raise NotFound(f"unknown {kind} {key}")
    return Subject(kind=kind, id=found)
