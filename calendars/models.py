"""Tables of the calendar feeds: subscription tokens and each caseworker's delivery.

``FeedToken``: a capability URL's secret. The token (``fwcal_`` and 32 random bytes) is
shown once; only its SHA-256 (hex) is stored, so a copy of the database opens no feed.
A feed is one caseworker's, one vehicle's or one site's; at most one token of a feed is
active at a time (the service refuses a second, ``rotate`` replaces it). A revoked token
stays as a row, so the audit trail can say which token was used until when.

``CaseworkerCalendar``: where else a caseworker's appointments go besides the feed: an
e-mail address for same-day changes and, optionally, a CalDAV calendar the service
pushes to. The CalDAV password is stored as given, because the service has to present
it to the CalDAV server: anyone who can read this table can use that account. Use an app
password of a dedicated calendar account (Nextcloud: Settings > Security > App
passwords), never a person's login; the API never returns it, and it is in no export
and no audit record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utc_now

FeedKind = Literal["caseworker", "vehicle", "site"]
FEED_KINDS: tuple[FeedKind, ...] = get_args(FeedKind)


class FeedToken(Base):
    """The hashed token of one feed; ``revoked_at`` set when rotated or revoked."""

    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FeedKind] = mapped_column(String(16))
    #: Exactly the one matching ``kind`` is set (a CHECK keeps it so).
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), index=True
    )
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: Who made it: a user's name, ``cli``; kept as text like the audit log's actor.
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "kind IN ('caseworker', 'vehicle', 'site')",
            name="kind",
        ),
        CheckConstraint(
            "(kind = 'caseworker' AND caseworker_id IS NOT NULL AND vehicle_id IS NULL"
            " AND site_id IS NULL)"
            " OR (kind = 'vehicle' AND vehicle_id IS NOT NULL AND caseworker_id IS NULL"
            " AND site_id IS NULL)"
            " OR (kind = 'site' AND site_id IS NOT NULL AND caseworker_id IS NULL"
            " AND vehicle_id IS NULL)",
            name="one_subject",
        ),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after"),
    )


class CaseworkerCalendar(Base):
    """A caseworker's e-mail for same-day changes and optional CalDAV push target."""

    __tablename__ = "caseworker_calendar"

    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), primary_key=True
    )
    #: Where same-day changes are mailed; None: no e-mail.
    email: Mapped[str | None] = mapped_column(String(320))
    #: The CalDAV calendar collection (``https://cloud.example/remote.php/dav/calendars/
    #: USER/fieldwork/``); None: no push.
    caldav_url: Mapped[str | None] = mapped_column(Text)
    caldav_username: Mapped[str | None] = mapped_column(String(200))
    #: Stored as given (see the module's docstring): use an app password.
    caldav_password: Mapped[str | None] = mapped_column(Text)
    caldav_pushed_at: Mapped[datetime | None]
    #: Why the latest push failed (None after a successful one).
    caldav_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        CheckConstraint(
            "(caldav_url IS NULL) = (caldav_username IS NULL)", name="caldav_url_with_user"
        ),
    )
