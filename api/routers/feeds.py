"""Calendar feeds: the subscription URLs (no login, the token is the key) and their
management (create, rotate, revoke; where a caseworker's calendar is also delivered).

Subscribing: ``GET /feeds/{token}.ics`` answers ``text/calendar; charset=utf-8`` with a
weak ETag and Last-Modified, and 304 to a client whose copy is current (decided from the
feed's version alone, nothing rendered). Any token that does not open a feed (unknown,
revoked, malformed) gets the same 404. ``/feeds/{token}/qr.png`` and ``qr.svg`` are the
``webcal://`` link as a QR code for phones.

Managing: a caseworker manages their own feed (another caseworker's is 404, as their
records are), fleet managers vehicle feeds, coordinators and admins every feed. A token
is shown once, in the answer to create or rotate.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, HttpUrl
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.crud import RecordId, audit, writing
from api.deps import CurrentUser, SessionDep, get_session
from api.problems import RequestInvalid
from api.schemas import Body
from calendars.caldav_push import PushResult, push_caseworker
from calendars.models import CaseworkerCalendar, FeedToken
from calendars.service import (
    FeedCache,
    QrFormat,
    feed_body,
    feed_url,
    open_feed,
    options_from,
    qr_code,
    webcal_url,
)
from calendars.sources import FeedOptions
from calendars.tokens import (
    Subject,
    active_token,
    create_token,
    revoke_token,
    rotate_token,
    subject_for_token,
)
from core.errors import NotFound
from core.settings import Settings
from fleet.models import Vehicle
from scheduler.models import Caseworker, Site, User
from scheduler.validation import Problem

router = APIRouter(prefix="/feeds", tags=["calendar feeds"])


class HideFeedTokens(logging.Filter):
    """Masks feed tokens in log lines: uvicorn's access log writes every request's path,
    and a feed's path is its secret."""

    pattern = re.compile(r"fwcal_[A-Za-z0-9_-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub("fwcal_…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def _hide_tokens_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, HideFeedTokens) for existing in access.filters):
        access.addFilter(HideFeedTokens())


# At import, so every server that serves these routes keeps tokens out of its log.
_hide_tokens_in_access_log()

CALENDAR_TYPE = "text/calendar; charset=utf-8"
#: A token in a URL. Not bounded here: a token of the wrong shape gets the same 404 as
#: any other (``calendars.tokens.TOKEN_PATTERN``, checked before anything is looked up).
Token = Annotated[str, Path(description="the feed's token (fwcal_...)")]
PathKind = Literal["caseworkers", "vehicles", "sites"]
_KINDS: dict[str, Literal["caseworker", "vehicle", "site"]] = {
    "caseworkers": "caseworker",
    "vehicles": "vehicle",
    "sites": "site",
}


class FeedPublic(BaseModel):
    """A feed's active token, without the token (it is shown once only)."""

    kind: Literal["caseworker", "vehicle", "site"]
    subject_id: int
    subject: str = Field(description="the caseworker's, vehicle's or site's id (key)")
    token_id: int
    created_at: AwareDatetime
    created_by: str


class FeedCreated(FeedPublic):
    token: str = Field(description="the secret; shown only in this answer")
    url: str = Field(description="the feed over HTTP(S), for 'subscribe from URL'")
    webcal_url: str = Field(description="the same as webcal://, opens a subscription")
    qr_png: str
    qr_svg: str


class FeedList(BaseModel):
    items: list[FeedPublic]


class CalendarSettingsUpdate(Body):
    """Where else a caseworker's calendar goes: e-mail and CalDAV (all optional)."""

    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    caldav_url: HttpUrl | None = Field(
        default=None, description="the calendar collection, https://.../calendars/USER/NAME/"
    )
    caldav_username: str | None = Field(default=None, min_length=1, max_length=200)
    caldav_password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="stored as given: use an app password (see README); never returned",
    )


class CalendarSettingsPublic(BaseModel):
    caseworker_id: int
    email: str | None
    caldav_url: str | None
    caldav_username: str | None
    caldav_password_set: bool
    caldav_pushed_at: AwareDatetime | None
    caldav_error: str | None


class PushPublic(BaseModel):
    created: int
    updated: int
    deleted: int
    unchanged: int


async def feed_clock() -> datetime:
    """The instant a feed is read at (tests pin it: feeds keep 30 days of history).
    ``async``: a plain ``def`` dependency would cost each request a thread hop."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(feed_clock)]


async def feed_sessions(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Where the feed route gets its session (see ``sessions_for``)."""
    return sessions_for(request)


def sessions_for(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Sessions outside the request's own: the app's factory, or whatever replaces
    ``get_session`` (tests run every request in their own transaction that way)."""
    override = request.app.dependency_overrides.get(get_session)
    if override is not None:
        opened = contextmanager(override)
        if inspect.signature(override).parameters:
            return lambda: opened(request)
        return opened
    factory: Callable[[], AbstractContextManager[Session]] = request.app.state.session_factory
    return factory


FeedSessions = Annotated[Callable[[], AbstractContextManager[Session]], Depends(feed_sessions)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _cache(request: Request) -> FeedCache:
    cache: FeedCache = request.app.state.feed_cache
    return cache


# ------------------------------------------------------------------------ subscribing

_NOT_FOUND = "no such feed"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime | None,
) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present, else If-Modified-Since."""
    if if_none_match is not None:
        # Weak comparison (13.1.2): W/"x" and "x" match; "*" matches any current feed.
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    if if_modified_since is not None and last_modified is not None:
        try:
            client = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if client.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= client
    return False


@router.api_route(
    "/{token}.ics",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "the feed (RFC 5545)"},
        304: {"description": "the client's copy is current"},
    },
)
async def read_feed(request: Request, token: Token, now: Now, sessions: FeedSessions) -> Response:
    """The calendar of a feed token (no login: the token is the credential)."""
    # All database work in ONE hop to the thread pool (the session included): under load
    # every hop waits for the interpreter lock, and polling clients make this the route
    # called most often.
    return await run_in_threadpool(
        _answer,
        sessions,
        token,
        options_from(_settings(request)),
        now,
        request.method,
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        _cache(request),
    )


def _answer(
    sessions: Callable[[], AbstractContextManager[Session]],
    token: str,
    options: FeedOptions,
    now: datetime,
    method: str,
    if_none_match: str | None,
    if_modified_since: str | None,
    cache: FeedCache,
) -> Response:
    with sessions() as session:
        feed = open_feed(session=session, token=token, options=options, now=now)
        if feed is None:
            raise HTTPException(404, _NOT_FOUND)
        headers = {
            "ETag": feed.etag,
            # Clients and proxies may keep it, but must ask before using it again;
            # private: it is one person's calendar.
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if feed.last_modified is not None:
            headers["Last-Modified"] = _http_date(feed.last_modified)
        if _not_modified(if_none_match, if_modified_since, feed.etag, feed.last_modified):
            return Response(status_code=304, headers=headers)
        body = feed_body(session=session, feed=feed, options=options, cache=cache, now=now)
    headers["Content-Disposition"] = 'inline; filename="fieldwork.ics"'
    if method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=CALENDAR_TYPE)
    return Response(content=body, headers=headers, media_type=CALENDAR_TYPE)


def _qr(request: Request, session: SessionDep, token: str, kind: QrFormat) -> Response:
    if subject_for_token(session=session, token=token) is None:
        raise HTTPException(404, _NOT_FOUND)
    link = webcal_url(_settings(request).public_url, token)
    media = "image/png" if kind == "png" else "image/svg+xml"
    return Response(
        content=qr_code(link, kind),
        media_type=media,
        headers={"Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer"},
    )


@router.get(
    "/{token}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the webcal link as QR"}},
)
def feed_qr_png(request: Request, session: SessionDep, token: Token) -> Response:
    """The feed's ``webcal://`` link as a QR code (PNG), for a phone's camera."""
    return _qr(request, session, token, "png")


@router.get(
    "/{token}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the webcal link as QR"}},
)
def feed_qr_svg(request: Request, session: SessionDep, token: Token) -> Response:
    """The feed's ``webcal://`` link as a QR code (SVG), for printing."""
    return _qr(request, session, token, "svg")


# -------------------------------------------------------------------------- managing


def _subject_key(session: SessionDep, subject: Subject) -> str:
    row: Caseworker | Vehicle | Site | None
    if subject.kind == "caseworker":
        row = session.get(Caseworker, subject.id)
    elif subject.kind == "vehicle":
        row = session.get(Vehicle, subject.id)
    else:
        row = session.get(Site, subject.id)
    if row is None:
        raise NotFound(f"no {subject.kind} {subject.id}")
    return row.key


def _may_manage(user: User, subject: Subject) -> None:
    """403 for a kind of feed the role does not manage; 404 for another caseworker's."""
    if user.role in ("admin", "coordinator"):
        return
    if user.role == "fleet_manager" and subject.kind == "vehicle":
        return
    if user.role == "caseworker" and subject.kind == "caseworker":
        if user.caseworker_id != subject.id:
            raise NotFound(f"no caseworker {subject.id}")
        return
    raise HTTPException(403, f"the role {user.role} may not manage {subject.kind} feeds")


def _managed(session: SessionDep, user: User, kind: PathKind, subject_id: int) -> Subject:
    subject = Subject(kind=_KINDS[kind], id=subject_id)
    _may_manage(user, subject)
    _subject_key(session, subject)
    return subject


def _public(session: SessionDep, row: FeedToken) -> FeedPublic:
    subject_id = getattr(row, f"{row.kind}_id")
    return FeedPublic(
        kind=row.kind,
        subject_id=subject_id,
        subject=_subject_key(session, Subject(row.kind, subject_id)),
        token_id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _created(request: Request, session: SessionDep, row: FeedToken, token: str) -> FeedCreated:
    base = _settings(request).public_url.rstrip("/")
    return FeedCreated(
        **_public(session, row).model_dump(),
        token=token,
        url=feed_url(base, token),
        webcal_url=webcal_url(base, token),
        qr_png=f"{base}/feeds/{token}/qr.png",
        qr_svg=f"{base}/feeds/{token}/qr.svg",
    )


@router.get("")
def list_feeds(session: SessionDep, user: CurrentUser) -> FeedList:
    """The active feeds the caller manages (tokens are never shown again)."""
    query = select(FeedToken).where(FeedToken.revoked_at.is_(None)).order_by(FeedToken.id)
    if user.role == "fleet_manager":
        query = query.where(FeedToken.kind == "vehicle")
    elif user.role == "caseworker":
        query = query.where(
            FeedToken.kind == "caseworker", FeedToken.caseworker_id == user.caseworker_id
        )
    return FeedList(items=[_public(session, row) for row in session.scalars(query)])


@router.get("/{kind}/{subject_id}")
def read_feed_token(
    session: SessionDep, user: CurrentUser, kind: PathKind, subject_id: RecordId
) -> FeedPublic:
    """The feed's active token (without the secret); 404 when it has none."""
    subject = _managed(session, user, kind, subject_id)
    row = active_token(session=session, subject=subject)
    if row is None:
        raise NotFound(f"the {subject.kind} feed has no active token")
    return _public(session, row)


@router.post("/{kind}/{subject_id}", status_code=201)
def create_feed(
    request: Request, session: SessionDep, user: CurrentUser, kind: PathKind, subject_id: RecordId
) -> FeedCreated:
    """A subscription URL for the feed (409 when it has one: rotate instead)."""
    subject = _managed(session, user, kind, subject_id)
    row, token = create_token(session=session, subject=subject, actor=user.name, user_id=user.id)
    return _created(request, session, row, token)


@router.post("/{kind}/{subject_id}/rotate", status_code=201)
def rotate_feed(
    request: Request, session: SessionDep, user: CurrentUser, kind: PathKind, subject_id: RecordId
) -> FeedCreated:
    """A new subscription URL; the old one answers 404 from now on."""
    subject = _managed(session, user, kind, subject_id)
    row, token = rotate_token(session=session, subject=subject, actor=user.name, user_id=user.id)
    return _created(request, session, row, token)


@router.delete("/{kind}/{subject_id}", status_code=204)
def revoke_feed(
    session: SessionDep, user: CurrentUser, kind: PathKind, subject_id: RecordId
) -> Response:
    """End the feed's subscription URL (404 from now on for every client)."""
    subject = _managed(session, user, kind, subject_id)
    revoke_token(session=session, subject=subject, actor=user.name, user_id=user.id)
    return Response(status_code=204)


# ------------------------------------------------ a caseworker's e-mail and CalDAV push


def _calendar_public(caseworker_id: int, row: CaseworkerCalendar | None) -> CalendarSettingsPublic:
    return CalendarSettingsPublic(
        caseworker_id=caseworker_id,
        email=row.email if row else None,
        caldav_url=row.caldav_url if row else None,
        caldav_username=row.caldav_username if row else None,
        caldav_password_set=bool(row and row.caldav_password),
        caldav_pushed_at=row.caldav_pushed_at if row else None,
        caldav_error=row.caldav_error if row else None,
    )


@router.get("/caseworkers/{caseworker_id}/settings")
def read_calendar_settings(
    session: SessionDep, user: CurrentUser, caseworker_id: RecordId
) -> CalendarSettingsPublic:
    """The caseworker's e-mail and CalDAV target (the password is never shown)."""
    _managed(session, user, "caseworkers", caseworker_id)
    return _calendar_public(caseworker_id, session.get(CaseworkerCalendar, caseworker_id))


@router.put("/caseworkers/{caseworker_id}/settings")
def write_calendar_settings(
    session: SessionDep, user: CurrentUser, caseworker_id: RecordId, body: CalendarSettingsUpdate
) -> CalendarSettingsPublic:
    """Set the e-mail for same-day changes and the CalDAV target, as a whole: a field
    left out is cleared. The password stays when the URL and user stay and no new one
    is given, so changing the e-mail does not need it again."""
    _managed(session, user, "caseworkers", caseworker_id)
    if (body.caldav_url is None) != (body.caldav_username is None):
        missing = "$.caldav_username" if body.caldav_username is None else "$.caldav_url"
        raise RequestInvalid(
            [Problem(missing, "caldav_url and caldav_username go together")],
            "the request is not valid",
        )
    with writing(session):
        row = session.get(CaseworkerCalendar, caseworker_id)
        if row is None:
            row = CaseworkerCalendar(caseworker_id=caseworker_id)
            session.add(row)
        url = str(body.caldav_url) if body.caldav_url is not None else None
        keep_password = (
            body.caldav_password is None
            and url is not None
            and (row.caldav_url, row.caldav_username) == (url, body.caldav_username)
        )
        row.email = body.email
        if not keep_password:
            row.caldav_password = body.caldav_password if url is not None else None
        if (row.caldav_url, row.caldav_username) != (url, body.caldav_username):
            row.caldav_pushed_at = None
            row.caldav_error = None
        row.caldav_url = url
        row.caldav_username = body.caldav_username
        row.updated_at = datetime.now(UTC)
        # The password is not audited, only that one is set.
        audit(
            session,
            user,
            "update",
            "caseworker_calendar",
            str(caseworker_id),
            {
                "email_set": body.email is not None,
                "caldav_url": url,
                "caldav_password_set": bool(row.caldav_password),
            },
        )
    return _calendar_public(caseworker_id, row)


@router.post("/caseworkers/{caseworker_id}/push")
def push_calendar(
    request: Request, session: SessionDep, user: CurrentUser, caseworker_id: RecordId
) -> PushPublic:
    """Write the caseworker's feed into their CalDAV calendar now."""
    _managed(session, user, "caseworkers", caseworker_id)
    result: PushResult = push_caseworker(
        session=session,
        caseworker_id=caseworker_id,
        options=options_from(_settings(request)),
    )
    return PushPublic(
        created=result.created,
        updated=result.updated,
        deleted=result.deleted,
        unchanged=result.unchanged,
    )
