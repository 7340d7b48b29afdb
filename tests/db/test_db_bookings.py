"""fleet.bookings on SQLite and PostgreSQL: the booking rules, the exclusion constraint
and the SQLite write lock (``core.db.write_transaction``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import fleet.bookings
import migrations
from core.audit import AuditEvent
from core.db import create_session_factory, transaction, write_transaction
from core.errors import Infeasible
from fleet.bookings import (
    BookingConflict,
    add_block,
    book,
    cancel,
    cancel_tour_bookings,
    change,
    retire,
)
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import Caseworker, Plan, PlanningWeek, Site, Tour

MONDAY = datetime(2026, 11, 30, 8, tzinfo=UTC)  # 09:00 in Ennigerloh


def add_vehicle(session: Session, *, buffer: int = 15, range_km: float = 100.0) -> Vehicle:
    site = Site(key="enn", lat=51.8367, lon=8.0311, timezone="Europe/Berlin", region="DE-NW")
    session.add(site)
    session.flush()
    vehicle = Vehicle(
        key="ecar-enn-1",
        site_id=site.id,
        kind="e_car",
        range_km=range_km,
        handover_buffer_minutes=buffer,
    )
    session.add(vehicle)
    session.flush()
    return vehicle


def hours(start: float, end: float) -> tuple[datetime, datetime]:
    return MONDAY + timedelta(hours=start), MONDAY + timedelta(hours=end)


def adhoc(
    session: Session, vehicle: Vehicle, span: tuple[datetime, datetime], km: float = 0
) -> VehicleBooking:
    return book(
        session,
        vehicle_id=vehicle.id,
        start=span[0],
        end=span[1],
        source="adhoc",
        km_planned=km,
    )


def test_overlap_and_buffer(session: Session) -> None:
    vehicle = add_vehicle(session, buffer=15)
    first = adhoc(session, vehicle, hours(0, 2))
    assert first.blocked_until == MONDAY + timedelta(hours=2, minutes=15)
    with pytest.raises(BookingConflict) as refused:
        adhoc(session, vehicle, hours(1, 3))
    (conflict,) = refused.value.conflicts
    assert (conflict.kind, conflict.booking_id, conflict.vehicle) == (
        "booking",
        first.id,
        "ecar-enn-1",
    )
    assert "belegt" in conflict.reason_de and "taken" in conflict.reason_en
    # Inside the handover buffer: refused; right after it: fine.
    with pytest.raises(BookingConflict):
        adhoc(
            session, vehicle, (MONDAY + timedelta(hours=2, minutes=10), MONDAY + timedelta(hours=3))
        )
    adhoc(session, vehicle, (MONDAY + timedelta(hours=2, minutes=15), MONDAY + timedelta(hours=3)))
    # A booking before the first must leave the buffer before the first's start.
    with pytest.raises(BookingConflict):
        adhoc(session, vehicle, (MONDAY - timedelta(hours=1), MONDAY - timedelta(minutes=5)))
    adhoc(session, vehicle, (MONDAY - timedelta(hours=1), MONDAY - timedelta(minutes=15)))


def test_maintenance_range_retired_and_cancel(session: Session) -> None:
    vehicle = add_vehicle(session, buffer=0, range_km=100)
    add_block(
        session, vehicle_id=vehicle.id, start=hours(4, 6)[0], end=hours(4, 6)[1], reason="TÜV"
    )
    with pytest.raises(BookingConflict) as refused:
        adhoc(session, vehicle, hours(5, 7))
    assert [c.kind for c in refused.value.conflicts] == ["block"]
    assert "TÜV" in refused.value.conflicts[0].reason_de
    first = adhoc(session, vehicle, hours(0, 1), km=70)
    with pytest.raises(BookingConflict) as refused:
        adhoc(session, vehicle, hours(1, 2), km=31)
    assert [c.kind for c in refused.value.conflicts] == ["range"]
    adhoc(session, vehicle, hours(1, 2), km=30)
    # Cancelling frees the slot and the km.
    cancel(session, booking_id=first.id)
    adhoc(session, vehicle, hours(0, 1), km=70)
    # Next day the range is whole again.
    adhoc(session, vehicle, hours(24, 25), km=100)
    retire(session, vehicle_id=vehicle.id)
    with pytest.raises(BookingConflict) as refused:
        adhoc(session, vehicle, hours(10, 11))
    assert [c.kind for c in refused.value.conflicts] == ["retired"]


def test_change_moves_under_the_same_rules(session: Session) -> None:
    vehicle = add_vehicle(session, buffer=15)
    first = adhoc(session, vehicle, hours(0, 1))
    second = adhoc(session, vehicle, hours(3, 4))
    # Moving onto itself (a longer booking) is fine; onto the other is not.
    change(session, booking_id=first.id, end=hours(0, 2)[1])
    with pytest.raises(BookingConflict):
        change(session, booking_id=first.id, end=hours(0, 3)[1])
    assert first.end == hours(0, 2)[1]
    change(session, booking_id=second.id, start=hours(2.25, 3)[0])
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "vehicle_booking")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "create", "update", "update"]


def test_the_database_refuses_overlaps_itself(session: Session, backend_name: str) -> None:
    """PostgreSQL: the exclusion constraint refuses an overlap that no check saw."""
    if backend_name != "postgresql":
        pytest.skip("SQLite has no exclusion constraints; its write lock is tested below")
    vehicle = add_vehicle(session, buffer=15)
    first = adhoc(session, vehicle, hours(0, 2))
    start, end = hours(2, 3)  # inside the first's buffer
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            insert(VehicleBooking).values(
                vehicle_id=vehicle.id,
                start=start,
                end=end,
                blocked_until=end,
                source="adhoc",
                status="active",
                created_at=start,
            )
        )
    # A cancelled booking takes nothing.
    session.execute(
        insert(VehicleBooking).values(
            vehicle_id=vehicle.id,
            start=start,
            end=end,
            blocked_until=end,
            source="adhoc",
            status="cancelled",
            cancelled_at=start,
            created_at=start,
        )
    )
    assert first.status == "active"


def test_a_refusal_by_the_constraint_is_a_booking_conflict(
    session: Session, backend_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend_name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    vehicle = add_vehicle(session, buffer=0)
    first = adhoc(session, vehicle, hours(0, 2))
    # As if a concurrent writer had slipped past the check: the database still says no,
    # and the caller's transaction stays usable.
    monkeypatch.setattr(fleet.bookings, "conflicts_for", lambda *_a, **_k: [])
    with pytest.raises(BookingConflict) as refused:
        adhoc(session, vehicle, hours(1, 3))
    assert refused.value.conflicts[0].kind == "booking"
    assert session.scalar(select(VehicleBooking.id).where(VehicleBooking.id == first.id))


def test_sqlite_write_transaction_begins_immediate(
    new_database: Callable[[str], Engine], backend_name: str
) -> None:
    """BEGIN IMMEDIATE takes the write lock before the first read: a second writer
    waits (here: times out) instead of reading a snapshot that goes stale. Other
    transactions still begin DEFERRED: readers never wait for the writer."""
    if backend_name != "sqlite":
        pytest.skip("PostgreSQL locks rows instead")
    engine = new_database("locks")
    migrations.upgrade(engine)
    factory = create_session_factory(engine)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with factory() as session:
            session.execute(text("SELECT 1"))  # an autobegun read, as a request's token
            with write_transaction(session):
                session.execute(text("SELECT count(*) FROM vehicle"))
                holding.set()
                release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        with factory() as reader:  # DEFERRED: reads while the writer holds its lock
            assert reader.execute(text("SELECT count(*) FROM site")).scalar_one() == 0
        other = engine.raw_connection()
        try:
            other.driver_connection.execute("PRAGMA busy_timeout = 100")  # type: ignore[union-attr]
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        finally:
            other.close()
    finally:
        release.set()
        thread.join()
    # Inside a unit of work that is already running it joins it (a SAVEPOINT).
    with factory() as session, transaction(session):
        with write_transaction(session):
            session.execute(text("SELECT 1"))
        assert session.in_transaction()


def test_plan_bookings_and_freeing_a_tour(session: Session) -> None:
    """A published plan books its tours through ``book``; cancelling a tour's (or the
    whole plan's) bookings frees the vehicle."""
    vehicle = add_vehicle(session, buffer=15)
    caseworker = Caseworker(key="cw01", site_id=vehicle.site_id)
    week = PlanningWeek(start=MONDAY.date(), end=MONDAY.date(), name="week")
    session.add_all([caseworker, week])
    session.flush()
    plan = Plan(week_id=week.id, time_limit_s=10, scenario={"format": "x"}, status="published")
    session.add(plan)
    session.flush()
    for number, (start, end) in enumerate((hours(0, 2), hours(3, 5)), start=1):
        session.add(
            Tour(
                plan_id=plan.id,
                key=f"cw01/{number}",
                caseworker_id=caseworker.id,
                date=MONDAY.date(),
                mode="e_car",
                vehicle_id=vehicle.id,
                depart=start,
                return_=end,
                distance_km=20,
                travel_minutes=40,
                co2e_kg=1.0,
                baseline_co2e_kg=4.0,
                legs=[],
            )
        )
    session.flush()
    with pytest.raises(Infeasible):  # a plan booking names its tour
        book(
            session, vehicle_id=vehicle.id, start=hours(0, 2)[0], end=hours(0, 2)[1], source="plan"
        )
    for number, span in enumerate((hours(0, 2), hours(3, 5)), start=1):
        book(
            session,
            vehicle_id=vehicle.id,
            start=span[0],
            end=span[1],
            source="plan",
            plan_id=plan.id,
            tour_key=f"cw01/{number}",
            km_planned=20,
        )
    with pytest.raises(BookingConflict):
        adhoc(session, vehicle, hours(1, 2))
    freed = cancel_tour_bookings(session, plan_id=plan.id, tour_key="cw01/1")
    assert [b.tour_key for b in freed] == ["cw01/1"]
    adhoc(session, vehicle, hours(1, 2))
    assert [b.tour_key for b in cancel_tour_bookings(session, plan_id=plan.id)] == ["cw01/2"]
    assert cancel_tour_bookings(session, plan_id=plan.id) == []
