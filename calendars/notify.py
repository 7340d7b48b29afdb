"""Same-day changes by e-mail, because subscribed feeds refresh slowly.

Google Calendar re-reads a subscription every 8 to 24 hours, Outlook on the web about
every 3: a visit moved to this afternoon would reach the caseworker too late through
the feed alone. ``notify_changes`` takes what a publish changed (``scheduler.publishing``
``PublishResult.changes``) and mails each caseworker whose appointment today or tomorrow
(in the site's zone) moved, was cancelled or was newly planned. Every mail carries an
iTIP message (RFC 5546, ``METHOD:REQUEST`` or ``CANCEL``) with the feed's UID and
SEQUENCE, so the mail client updates the event at once; a caseworker who gets a visit
another caseworker had gets a REQUEST, the other one a CANCEL.

``notify_booking_change`` does the same for a vehicle booking that was moved or
cancelled (the caseworker it is for gets the vehicle feed's event as REQUEST or
CANCEL); the fleet's booking endpoints call it after the change.

The mail names the household by pseudonym only, like the feed. Caseworkers without an
e-mail address (``caseworker_calendar.email``) and an unset ``FIELDWORK_SMTP_HOST`` are
reported, not errors: publishing must not fail because a mail could not be sent, so
sending errors are collected in the report too.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from calendars.ical import FeedEvent, ItipMethod, itip
from calendars.models import CaseworkerCalendar
from calendars.sources import UID_DOMAIN, FeedOptions, build_feed
from calendars.tokens import Subject
from core.settings import Settings
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import Caseworker, Site, Tour


class AppointmentChange(Protocol):
    """What publishing did to one appointment (``scheduler.publishing`` has these)."""

    @property
    def uid(self) -> str: ...
    @property
    def caseworker_id(self) -> int: ...
    @property
    def old_caseworker_id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def old_start(self) -> datetime | None: ...
    @property
    def old_end(self) -> datetime | None: ...
    @property
    def new_start(self) -> datetime | None: ...
    @property
    def new_end(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """One mail to write: to which caseworker, about which event, REQUEST or CANCEL."""

    caseworker_id: int
    method: ItipMethod
    kind: str
    event: FeedEvent
    old_start: datetime | None
    new_start: datetime | None


@dataclass
class NotifyReport:
    sent: list[str] = field(default_factory=list)
    #: Caseworker keys without an e-mail address (their change was not mailed).
    no_address: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: True when no SMTP server is configured (nothing was sent).
    smtp_off: bool = False


def _short_notice(moment: datetime | None, zone: ZoneInfo, today: date) -> bool:
    if moment is None:
        return False
    return moment.astimezone(zone).date() in (today, today + timedelta(days=1))


def notices(
    *,
    session: Session,
    changes: Iterable[AppointmentChange],
    options: FeedOptions,
    now: datetime | None = None,
) -> list[Notice]:
    """The mails a publish calls for: changes today or tomorrow, per caseworker."""
    now = now or datetime.now(UTC)
    relevant = [change for change in changes if change.kind in ("moved", "cancelled", "new")]
    if not relevant:
        return []
    ids = {change.caseworker_id for change in relevant} | {
        change.old_caseworker_id for change in relevant if change.old_caseworker_id is not None
    }
    zones = {
        caseworker_id: ZoneInfo(zone)
        for caseworker_id, zone in session.execute(
            select(Caseworker.id, Site.timezone)
            .join(Site, Site.id == Caseworker.site_id)
            .where(Caseworker.id.in_(ids))
        )
    }
    feeds: dict[int, dict[str, FeedEvent]] = {}

    def event(caseworker_id: int, uid: str) -> FeedEvent | None:
        if caseworker_id not in feeds:
            feed = build_feed(
                session=session,
                subject=Subject("caseworker", caseworker_id),
                options=options,
                now=now,
            )
            feeds[caseworker_id] = {item.uid: item for item in feed.events}
        return feeds[caseworker_id].get(uid)

    found: list[Notice] = []
    for change in relevant:
        zone = zones.get(change.caseworker_id)
        if zone is None:
            continue
        today = now.astimezone(zone).date()
        if not (
            _short_notice(change.old_start, zone, today)
            or _short_notice(change.new_start, zone, today)
        ):
            continue
        current = event(change.caseworker_id, change.uid)
        if current is None:
            continue
        method: ItipMethod = "CANCEL" if change.kind == "cancelled" else "REQUEST"
        found.append(
            Notice(change.caseworker_id, method, change.kind, current, change.old_start, None)
            if method == "CANCEL"
            else Notice(
                change.caseworker_id,
                method,
                change.kind,
                current,
                change.old_start,
                change.new_start,
            )
        )
        moved_away = (
            change.old_caseworker_id is not None
            and change.old_caseworker_id != change.caseworker_id
            and change.old_start is not None
            and change.old_end is not None
        )
        if moved_away and change.kind != "cancelled":
            assert change.old_caseworker_id is not None
            assert change.old_start is not None and change.old_end is not None
            words = options.texts
            gone = replace(
                current,
                start=change.old_start,
                end=change.old_end,
                status="CANCELLED",
                summary=words.cancelled_prefix + current.summary,
            )
            found.append(
                Notice(
                    change.old_caseworker_id, "CANCEL", "cancelled", gone, change.old_start, None
                )
            )
    return found


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def message(
    notice: Notice, *, to: str, sender: str, zone: str, options: FeedOptions, now: datetime
) -> EmailMessage:
    """The mail of one notice: plain text and the iTIP attachment."""
    words = options.texts
    tz = ZoneInfo(zone)
    summary = notice.event.summary.removeprefix(words.cancelled_prefix)
    day_of = notice.new_start or notice.old_start or notice.event.start
    day = day_of.astimezone(tz).strftime("%d.%m.")
    old, new = _when(notice.old_start, tz), _when(notice.new_start, tz)
    if notice.method == "CANCEL":
        subject = words.mail_subject_cancelled.format(day=day, summary=summary)
        line = words.mail_cancelled.format(summary=summary, old=old)
    elif notice.kind == "new" or notice.old_start is None:
        subject = words.mail_subject_new.format(day=day, summary=summary)
        line = words.mail_new.format(summary=summary, new=new)
    else:
        subject = words.mail_subject_moved.format(day=day, summary=summary)
        line = words.mail_moved.format(summary=summary, old=old, new=new)
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = format_datetime(now.astimezone(UTC))
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "fieldwork")
    body = "\n\n".join(
        part for part in (words.mail_greeting, line, notice.event.description, words.mail_footer)
    )
    mail.set_content(body, charset="utf-8")
    invitation = itip(
        notice.event,
        method=notice.method,
        timezone=zone,
        language=options.language,
        organizer=sender,
        attendee=to,
        sent_at=now,
    )
    mail.add_attachment(
        invitation,
        maintype="text",
        subtype="calendar",
        filename="termin.ics" if options.language == "de" else "appointment.ics",
        params={"method": notice.method, "charset": "utf-8"},
    )
    return mail


def send(mails: Sequence[EmailMessage], settings: Settings) -> list[str]:
    """Send over one SMTP connection; the recipients each failed mail was for."""
    assert settings.smtp_host is not None
    failed: list[str] = []
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        for mail in mails:
            try:
                smtp.send_message(mail)
            except smtplib.SMTPException:
                failed.append(str(mail["To"]))
    return failed


@dataclass
class Outbox:
    """The mails a publish calls for, written while its session is open; sending them
    (``deliver``) needs no database, so the API does it after answering."""

    mails: list[EmailMessage] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)


def prepare_mails(
    *,
    session: Session,
    changes: Iterable[AppointmentChange],
    settings: Settings,
    options: FeedOptions,
    now: datetime | None = None,
) -> Outbox:
    """A mail per same-day change for every caseworker with an e-mail address."""
    now = now or datetime.now(UTC)
    found = notices(session=session, changes=changes, options=options, now=now)
    return _outbox(session, found, settings, options, now)


def _outbox(
    session: Session,
    found: Sequence[Notice],
    settings: Settings,
    options: FeedOptions,
    now: datetime,
) -> Outbox:
    outbox = Outbox()
    if not found:
        return outbox
    ids = {notice.caseworker_id for notice in found}
    people = {
        caseworker_id: (key, email, zone)
        for caseworker_id, key, email, zone in session.execute(
            select(Caseworker.id, Caseworker.key, CaseworkerCalendar.email, Site.timezone)
            .join(Site, Site.id == Caseworker.site_id)
            .outerjoin(CaseworkerCalendar, CaseworkerCalendar.caseworker_id == Caseworker.id)
            .where(Caseworker.id.in_(ids))
        )
    }
    for notice in found:
        key, email, zone = people[notice.caseworker_id]
        if not email:
            if key not in outbox.no_address:
                outbox.no_address.append(key)
            continue
        outbox.mails.append(
            message(
                notice, to=email, sender=settings.smtp_from, zone=zone, options=options, now=now
            )
        )
    return outbox


def booking_notices(
    *,
    session: Session,
    booking_id: int,
    kind: Literal["moved", "cancelled"],
    old_start: datetime,
    old_end: datetime,
    options: FeedOptions,
    now: datetime | None = None,
) -> list[Notice]:
    """The mail a changed vehicle booking calls for: to the caseworker it is for (an ad-hoc
    booking's, or the tour's), when it was or is today or tomorrow. The event is the
    vehicle feed's (UID ``booking-ID@fieldwork``), named after the vehicle."""
    now = now or datetime.now(UTC)
    found = session.execute(
        select(VehicleBooking, Tour.caseworker_id)
        .outerjoin(
            Tour,
            and_(Tour.plan_id == VehicleBooking.plan_id, Tour.key == VehicleBooking.tour_key),
        )
        .where(VehicleBooking.id == booking_id)
    ).one_or_none()
    if found is None:
        return []
    booking, tour_caseworker = found
    caseworker_id = booking.caseworker_id or tour_caseworker
    if caseworker_id is None:
        return []
    zone_name = session.scalar(
        select(Site.timezone)
        .join(Caseworker, Caseworker.site_id == Site.id)
        .where(Caseworker.id == caseworker_id)
    )
    if zone_name is None:
        return []
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    new_start = None if kind == "cancelled" else booking.start
    if not (_short_notice(old_start, zone, today) or _short_notice(new_start, zone, today)):
        return []
    feed = build_feed(
        session=session,
        subject=Subject("vehicle", booking.vehicle_id),
        options=options,
        now=now,
    )
    uid = f"booking-{booking.id}@{UID_DOMAIN}"
    event = next((item for item in feed.events if item.uid == uid), None)
    if event is None:
        return []
    vehicle = session.get(Vehicle, booking.vehicle_id)
    words = options.texts
    title = words.booking_for_caseworker.format(
        vehicle=(vehicle.name or vehicle.key) if vehicle else booking.vehicle_id
    )
    cancelled = kind == "cancelled"
    event = replace(event, summary=(words.cancelled_prefix if cancelled else "") + title)
    method: ItipMethod = "CANCEL" if cancelled else "REQUEST"
    return [Notice(caseworker_id, method, kind, event, old_start, new_start)]


def prepare_booking_mails(
    *,
    session: Session,
    booking_id: int,
    kind: Literal["moved", "cancelled"],
    old_start: datetime,
    old_end: datetime,
    settings: Settings,
    options: FeedOptions,
    now: datetime | None = None,
) -> Outbox:
    """The mail to the caseworker a booking is for, when it moved or was cancelled on
    short notice (call it after the change is written; ``deliver`` sends it)."""
    now = now or datetime.now(UTC)
    found = booking_notices(
        session=session,
        booking_id=booking_id,
        kind=kind,
        old_start=old_start,
        old_end=old_end,
        options=options,
        now=now,
    )
    return _outbox(session, found, settings, options, now)


def notify_booking_change(
    *,
    session: Session,
    booking_id: int,
    kind: Literal["moved", "cancelled"],
    old_start: datetime,
    old_end: datetime,
    settings: Settings,
    options: FeedOptions,
    now: datetime | None = None,
) -> NotifyReport:
    """Mail the caseworker about a booking of theirs moved or cancelled on short notice."""
    outbox = prepare_booking_mails(
        session=session,
        booking_id=booking_id,
        kind=kind,
        old_start=old_start,
        old_end=old_end,
        settings=settings,
        options=options,
        now=now,
    )
    return deliver(outbox, settings)


def deliver(outbox: Outbox, settings: Settings) -> NotifyReport:
    """Send the outbox; what was sent, to whom not, and what failed (never raises for
    the mail server: a publish stands whether or not its mails went out)."""
    report = NotifyReport(no_address=list(outbox.no_address))
    if not outbox.mails:
        return report
    if settings.smtp_host is None:
        report.smtp_off = True
        return report
    try:
        failed = send(outbox.mails, settings)
    except (smtplib.SMTPException, OSError) as error:
        report.failed = [f"{mail['To']}: {error}" for mail in outbox.mails]
        return report
    report.failed = failed
    report.sent = [str(mail["To"]) for mail in outbox.mails if str(mail["To"]) not in failed]
    return report


def notify_changes(
    *,
    session: Session,
    changes: Iterable[AppointmentChange],
    settings: Settings,
    options: FeedOptions,
    now: datetime | None = None,
) -> NotifyReport:
    """Mail every caseworker whose appointment today or tomorrow changed, now."""
    outbox = prepare_mails(
        session=session, changes=changes, settings=settings, options=options, now=now
    )
    return deliver(outbox, settings)
