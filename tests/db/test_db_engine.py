"""core.db and core.settings: engines, pragmas, UTC instants, constraints, transactions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from core.db import create_engine_for, database_url, transaction
from core.settings import DEFAULT_DATABASE_URL, Settings, get_settings
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import (
    Absence,
    Appointment,
    Caseworker,
    Household,
    Plan,
    PlanningWeek,
    Site,
    Tour,
    VisitRequest,
    WorkingHours,
)


def add_site(session: Session, key: str = "enn") -> Site:
    site = Site(key=key, lat=51.8367, lon=8.0311, timezone="Europe/Berlin", region="DE-NW")
    session.add(site)
    session.flush()
    return site


def add_caseworker(session: Session, site: Site, key: str = "cw01") -> Caseworker:
    caseworker = Caseworker(key=key, site=site)
    session.add(caseworker)
    session.flush()
    return caseworker


# ----------------------------------------------------------------------------- settings


def test_settings_read_the_environment_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIELDWORK_DATABASE_URL", raising=False)
    assert Settings().database_url == DEFAULT_DATABASE_URL == "sqlite:///var/fieldwork.db"
    monkeypatch.setenv("FIELDWORK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    get_settings.cache_clear()
    try:
        assert get_settings().database_url == "postgresql+psycopg://u@h/db"
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


def test_database_urls() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///var/x.db").drivername == "sqlite"
    with pytest.raises(ValueError, match="psycopg 3"):
        database_url("postgresql+psycopg2://u@h/db")
    with pytest.raises(ValueError, match="unsupported"):
        database_url("mysql://u@h/db")


# ------------------------------------------------------------------------------ SQLite


def test_sqlite_file_has_foreign_keys_on_and_wal(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'sub' / 'fieldwork.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert (tmp_path / "sub" / "fieldwork.db").exists()
    finally:
        engine.dispose()


def test_sqlite_savepoints_roll_back_alone(tmp_path: Path) -> None:
    """The sqlite3 module's own transaction handling would break SAVEPOINTs."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'fieldwork.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            savepoint = connection.begin_nested()
            connection.execute(text("INSERT INTO t VALUES (2)"))
            savepoint.rollback()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT x FROM t")).scalars().all() == [1]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- both databases


def test_engine_is_the_backend_asked_for(engine: Engine, backend_name: str) -> None:
    assert engine.dialect.name == backend_name


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Caseworker(key="cw01", site_id=999))
    with pytest.raises(IntegrityError):
        session.flush()


def test_check_constraints_are_enforced(session: Session) -> None:
    site = add_site(session)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Vehicle(key="v1", site_id=site.id, kind="bus", range_km=100))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Household(pseudonym="H1", lat=None, lon=None))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Site(key="x", lat=91, lon=0, timezone="UTC"))


def test_instants_come_back_as_utc(session: Session) -> None:
    caseworker = add_caseworker(session, add_site(session))
    local = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    session.add(Absence(caseworker_id=caseworker.id, start=local, end=local + timedelta(hours=2)))
    session.flush()
    session.expire_all()
    absence = session.scalars(select(Absence)).one()
    assert absence.start == local
    assert absence.start.tzinfo == UTC and absence.start.hour == 8
    earlier = session.scalars(
        select(Absence).where(Absence.start < datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    ).all()
    assert earlier == [absence]


def test_naive_datetimes_are_refused(session: Session) -> None:
    caseworker = add_caseworker(session, add_site(session))
    naive = datetime(2026, 12, 1, 9, 30)
    session.add(Absence(caseworker_id=caseworker.id, start=naive, end=naive))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def _plan_with_tour_and_booking(session: Session) -> tuple[Plan, Vehicle]:
    site = add_site(session)
    caseworker = add_caseworker(session, site)
    household = Household(pseudonym="H0001", lat=51.9, lon=7.9, site_id=site.id)
    week = PlanningWeek(start=date(2026, 11, 30), end=date(2026, 12, 4), name="week 49")
    visit = VisitRequest(key="H0001/1", week=week, household=household, duration_minutes=60)
    vehicle = Vehicle(key="ecar-1", site_id=site.id, kind="e_car", range_km=180)
    session.add_all([household, week, visit, vehicle])
    session.flush()
    depart = datetime(2026, 12, 1, 8, tzinfo=UTC)
    plan = Plan(week_id=week.id, time_limit_s=10, scenario={"format": "fieldwork-scenario/1"})
    session.add(plan)
    session.flush()
    session.add(
        Tour(
            plan_id=plan.id,
            key="cw01/2026-12-01/1",
            caseworker_id=caseworker.id,
            date=date(2026, 12, 1),
            mode="e_car",
            vehicle_id=vehicle.id,
            depart=depart,
            return_=depart + timedelta(hours=2),
            distance_km=12.5,
            travel_minutes=30,
            co2e_kg=0.7,
            baseline_co2e_kg=2.8,
            legs=[],
        )
    )
    session.flush()
    session.add_all(
        [
            Appointment(
                plan_id=plan.id,
                visit_request_id=visit.id,
                caseworker_id=caseworker.id,
                tour_key="cw01/2026-12-01/1",
                start=depart + timedelta(minutes=15),
                end=depart + timedelta(minutes=75),
                uid="H0001/1@2026-11-30",
            ),
            VehicleBooking(
                vehicle_id=vehicle.id,
                start=depart,
                end=depart + timedelta(hours=2),
                source="plan",
                plan_id=plan.id,
                tour_key="cw01/2026-12-01/1",
                km_planned=12.5,
            ),
            VehicleBooking(
                vehicle_id=vehicle.id,
                start=depart + timedelta(hours=3),
                end=depart + timedelta(hours=4),
                source="adhoc",
            ),
        ]
    )
    session.flush()
    return plan, vehicle


def test_deleting_a_plan_deletes_its_tours_appointments_and_bookings(session: Session) -> None:
    plan, vehicle = _plan_with_tour_and_booking(session)
    assert plan.status == "queued" and plan.created_at.tzinfo == UTC
    session.execute(delete(Plan).where(Plan.id == plan.id))
    session.expire_all()
    assert session.scalars(select(Tour)).all() == []
    assert session.scalars(select(Appointment)).all() == []
    bookings = session.scalars(select(VehicleBooking)).all()
    assert [(b.source, b.vehicle_id) for b in bookings] == [("adhoc", vehicle.id)]


def test_a_booking_must_name_an_existing_tour(session: Session) -> None:
    plan, vehicle = _plan_with_tour_and_booking(session)
    start = datetime(2026, 12, 2, 8, tzinfo=UTC)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            VehicleBooking(
                vehicle_id=vehicle.id,
                start=start,
                end=start + timedelta(hours=1),
                source="plan",
                plan_id=plan.id,
                tour_key="no such tour",
            )
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            VehicleBooking(
                vehicle_id=vehicle.id,
                start=start,
                end=start + timedelta(hours=1),
                source="adhoc",
                plan_id=plan.id,
                tour_key="cw01/2026-12-01/1",
            )
        )


def test_restrict_keeps_referenced_records(session: Session) -> None:
    site = add_site(session)
    add_caseworker(session, site)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(delete(Site).where(Site.id == site.id))


def test_working_hours_one_interval_per_weekday(session: Session) -> None:
    caseworker = add_caseworker(session, add_site(session))
    monday = {"caseworker_id": caseworker.id, "weekday": 0, "start": time(8), "end": time(16)}
    session.execute(insert(WorkingHours), [monday])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(WorkingHours), [{**monday, "start": time(12), "end": time(18)}])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(WorkingHours), [{**monday, "weekday": 7}])


# ------------------------------------------------------------------------ transactions


def test_transaction_is_all_or_nothing_and_nests_as_savepoints(session: Session) -> None:
    with transaction(session):
        add_site(session, "a")
        with pytest.raises(RuntimeError), transaction(session):
            add_site(session, "b")
            raise RuntimeError("undo b only")
        add_site(session, "c")
    assert sorted(session.scalars(select(Site.key))) == ["a", "c"]

    with pytest.raises(RuntimeError), transaction(session):
        add_site(session, "d")
        raise RuntimeError("undo d")
    assert sorted(session.scalars(select(Site.key))) == ["a", "c"]


def test_transaction_commits_after_reads(engine: Engine) -> None:
    """A session that read first (and so began a transaction implicitly) still commits."""
    key = f"read-first-{engine.dialect.name}"
    with Session(engine) as session:
        try:
            assert session.scalars(select(Site).where(Site.key == key)).all() == []
            with transaction(session):
                add_site(session, key)
            assert not session.in_transaction()
            with Session(engine) as other:
                assert other.scalars(select(Site.key).where(Site.key == key)).all() == [key]
        finally:
            with transaction(session):
                session.execute(delete(Site).where(Site.key == key))
