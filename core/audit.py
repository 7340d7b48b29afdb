"""The audit log: who did what to which record, and when (including reads of a household).

It lives in ``core`` because every domain writes to it (a fleet booking is audited like
a household change) and fleet may not import scheduler. The log has no foreign keys on
purpose: it must outlive the users and records it names, so it keeps the actor's name
and the entity's id as written at the time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, utc_now


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    #: The ``app_user`` id at the time, or None for the command line and system jobs.
    user_id: Mapped[int | None]
    #: Who, readable without the user table: a user's name, ``cli`` or ``worker``.
    actor: Mapped[str] = mapped_column(String(200))
    #: What: ``create``, ``update``, ``delete``, ``read``, ``import``, ``publish``, ...
    action: Mapped[str] = mapped_column(String(32))
    #: The kind of record (``household``, ``vehicle_booking``, ``scenario``) and its id.
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id"),
        Index("ix_audit_event_at", "at"),
    )


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's current unit of work (written with it)."""
    event = AuditEvent(
        user_id=user_id,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )
    session.add(event)
    return event
