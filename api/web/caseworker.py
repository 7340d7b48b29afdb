"""Caseworker pages: my week, my households (only mine), on a phone's screen.

Another caseworker's household is a 404 page, exactly like one that does not exist
(the API's ``household_for`` decides, so the page and the API cannot disagree).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.deps import SessionDep
from api.routers import households as household_routes
from api.web.pages import PREFIX, CaseworkerPage, not_found, render
from core.errors import DomainError
from scheduler.models import Appointment, Caseworker, Plan, Tour, VisitRequest

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@router.get("/me")
def my_week(
    request: Request, session: SessionDep, user: CaseworkerPage, week: date | None = None
) -> Response:
    caseworker = session.scalars(
        select(Caseworker)
        .where(Caseworker.id == user.caseworker_id)
        .options(selectinload(Caseworker.site))
    ).one()
    zone = ZoneInfo(caseworker.site.timezone)
    rows = session.execute(
        select(Appointment, VisitRequest, Tour)
        .join(Plan, Plan.id == Appointment.plan_id)
        .join(VisitRequest, VisitRequest.id == Appointment.visit_request_id)
        .outerjoin(Tour, (Tour.plan_id == Appointment.plan_id) & (Tour.key == Appointment.tour_key))
        .where(Appointment.caseworker_id == caseworker.id, Plan.status == "published")
        .options(selectinload(VisitRequest.household))
        .order_by(Appointment.start)
    ).all()
    days = sorted({appointment.start.astimezone(zone).date() for appointment, _v, _t in rows})
    first = week or (
        _monday(date.today())
        if any(_monday(d) == _monday(date.today()) for d in days)
        else (_monday(days[0]) if days else _monday(date.today()))
    )
    shown = [
        (
            appointment.start.astimezone(zone),
            appointment.end.astimezone(zone),
            appointment,
            visit,
            tour,
        )
        for appointment, visit, tour in rows
        if first <= appointment.start.astimezone(zone).date() < first + timedelta(days=7)
    ]
    return render(
        request,
        "me.html",
        caseworker=caseworker,
        appointments=shown,
        week_start=first,
        previous_week=first - timedelta(days=7),
        next_week=first + timedelta(days=7),
        zone=zone,
    )


@router.get("/me/households")
def my_households(request: Request, session: SessionDep, user: CaseworkerPage) -> Response:
    found = household_routes.list_households(
        session, user, limit=500, offset=0, site=None, caseworker=None
    )
    return render(request, "my_households.html", page=found)


@router.get("/me/households/{household_id}")
def my_household(
    request: Request, session: SessionDep, user: CaseworkerPage, household_id: int
) -> Response:
    try:
        household = household_routes.read_household(session, user, household_id)
    except DomainError:
        raise not_found() from None
    visits = list(
        session.scalars(
            select(VisitRequest)
            .where(VisitRequest.household_id == household_id)
            .options(selectinload(VisitRequest.week), selectinload(VisitRequest.pinned_caseworker))
            .order_by(VisitRequest.week_id.desc(), VisitRequest.key)
        )
    )
    return render(
        request,
        "household.html",
        household=household,
        errors=[],
        message=None,
        visits=visits,
        readonly=True,
        sites=[],
        caseworkers=[],
    )
