"""Helpers of the calendar feed tests: published plans written as rows (a uniquely named
module: every test folder has a ``conftest``; the app, the demo week and users' tokens
come from ``tests/session_app.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.models import Vehicle, VehicleBooking
from scheduler.models import (
    Appointment,
    Caseworker,
    Household,
    Plan,
    PlanningWeek,
    Site,
    Tour,
    VisitRequest,
)

BERLIN = ZoneInfo("Europe/Berlin")


# ------------------------------------------------------------------------------ plans


@dataclass
class Published:
    """A plan written as rows, and what it holds, for comparing with feeds."""

    plan: Plan
    appointments: list[Appointment] = field(default_factory=list)
    tours: list[Tour] = field(default_factory=list)
    bookings: list[VehicleBooking] = field(default_factory=list)


def by_key(session: Session, model: type, key: str) -> object:
    column = model.pseudonym if model is Household else model.key  # type: ignore[attr-defined]
    return session.scalars(select(model).where(column == key)).one()


def next_dst_change(after: date | None = None) -> date:
    """The next date on which Berlin's clocks change (feeds keep only recent history,
    so the DST test plans the coming change rather than a fixed past one)."""
    day = after or datetime.now(UTC).date()
    while True:
        following = day + timedelta(days=1)
        before = datetime.combine(day, time(12), BERLIN).utcoffset()
        if before != datetime.combine(following, time(12), BERLIN).utcoffset():
            return following
        day = following


def local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, BERLIN).astimezone(UTC)


class Planner:
    """Writes published plans as the publish service leaves them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.visit_number = 0

    def week(self, start: date, days: int) -> PlanningWeek:
        week = self.session.scalars(
            select(PlanningWeek).where(PlanningWeek.start == start)
        ).one_or_none()
        if week is None:
            week = PlanningWeek(
                start=start, end=start + timedelta(days=days - 1), name=f"Woche {start}"
            )
            self.session.add(week)
            self.session.flush()
        return week

    def visit(self, week: PlanningWeek, household: Household, minutes: int) -> VisitRequest:
        self.visit_number += 1
        visit = VisitRequest(
            week_id=week.id,
            key=f"{household.pseudonym}/{self.visit_number}",
            household_id=household.id,
            duration_minutes=minutes,
        )
        self.session.add(visit)
        self.session.flush()
        return visit

    def publish(
        self,
        *,
        caseworker: str = "cw01",
        start: date | None = None,
        days: int = 9,
        per_day: int = 3,
        mode: str = "e_bike",
        vehicle: str | None = "ebike-enn-1",
    ) -> Published:
        """A published plan: ``per_day`` visits a day in one tour from 08:30, from
        ``start`` (tomorrow by default) on."""
        session = self.session
        start = start or datetime.now(UTC).date() + timedelta(days=1)
        worker = by_key(session, Caseworker, caseworker)
        assert isinstance(worker, Caseworker)
        week = self.week(start, days)
        households = list(session.scalars(select(Household).order_by(Household.pseudonym)))
        car = by_key(session, Vehicle, vehicle) if vehicle else None
        assert car is None or isinstance(car, Vehicle)
        now = datetime.now(UTC).replace(microsecond=0)
        plan = Plan(
            week_id=week.id,
            sites=[worker.site.key],
            status="published",
            time_limit_s=1,
            scenario={},
            published_at=now,
        )
        session.add(plan)
        session.flush()
        made = Published(plan)
        for offset in range(days):
            day = start + timedelta(days=offset)
            tour = Tour(
                plan_id=plan.id,
                key=f"{caseworker}/{day}/1",
                caseworker_id=worker.id,
                date=day,
                mode=mode,
                vehicle_id=car.id if car else None,
                depart=local(day, time(8, 30)),
                return_=local(day, time(9, 0)) + timedelta(minutes=75 * per_day),
                distance_km=12.5,
                travel_minutes=40,
                co2e_kg=0.1,
                baseline_co2e_kg=2.0,
                legs=[],
            )
            session.add(tour)
            made.tours.append(tour)
            session.flush()
            for slot in range(per_day):
                household = households[(offset * per_day + slot) % len(households)]
                visit = self.visit(week, household, 60)
                begin = local(day, time(9, 0)) + timedelta(minutes=75 * slot)
                appointment = Appointment(
                    plan_id=plan.id,
                    visit_request_id=visit.id,
                    caseworker_id=worker.id,
                    tour_key=tour.key,
                    start=begin,
                    end=begin + timedelta(minutes=60),
                    uid=f"{uuid.uuid4()}@fieldwork",
                    sequence=0,
                    status="confirmed",
                    updated_at=now,
                )
                session.add(appointment)
                made.appointments.append(appointment)
            if car is not None:
                booking = VehicleBooking(
                    vehicle_id=car.id,
                    start=tour.depart,
                    end=tour.return_,
                    source="plan",
                    plan_id=plan.id,
                    tour_key=tour.key,
                    km_planned=tour.distance_km,
                )
                session.add(booking)
                made.bookings.append(booking)
        session.flush()
        return made


def site_id(session: Session, key: str) -> int:
    site = by_key(session, Site, key)
    assert isinstance(site, Site)
    return site.id


def caseworker_id(session: Session, key: str) -> int:
    worker = by_key(session, Caseworker, key)
    assert isinstance(worker, Caseworker)
    return worker.id


class NoQueue:
    """A run queue that runs nothing: the test runs the queued plan itself
    (``scheduler.runs.execute_run``), in its own session."""

    def submit(self, plan_id: int) -> None:
        pass

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass
