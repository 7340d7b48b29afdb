"""Visit documentation: note that a visit's record or a family's consent was kept
digitally (``POST /appointments/{id}/documentation``), and see what was noted.

Only THAT it was kept digitally, never what it says (``scheduler.documentation``). A
caseworker documents their own appointments (another caseworker's is a 404, as if it
did not exist); coordinators and admins may do it for anyone; fleet managers not at
all (appointments name households). Each kind noted counts as a paperless step of the
sustainability report, dated by the visit's start.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from api.crud import RecordId
from api.deps import HouseholdReader, SessionDep
from api.schemas import Body
from core.db import write_transaction
from core.errors import NotFound
from scheduler.documentation import document_visit, documented, published_appointment
from scheduler.models import DOCUMENTATION_KINDS, Appointment, DocumentationKind, User

# Under the appointments' own path: this module adds their documentation.
router = APIRouter(prefix="/appointments", tags=["appointments"])


class DocumentationCreate(Body):
    """Which of the visit's papers were kept digitally (at least one)."""

    visit_record: bool = Field(
        default=False, description="the visit's record (Besuchsdokumentation) was kept digitally"
    )
    consent: bool = Field(
        default=False,
        description="a consent (Einwilligung, e.g. Schweigepflichtentbindung) was kept digitally",
    )

    @model_validator(mode="after")
    def _something(self) -> DocumentationCreate:
        if not (self.visit_record or self.consent):
            raise ValueError("visit_record or consent (or both) must be true")
        return self

    def kinds(self) -> list[DocumentationKind]:
        return [kind for kind in DOCUMENTATION_KINDS if getattr(self, kind)]


class DocumentationNote(BaseModel):
    kind: DocumentationKind
    recorded_at: datetime
    recorded_by: str | None


class DocumentationRead(BaseModel):
    appointment_id: int
    uid: str
    visit_record: bool
    consent: bool
    notes: list[DocumentationNote]


def _appointment_for(session: SessionDep, user: User, appointment_id: int) -> Appointment:
    appointment = published_appointment(session, appointment_id=appointment_id)
    if user.role == "caseworker" and appointment.caseworker_id != user.caseworker_id:
        raise NotFound(f"no appointment {appointment_id}")
    return appointment


def _read(session: SessionDep, appointment: Appointment) -> DocumentationRead:
    notes = [
        DocumentationNote(kind=note.kind, recorded_at=note.recorded_at, recorded_by=name)
        for note, name in documented(session, uids=[appointment.uid]).get(appointment.uid, [])
    ]
    kinds = {note.kind for note in notes}
    return DocumentationRead(
        appointment_id=appointment.id,
        uid=appointment.uid,
        visit_record="visit_record" in kinds,
        consent="consent" in kinds,
        notes=notes,
    )


@router.post("/{appointment_id}/documentation", status_code=201)
def document_appointment(
    session: SessionDep, user: HouseholdReader, appointment_id: RecordId, body: DocumentationCreate
) -> DocumentationRead:
    """Note that the visit's record and/or a consent was kept digitally (once per kind).

    409 for a cancelled appointment, one that has not started yet, or a kind noted
    before (nothing is written then).
    """
    appointment = _appointment_for(session, user, appointment_id)
    with write_transaction(session):
        document_visit(
            session,
            appointment=appointment,
            kinds=body.kinds(),
            recorded_by_id=user.id,
            actor=user.name,
        )
    return _read(session, appointment)


@router.get("/{appointment_id}/documentation")
def read_documentation(
    session: SessionDep, user: HouseholdReader, appointment_id: RecordId
) -> DocumentationRead:
    """What was noted as kept digitally for the appointment's visit, and by whom."""
    return _read(session, _appointment_for(session, user, appointment_id))
