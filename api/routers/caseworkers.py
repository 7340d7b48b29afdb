"""Caseworkers (staff): everyone may read them, planners change them."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.crud import (
    KeyFilter,
    Limit,
    Offset,
    RecordId,
    audit,
    get_or_404,
    page,
    referenced,
    writing,
)
from api.deps import CurrentUser, Planner, SessionDep
from api.schemas import CaseworkerCreate, CaseworkerPublic, CaseworkerUpdate, Interval, Page
from core.errors import Infeasible
from scheduler.models import Caseworker, CaseworkerMode, CaseworkerSkill, Site, WorkingHours

router = APIRouter(prefix="/caseworkers", tags=["caseworkers"])


def public(caseworker: Caseworker) -> CaseworkerPublic:
    return CaseworkerPublic(
        id=caseworker.id,
        key=caseworker.key,
        name=caseworker.name,
        site=caseworker.site.key,
        max_visits_per_day=caseworker.max_visits_per_day,
        working_hours=[
            Interval(weekday=hours.weekday, start=hours.start, end=hours.end)
            for hours in caseworker.working_hours
        ],
        modes=[mode.mode for mode in caseworker.modes],
        skills=[skill.skill for skill in caseworker.skills],
    )


def _set_parts(
    caseworker: Caseworker,
    working_hours: list[Interval] | None,
    modes: list[str] | None,
    skills: list[str] | None,
) -> None:
    if working_hours is not None:
        weekdays = [hours.weekday for hours in working_hours]
        if len(set(weekdays)) != len(weekdays):
            raise Infeasible("working_hours: one interval per weekday")
        caseworker.working_hours = [
            WorkingHours(weekday=hours.weekday, start=hours.start, end=hours.end)
            for hours in working_hours
        ]
    if modes is not None:
        caseworker.modes = [CaseworkerMode(mode=mode) for mode in sorted(set(modes))]
    if skills is not None:
        caseworker.skills = [CaseworkerSkill(skill=skill) for skill in sorted(set(skills))]


def _site(session: Session, key: str) -> Site:
    return referenced(session, Site, Site.key, key, "site")


@router.get("")
def list_caseworkers(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
    site: KeyFilter = None,
) -> Page[CaseworkerPublic]:
    query = (
        select(Caseworker)
        .options(
            selectinload(Caseworker.site),
            selectinload(Caseworker.working_hours),
            selectinload(Caseworker.modes),
            selectinload(Caseworker.skills),
        )
        .order_by(Caseworker.key)
    )
    if site is not None:
        query = query.join(Caseworker.site).where(Site.key == site)
    rows, total = page(session, query, limit, offset)
    return Page(items=[public(row) for row in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=201)
def create_caseworker(
    session: SessionDep, user: Planner, body: CaseworkerCreate
) -> CaseworkerPublic:
    site = _site(session, body.site)
    with writing(session):
        caseworker = Caseworker(
            key=body.key, name=body.name, site=site, max_visits_per_day=body.max_visits_per_day
        )
        _set_parts(caseworker, body.working_hours, list(body.modes), body.skills)
        session.add(caseworker)
        session.flush()
        audit(session, user, "create", "caseworker", caseworker.key, body.model_dump(mode="json"))
    return public(caseworker)


@router.get("/{caseworker_id}")
def read_caseworker(
    session: SessionDep, user: CurrentUser, caseworker_id: RecordId
) -> CaseworkerPublic:
    return public(get_or_404(session, Caseworker, caseworker_id, "caseworker"))


@router.patch("/{caseworker_id}")
def update_caseworker(
    session: SessionDep, user: Planner, caseworker_id: RecordId, body: CaseworkerUpdate
) -> CaseworkerPublic:
    caseworker = get_or_404(session, Caseworker, caseworker_id, "caseworker")
    changes = body.model_dump(exclude_unset=True)
    with writing(session):
        if "name" in changes:
            caseworker.name = body.name
        if "max_visits_per_day" in changes:
            caseworker.max_visits_per_day = body.max_visits_per_day
        if body.site is not None:
            caseworker.site = _site(session, body.site)
        _set_parts(
            caseworker,
            body.working_hours,
            None if body.modes is None else list(body.modes),
            body.skills,
        )
        audit(
            session,
            user,
            "update",
            "caseworker",
            caseworker.key,
            body.model_dump(mode="json", exclude_unset=True),
        )
    return public(caseworker)


@router.delete("/{caseworker_id}", status_code=204)
def delete_caseworker(session: SessionDep, user: Planner, caseworker_id: RecordId) -> Response:
    caseworker = get_or_404(session, Caseworker, caseworker_id, "caseworker")
    with writing(session):
        session.delete(caseworker)
        audit(session, user, "delete", "caseworker", caseworker.key)
    return Response(status_code=204)
