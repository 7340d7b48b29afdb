"""Feed tokens: the secret part of a feed's capability URL.

A token is ``fwcal_`` and 32 random bytes (256 bits, ``secrets.token_urlsafe``); only its
SHA-256 (hex) is stored, so it is shown once, when created or rotated. A feed has at
most one active token: ``create`` refuses a second one (``rotate`` replaces it, so the
old URL stops working at once), ``revoke`` ends it. Looking a token up answers the same
``None`` for an unknown, a revoked and a malformed token, so the URL is no oracle.

Plain keyword-only functions that take the session; every change is one transaction
with its audit record.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.models import FeedKind, FeedToken
from core.audit import record
from core.db import transaction, utc_now
from core.errors import Conflict, NotFound

TOKEN_PREFIX = "fwcal_"
#: The shape of a token; anything else is not looked up at all.
TOKEN_PATTERN = re.compile(r"^fwcal_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose feed: a caseworker's, a vehicle's or a site's (by record id)."""

    kind: FeedKind
    id: int

    @property
    def column(self) -> str:
        return f"{self.kind}_id"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _active(session: Session, subject: Subject) -> FeedToken | None:
    return session.scalars(
        select(FeedToken).where(
            FeedToken.kind == subject.kind,
            getattr(FeedToken, subject.column) == subject.id,
            FeedToken.revoked_at.is_(None),
        )
    ).one_or_none()


def active_token(*, session: Session, subject: Subject) -> FeedToken | None:
    """The feed's active token row (never the token itself), or None."""
    return _active(session, subject)


def _audit(session: Session, actor: str, user_id: int | None, action: str, row: FeedToken) -> None:
    record(
        session=session,
        actor=actor,
        user_id=user_id,
        action=action,
        entity="feed_token",
        entity_id=str(row.id),
        detail={"feed": row.kind, "subject_id": getattr(row, f"{row.kind}_id")},
    )


def _new(session: Session, subject: Subject, actor: str) -> tuple[FeedToken, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = FeedToken(kind=subject.kind, token_hash=hash_token(token), created_by=actor)
    setattr(row, subject.column, subject.id)
    session.add(row)
    session.flush()
    return row, token


def create_token(
    *, session: Session, subject: Subject, actor: str, user_id: int | None = None
) -> tuple[FeedToken, str]:
    """A token for a feed that has none; the row and the token (shown once)."""
    with transaction(session):
        if _active(session, subject) is not None:
            raise Conflict(
                f"the {subject.kind} feed has an active token already; rotate it for a new one"
            )
        row, token = _new(session, subject, actor)
        _audit(session, actor, user_id, "create", row)
    return row, token


def rotate_token(
    *, session: Session, subject: Subject, actor: str, user_id: int | None = None
) -> tuple[FeedToken, str]:
    """Revoke the feed's token (if any) and make a new one, in one transaction."""
    with transaction(session):
        old = _active(session, subject)
        if old is not None:
            old.revoked_at = utc_now()
            _audit(session, actor, user_id, "revoke", old)
            session.flush()
        row, token = _new(session, subject, actor)
        _audit(session, actor, user_id, "rotate" if old is not None else "create", row)
    return row, token


def revoke_token(
    *, session: Session, subject: Subject, actor: str, user_id: int | None = None
) -> FeedToken:
    """End the feed's active token; its URL answers 404 from now on."""
    with transaction(session):
        row = _active(session, subject)
        if row is None:
            raise NotFound(f"the {subject.kind} feed has no active token")
        row.revoked_at = utc_now()
        _audit(session, actor, user_id, "revoke", row)
    return row


def subject_for_token(*, session: Session, token: str) -> Subject | None:
    """The feed an active token opens, or None (unknown, revoked or malformed alike)."""
    if not TOKEN_PATTERN.match(token):
        return None
    row = session.execute(
        select(FeedToken.kind, FeedToken.caseworker_id, FeedToken.vehicle_id, FeedToken.site_id)
        .where(FeedToken.token_hash == hash_token(token), FeedToken.revoked_at.is_(None))
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    kind, caseworker_id, vehicle_id, site_id = row
    subject_id = {"caseworker": caseworker_id, "vehicle": vehicle_id, "site": site_id}[kind]
    if subject_id is None:  # the CHECK rules it out; a broken row opens nothing
        return None
    return Subject(kind=kind, id=subject_id)
