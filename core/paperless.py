"""Paperless steps, counted where they happen, for the sustainability report.

A coordinator who publishes a plan to the calendar feeds prints no rosters; a caseworker
who confirms a trip in fieldwork writes no line in a paper log book. Each such step adds
a ``PaperlessEvent`` to the transaction that does the work (``record_paperless``), so
the count is exactly as true as the work itself: a publication that rolls back counts
nothing. The report turns counts into sheets avoided with the pages-per-event figure of
each kind, which lives with the emission factors (``fleet/data/emission_factors.json``)
because it is an assumption with a source, like a factor, and may change by year.

It lives in ``core`` because every domain records such steps (fleet's trips and
bookings, scheduler's plans) and fleet may not import scheduler. The site is a foreign
key by table name (``site.id``), as fleet's vehicles name it; when a site is deleted its
events stay and count for the whole programme.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, utc_now

PaperlessKind = Literal[
    # A plan published to the calendar feeds instead of printed weekly rosters.
    "plan_published",
    # A trip confirmed in fieldwork instead of a line in the paper log book.
    "trip_confirmed",
    # A vehicle booked online instead of on the paper list by the key box.
    "booking_online",
    # A visit record kept digitally instead of a paper form.
    "visit_record",
    # A consent (GDPR, release of information) kept digitally instead of on paper.
    "consent",
]
PAPERLESS_KINDS: tuple[PaperlessKind, ...] = get_args(PaperlessKind)

#: The longest reference (``plan:12``, ``trip:345``) kept with an event.
REFERENCE_LENGTH = 200


class PaperlessEvent(Base):
    """``count`` paperless steps of one ``kind`` at one instant, at a site or none."""

    __tablename__ = "paperless_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PaperlessKind] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    #: How many steps this event stands for (a plan published for five caseworkers
    #: replaces five rosters: one event with count 5).
    count: Mapped[int] = mapped_column(default=1)
    #: What the step was about, for tracing a figure back (``plan:12``, ``trip:345``).
    reference: Mapped[str | None] = mapped_column(String(REFERENCE_LENGTH))

    __table_args__ = (
        CheckConstraint(
            f"kind IN ({', '.join(repr(kind) for kind in PAPERLESS_KINDS)})", name="kind"
        ),
        CheckConstraint("count >= 1", name="count_positive"),
        Index("ix_paperless_event_at", "at"),
        Index("ix_paperless_event_site_at", "site_id", "at"),
    )


def record_paperless(
    *,
    session: Session,
    kind: PaperlessKind,
    site_id: int | None = None,
    count: int = 1,
    ref: str | None = None,
    at: datetime | None = None,
) -> PaperlessEvent:
    """Add a paperless step to the session's current unit of work (written with it).

    Call it inside the ``core.db.transaction()`` that does the work, so the step is
    counted if and only if the work is written. ``at`` defaults to now.
    """
    if kind not in PAPERLESS_KINDS:
        known = ", ".join(PAPERLESS_KINDS)
        raise ValueError(f"unknown paperless step {kind!r}; known: {known}")
    if count < 1:
        raise ValueError(f"a paperless step counts at least 1, not {count}")
    if ref is not None and len(ref) > REFERENCE_LENGTH:
        raise ValueError(f"reference longer than {REFERENCE_LENGTH} characters")
    event = PaperlessEvent(kind=kind, site_id=site_id, count=count, reference=ref)
    if at is not None:
        event.at = at
    session.add(event)
    return event
