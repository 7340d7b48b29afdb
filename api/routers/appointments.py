"""Published appointments: a caseworker's own week, a coordinator's overview.

Only appointments of plans with status ``published`` are current; a cancelled one is
listed too (``status: cancelled``) so a client can remove it. A caseworker sees only
their own (another caseworker's appointment is a 404, as if it did not exist); a fleet
manager none (appointments name households).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row as SqlRow

from api.crud import KeyFilter, Limit, Offset, RecordId
from api.deps import HouseholdReader, SessionDep
from api.schemas import Page
from core.errors import Infeasible, NotFound
from scheduler.models import (
    Appointment,
    AppointmentStatus,
    Caseworker,
    Household,
    Plan,
    User,
    VisitRequest,
)

router = APIRouter(prefix="/appointments", tags=["appointments"])


class AppointmentRead(BaseModel):
    id: int
    uid: str
    sequence: int
    status: AppointmentStatus
    plan_id: int
    visit: str
    household: str
    caseworker: str
    tour: str | None
    start: datetime
    end: datetime
    updated_at: datetime


Row = SqlRow[Appointment, str, str, str]
AppointmentQuery = Select[Appointment, str, str, str]


def _query() -> AppointmentQuery:
    return (
        select(Appointment, VisitRequest.key, Household.pseudonym, Caseworker.key)
        .join(Plan, Plan.id == Appointment.plan_id)
        .join(VisitRequest, VisitRequest.id == Appointment.visit_request_id)
        .join(Household, Household.id == VisitRequest.household_id)
        .join(Caseworker, Caseworker.id == Appointment.caseworker_id)
        .where(Plan.status == "published")
    )


def _visible_to(query: AppointmentQuery, user: User) -> AppointmentQuery:
    if user.role == "caseworker":
        return query.where(Appointment.caseworker_id == user.caseworker_id)
    return query


def _public(row: Row) -> AppointmentRead:
    appointment, visit, household, caseworker = row
    return AppointmentRead(
        id=appointment.id,
        uid=appointment.uid,
        sequence=appointment.sequence,
        status=appointment.status,
        plan_id=appointment.plan_id,
        visit=visit,
        household=household,
        caseworker=caseworker,
        tour=appointment.tour_key,
        start=appointment.start,
        end=appointment.end,
        updated_at=appointment.updated_at,
    )


@router.get("")
def list_appointments(
    session: SessionDep,
    user: HouseholdReader,
    limit: Limit = 100,
    offset: Offset = 0,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="appointments ending after")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="appointments starting before")] = None,
    caseworker: KeyFilter = None,
) -> Page[AppointmentRead]:
    """Published appointments by time and caseworker, in order of their start."""
    if from_ is not None and to is not None and to <= from_:
        raise Infeasible("to must be after from")
    query = _visible_to(_query(), user)
    if caseworker is not None:
        if user.role == "caseworker" and not _is_own(session, user, caseworker):
            raise NotFound(f"no caseworker {caseworker}")
        query = query.where(Caseworker.key == caseworker)
    if from_ is not None:
        query = query.where(Appointment.end > from_)
    if to is not None:
        query = query.where(Appointment.start < to)
    query = query.order_by(Appointment.start, Appointment.id)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return Page(
        items=[_public(row) for row in rows], total=int(total or 0), limit=limit, offset=offset
    )


def _is_own(session: SessionDep, user: User, key: str) -> bool:
    return session.scalar(select(Caseworker.id).where(Caseworker.key == key)) == user.caseworker_id


@router.get("/{appointment_id}")
def read_appointment(
    session: SessionDep, user: HouseholdReader, appointment_id: RecordId
) -> AppointmentRead:
    row = session.execute(
        _visible_to(_query().where(Appointment.id == appointment_id), user)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no appointment {appointment_id}")
    return _public(row)
