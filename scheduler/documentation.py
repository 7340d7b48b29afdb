"""Visit documentation: a caseworker notes THAT a visit's record or a family's consent
was kept digitally, so the sustainability report counts the paper forms it replaced.

Least data: fieldwork never holds the record or the consent itself, nor anything about
the family; a note is the kind, when it was made and by whom (``VisitDocumentation``),
keyed by the appointment's ``uid`` so a re-plan of the week does not lose it. Each note
adds one paperless step (``visit_record`` or ``consent``) dated by the visit's start,
at the caseworker's site, and an audit event, in the caller's unit of work.

Only a confirmed appointment of a published plan that has started can be documented
(a record is written at or after the visit); a kind is noted once per visit, which the
table's unique key enforces even for two notes arriving at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import record
from core.db import utc_now
from core.errors import Conflict, NotFound
from core.paperless import record_paperless
from scheduler.models import (
    DOCUMENTATION_KINDS,
    Appointment,
    Caseworker,
    DocumentationKind,
    Plan,
    User,
    VisitDocumentation,
)

#: The kinds as caseworkers read them.
KIND_LABELS: dict[DocumentationKind, str] = {
    "visit_record": "Besuchsdokumentation",
    "consent": "Einwilligung",
}


class DocumentationRefused(Conflict):
    """The appointment cannot be documented (yet, or again); ``message_de`` for pages."""

    def __init__(self, message: str, message_de: str) -> None:
        super().__init__(message)
        self.message_de = message_de


def published_appointment(session: Session, *, appointment_id: int) -> Appointment:
    """The appointment if its plan is published (the current one), else ``NotFound``."""
    appointment = session.scalar(
        select(Appointment)
        .join(Plan, Plan.id == Appointment.plan_id)
        .where(Appointment.id == appointment_id, Plan.status == "published")
    )
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    return appointment


def documented(
    session: Session, *, uids: Iterable[str]
) -> dict[str, list[tuple[VisitDocumentation, str | None]]]:
    """The notes of these appointment uids, each with the name of who made it."""
    wanted = sorted(set(uids))
    found: dict[str, list[tuple[VisitDocumentation, str | None]]] = {}
    for chunk in range(0, len(wanted), 500):
        rows = session.execute(
            select(VisitDocumentation, User.name)
            .outerjoin(User, User.id == VisitDocumentation.recorded_by_id)
            .where(VisitDocumentation.appointment_uid.in_(wanted[chunk : chunk + 500]))
            .order_by(VisitDocumentation.recorded_at, VisitDocumentation.id)
        )
        for note, name in rows:
            found.setdefault(note.appointment_uid, []).append((note, name))
    return found


def document_visit(
    session: Session,
    *,
    appointment: Appointment,
    kinds: Sequence[DocumentationKind],
    recorded_by_id: int | None,
    actor: str,
    now: datetime | None = None,
) -> list[VisitDocumentation]:
    """Note the kinds as kept digitally for a published appointment's visit.

    Call it inside a ``core.db.transaction()`` (the notes, their paperless steps and
    the audit event are written together). Raises ``DocumentationRefused`` (a
    ``Conflict``) for a cancelled appointment, one that has not started, or a kind
    noted before; then nothing is written.
    """
    now = now or utc_now()
    wanted = [kind for kind in DOCUMENTATION_KINDS if kind in set(kinds)]
    if not wanted:
        raise ValueError("document at least one kind")
    if appointment.status != "confirmed":
        raise DocumentationRefused(
            f"appointment {appointment.id} is {appointment.status}: only a confirmed "
            "appointment can be documented",
            "Nur ein bestätigter Termin kann dokumentiert werden, dieser ist abgesagt.",
        )
    if appointment.start > now:
        raise DocumentationRefused(
            f"appointment {appointment.id} starts at {appointment.start.isoformat()}: a "
            "visit is documented once it has started, not before",
            "Ein Besuch wird dokumentiert, wenn er begonnen hat, nicht vorher.",
        )
    before = {
        note.kind: note
        for note in session.scalars(
            select(VisitDocumentation).where(
                VisitDocumentation.appointment_uid == appointment.uid,
                VisitDocumentation.kind.in_(wanted),
            )
        )
    }
    if before:
        raise _already(appointment, [before[kind] for kind in wanted if kind in before])
    site_id = session.scalar(
        select(Caseworker.site_id).where(Caseworker.id == appointment.caseworker_id)
    )
    notes = [
        VisitDocumentation(
            appointment_uid=appointment.uid,
            kind=kind,
            recorded_at=now,
            recorded_by_id=recorded_by_id,
        )
        for kind in wanted
    ]
    try:
        # In a SAVEPOINT of its own, so a note another request wrote meanwhile (the
        # unique key refuses ours) leaves the caller's unit of work usable.
        with session.begin_nested():
            session.add_all(notes)
            session.flush()
    except IntegrityError:
        raced = list(
            session.scalars(
                select(VisitDocumentation).where(
                    VisitDocumentation.appointment_uid == appointment.uid,
                    VisitDocumentation.kind.in_(wanted),
                )
            )
        )
        raise _already(appointment, raced) from None
    for kind in wanted:
        record_paperless(
            session=session,
            kind=kind,
            site_id=site_id,
            ref=f"appointment:{appointment.uid}",
            at=appointment.start,
        )
    record(
        session=session,
        actor=actor,
        user_id=recorded_by_id,
        action="document",
        entity="appointment",
        entity_id=appointment.uid,
        detail={"appointment_id": appointment.id, "plan_id": appointment.plan_id, "kinds": wanted},
    )
    return notes


def _already(appointment: Appointment, notes: Sequence[VisitDocumentation]) -> DocumentationRefused:
    kinds = ", ".join(note.kind for note in notes) or "this kind"
    labels = ", ".join(KIND_LABELS[note.kind] for note in notes) or "Dokumentation"
    return DocumentationRefused(
        f"appointment {appointment.id}: {kinds} documented already",
        f"Bereits vermerkt: {labels}.",
    )
