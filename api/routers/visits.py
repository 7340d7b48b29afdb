"""Visit requests of a planning week: planners manage them, a caseworker reads those of
their own households, a fleet manager none (they name households)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from api.crud import KeyFilter, Limit, Offset, RecordId, audit, page, referenced, writing
from api.deps import HouseholdReader, Planner, SessionDep
from api.schemas import Page, VisitCreate, VisitPublic, VisitUpdate
from core.errors import Conflict, Infeasible, NotFound
from scheduler.models import (
    Caseworker,
    Household,
    PlanningWeek,
    User,
    VisitRequest,
    household_allowed_caseworker,
)

router = APIRouter(prefix="/visits", tags=["visits"])


def public(visit: VisitRequest) -> VisitPublic:
    return VisitPublic(
        id=visit.id,
        week=visit.week.start,
        key=visit.key,
        household=visit.household.pseudonym,
        duration_minutes=visit.duration_minutes,
        priority=visit.priority,
        earliest=visit.earliest,
        latest=visit.latest,
        pinned_caseworker=visit.pinned_caseworker.key if visit.pinned_caseworker else None,
        pinned_start=visit.pinned_start,
    )


def _loaded() -> Select[VisitRequest]:
    return select(VisitRequest).options(
        selectinload(VisitRequest.week),
        selectinload(VisitRequest.household),
        selectinload(VisitRequest.pinned_caseworker),
    )


def _of_caseworker(
    query: Select[VisitRequest], caseworker_id: RecordId | None
) -> Select[VisitRequest]:
    """Visits to households the caseworker is primary or allowed for, or pinned to them."""
    allowed = select(household_allowed_caseworker.c.household_id).where(
        household_allowed_caseworker.c.caseworker_id == caseworker_id
    )
    primary = select(Household.id).where(Household.primary_caseworker_id == caseworker_id)
    return query.where(
        or_(
            VisitRequest.household_id.in_(allowed),
            VisitRequest.household_id.in_(primary),
            VisitRequest.pinned_caseworker_id == caseworker_id,
        )
    )


def _visible_to(query: Select[VisitRequest], user: User) -> Select[VisitRequest]:
    return query if user.role != "caseworker" else _of_caseworker(query, user.caseworker_id)


def visit_for(session: Session, user: User, visit_id: RecordId) -> VisitRequest:
    visit = session.scalars(
        _visible_to(_loaded().where(VisitRequest.id == visit_id), user)
    ).one_or_none()
    if visit is None:
        raise NotFound(f"no visit {visit_id}")
    return visit


def _pin(session: Session, visit: VisitRequest, body: VisitCreate | VisitUpdate) -> None:
    changes = body.model_dump(exclude_unset=True)
    if "pinned_caseworker" in changes:
        visit.pinned_caseworker = (
            None
            if body.pinned_caseworker is None
            else referenced(
                session, Caseworker, Caseworker.key, body.pinned_caseworker, "caseworker"
            )
        )
    if "pinned_start" in changes:
        visit.pinned_start = body.pinned_start
    if (visit.pinned_caseworker is None) != (visit.pinned_start is None):
        raise Infeasible("pinned_caseworker and pinned_start go together")
    if visit.earliest and visit.latest and visit.latest < visit.earliest:
        raise Infeasible("latest must not be before earliest")


@router.get("")
def list_visits(
    session: SessionDep,
    user: HouseholdReader,
    limit: Limit = 100,
    offset: Offset = 0,
    week: date | None = None,
    household: KeyFilter = None,
    caseworker: KeyFilter = None,
) -> Page[VisitPublic]:
    """Visits by week and key; a caseworker sees those of their own households."""
    query = _visible_to(_loaded(), user).order_by(VisitRequest.week_id, VisitRequest.key)
    if week is not None:
        query = query.where(VisitRequest.week.has(PlanningWeek.start == week))
    if household is not None:
        query = query.where(VisitRequest.household.has(Household.pseudonym == household))
    if caseworker is not None:
        caseworker_id = session.scalar(select(Caseworker.id).where(Caseworker.key == caseworker))
        query = _of_caseworker(query, caseworker_id)
    rows, total = page(session, query, limit, offset)
    return Page(items=[public(row) for row in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=201)
def create_visit(session: SessionDep, user: Planner, body: VisitCreate) -> VisitPublic:
    week = session.scalars(
        select(PlanningWeek).where(PlanningWeek.start == body.week)
    ).one_or_none()
    if week is None:
        raise Infeasible(f"no planning week starts on {body.week}: import a scenario for it first")
    household = referenced(session, Household, Household.pseudonym, body.household, "household")
    if household.erased_at is not None:
        raise Conflict(f"household {household.pseudonym} was erased")
    with writing(session):
        visit = VisitRequest(
            week=week,
            key=body.key,
            household=household,
            duration_minutes=body.duration_minutes,
            priority=body.priority,
            earliest=body.earliest,
            latest=body.latest,
        )
        session.add(visit)
        _pin(session, visit, body)
        session.flush()
        audit(session, user, "create", "visit_request", f"{week.start}/{visit.key}")
    return public(visit)


@router.get("/{visit_id}")
def read_visit(session: SessionDep, user: HouseholdReader, visit_id: RecordId) -> VisitPublic:
    return public(visit_for(session, user, visit_id))


@router.patch("/{visit_id}")
def update_visit(
    session: SessionDep, user: Planner, visit_id: RecordId, body: VisitUpdate
) -> VisitPublic:
    visit = visit_for(session, user, visit_id)
    changes = body.model_dump(exclude_unset=True)
    with writing(session):
        if body.duration_minutes is not None:
            visit.duration_minutes = body.duration_minutes
        if body.priority is not None:
            visit.priority = body.priority
        if "earliest" in changes:
            visit.earliest = body.earliest
        if "latest" in changes:
            visit.latest = body.latest
        _pin(session, visit, body)
        audit(
            session,
            user,
            "update",
            "visit_request",
            f"{visit.week.start}/{visit.key}",
            body.model_dump(mode="json", exclude_unset=True),
        )
    return public(visit)


@router.delete("/{visit_id}", status_code=204)
def delete_visit(session: SessionDep, user: Planner, visit_id: RecordId) -> Response:
    visit = visit_for(session, user, visit_id)
    with writing(session):
        session.delete(visit)
        audit(session, user, "delete", "visit_request", f"{visit.week.start}/{visit.key}")
    return Response(status_code=204)
