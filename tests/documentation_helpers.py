"""Published appointments built by hand for the visit documentation tests: one of cw01
long past, one of cw02 (Everswinkel), one a month ahead, a cancelled one and one of a
plan never published. In a module of its own (a unique name) so the HTTP tests and the
race against a real server (tests/api) and the week page's tests (tests/web) share it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import (
    Appointment,
    AppointmentStatus,
    Caseworker,
    Plan,
    PlanningWeek,
    PlanStatus,
    Tour,
    VisitRequest,
)

#: Tuesday 17 November 2026, 09:00 in Ennigerloh (CET): long past.
PAST = datetime(2026, 11, 17, 8, tzinfo=UTC)


@dataclass(frozen=True)
class Appointments:
    own: Appointment  # cw01, past, confirmed
    other: Appointment  # cw02 (Everswinkel), past, confirmed
    future: Appointment  # cw01, a month from now
    cancelled: Appointment  # cw01, past, cancelled
    draft: Appointment  # cw01, past, of a plan never published


def new_plan(session: Session, status: PlanStatus) -> Plan:
    week = session.scalars(select(PlanningWeek)).one()
    plan = Plan(week_id=week.id, time_limit_s=5, status=status, scenario={})
    session.add(plan)
    session.flush()
    return plan


def new_appointment(
    session: Session,
    plan: Plan,
    caseworker: str,
    visit: str,
    start: datetime,
    status: AppointmentStatus = "confirmed",
) -> Appointment:
    caseworker_id = session.scalars(select(Caseworker.id).where(Caseworker.key == caseworker)).one()
    visit_id = session.scalars(select(VisitRequest.id).where(VisitRequest.key == visit)).one()
    tour_key = f"{caseworker}/{start.date()}/{visit}"
    session.add(
        Tour(
            plan_id=plan.id,
            key=tour_key,
            caseworker_id=caseworker_id,
            date=start.date(),
            mode="e_bike",
            depart=start - timedelta(minutes=20),
            return_=start + timedelta(hours=2),
            distance_km=6.0,
            travel_minutes=40,
            co2e_kg=0.01,
            baseline_co2e_kg=1.2,
            legs=[],
        )
    )
    session.flush()
    appointment = Appointment(
        plan_id=plan.id,
        visit_request_id=visit_id,
        caseworker_id=caseworker_id,
        tour_key=tour_key,
        start=start,
        end=start + timedelta(hours=1),
        uid=f"{visit}-{plan.id}@fieldwork",
        status=status,
    )
    session.add(appointment)
    session.flush()
    return appointment


def appointments(session: Session) -> Appointments:
    published = new_plan(session, "published")
    draft = new_plan(session, "done")
    return Appointments(
        own=new_appointment(session, published, "cw01", "H0001/1", PAST),
        other=new_appointment(session, published, "cw02", "H0002/1", PAST + timedelta(hours=2)),
        future=new_appointment(
            session, published, "cw01", "H0003/1", datetime.now(UTC) + timedelta(days=30)
        ),
        cancelled=new_appointment(
            session, published, "cw01", "H0004/1", PAST + timedelta(days=1), "cancelled"
        ),
        draft=new_appointment(session, draft, "cw01", "H0005/1", PAST),
    )
