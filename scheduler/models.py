"""Tables of the planner's world: sites, caseworkers, households, visits, plans, users.

One database serves one organisation (a programme's team, e.g. ANNA in Kreis
Warendorf). The planning format's ids are the records' ``key`` (a household's is its
``pseudonym``) and are unique in the database; visit ids are unique per planning week,
because ``H0017/1`` comes back every week. Every table also has an integer ``id`` that
foreign keys use, so a key can be corrected without rewriting references.

Time: instants (absences, pins, tours, appointments) are timezone-aware UTC
(``core.db.UTCDateTime``); weekly patterns (working hours, availability) are local
wall-clock times in the site's ``timezone``, as in the planning format. Intervals are
half-open, ``start`` <= t < ``end``.

Deleting: a record others depend on cannot be deleted while they do (``RESTRICT``: a
site with caseworkers, a caseworker who is a household's primary caseworker or has
appointments); parts of a record go with it (``CASCADE``: a caseworker's working hours,
a plan's tours and appointments). Households are erased (personal data and location
removed, ``erased_at`` set) rather than deleted, so plans keep their anonymised km and
CO2e.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal, get_args

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JsonDocument, utc_now
from fleet.modes import MODES, Mode

#: A run is queued, running, then done (or failed); publishing a done plan makes it the
#: week's current one and supersedes the plan published before it for the same sites.
#: A coordinator may cancel a run that is queued or running, or a done plan they
#: discard. Only ``published`` plans are current: calendars and reports read their
#: appointments.
PlanStatus = Literal["queued", "running", "done", "failed", "published", "superseded", "cancelled"]
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
#: As iCalendar's STATUS: a draft plan's appointment is tentative, a published one
#: confirmed; a published appointment a re-plan drops is cancelled (sequence + 1).
AppointmentStatus = Literal["tentative", "confirmed", "cancelled"]
APPOINTMENT_STATUSES: tuple[AppointmentStatus, ...] = get_args(AppointmentStatus)
Role = Literal["admin", "coordinator", "caseworker", "fleet_manager"]
ROLES: tuple[Role, ...] = get_args(Role)

#: Keys are the planning format's ids (``Id``: 1 to 200 characters).
KEY_LENGTH = 200
# Free text of the format (names, reasons, skills) has no length limit there, so the
# columns have none either: PostgreSQL would refuse what SQLite silently keeps.


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _weekday_checks() -> tuple[CheckConstraint, CheckConstraint]:
    return (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint('"end" > start', name="ends_after_start"),
    )


def _coordinate_checks() -> tuple[CheckConstraint, CheckConstraint]:
    return (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )


# ------------------------------------------------------------------------------ sites


class Site(Base):
    """An office: caseworkers start and end their tours there, vehicles are stationed
    there. Its ``timezone`` is the one of its caseworkers' hours and its households'
    availability; its ``region`` (ISO 3166-2) names the public holidays."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float]
    lon: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = _coordinate_checks()


# ------------------------------------------------------------------------ caseworkers


class Caseworker(Base):
    __tablename__ = "caseworker"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    #: A caseworker's own name (staff, not a family); optional.
    name: Mapped[str | None] = mapped_column(Text)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    max_visits_per_day: Mapped[int | None]

    site: Mapped[Site] = relationship()
    working_hours: Mapped[list[WorkingHours]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="WorkingHours.weekday"
    )
    skills: Mapped[list[CaseworkerSkill]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseworkerSkill.skill"
    )
    modes: Mapped[list[CaseworkerMode]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseworkerMode.mode"
    )
    absences: Mapped[list[Absence]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Absence.start"
    )

    __table_args__ = (
        CheckConstraint(
            "max_visits_per_day IS NULL OR max_visits_per_day >= 1", name="max_visits_positive"
        ),
    )


class WorkingHours(Base):
    """One local interval per weekday, a row each (0 = Monday .. 6 = Sunday).

    A child table rather than a JSON document: the primary key (caseworker, weekday) is
    the format's "one interval per weekday" and the CHECKs keep the interval sound in the
    database itself; "who works on Friday afternoons" is a query on both databases (JSON
    operators differ between SQLite and PostgreSQL); and the API can change one day
    without rewriting a document. A weekday without a row is a day off.
    """

    __tablename__ = "working_hours"

    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)

    __table_args__ = _weekday_checks()


class CaseworkerSkill(Base):
    """A skill (a language such as ``tr``, a qualification) households may require."""

    __tablename__ = "caseworker_skill"

    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(Text, primary_key=True)


class CaseworkerMode(Base):
    """A way this caseworker may travel; vehicle modes need a vehicle of their site."""

    __tablename__ = "caseworker_mode"

    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[Mode] = mapped_column(String(16), primary_key=True)

    __table_args__ = (CheckConstraint(_one_of("mode", MODES), name="mode"),)


class Absence(Base):
    """A time the caseworker does not work: leave, illness, training, supervision.

    ``start``/``end`` are the instants the planner uses. The planning format gives each
    end as a whole local date or a local date-time; ``start_is_date``/``end_is_date``
    keep which, so an exported scenario says what was imported. A date start is local
    00:00 of that date, a date end local 00:00 of the date after it.
    """

    __tablename__ = "absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworker.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    start_is_date: Mapped[bool] = mapped_column(default=False, server_default=false())
    end_is_date: Mapped[bool] = mapped_column(default=False, server_default=false())
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint('"end" > start', name="ends_after_start"),
        Index("ix_absence_caseworker_start", "caseworker_id", "start"),
    )


# ------------------------------------------------------------------------- households

household_allowed_caseworker = Table(
    "household_allowed_caseworker",
    Base.metadata,
    Column("household_id", ForeignKey("household.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "caseworker_id",
        ForeignKey("caseworker.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Household(Base):
    """A family, known by its pseudonym (``H0017``): never a real name.

    ``lat``/``lon`` are nullable because erasure removes them; a household that is not
    erased has both. ``address`` is optional free text (personal data: erased with the
    location, part of the Art. 15 export); it is kept where coordinators enter one, so
    the location can be geocoded from it (``scheduler.geocoding``). ``site_id`` is the
    office responsible for it (the primary caseworker's, as an import sets it); it
    selects the households of a site's export.
    Who may visit: the primary caseworker or an allowed one if either is set, else
    anyone; the caseworker must hold every required skill.
    """

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    primary_caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="RESTRICT"), index=True
    )
    #: True: any time within the caseworker's hours; False: only the ``availability``
    #: rows (none at all means never, which the planner reports as no_time_window).
    available_any_time: Mapped[bool] = mapped_column(default=True, server_default=true())
    address: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None]

    site: Mapped[Site | None] = relationship()
    primary_caseworker: Mapped[Caseworker | None] = relationship()
    allowed_caseworkers: Mapped[list[Caseworker]] = relationship(
        secondary=household_allowed_caseworker, order_by="Caseworker.key"
    )
    availability: Mapped[list[HouseholdAvailability]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(HouseholdAvailability.weekday, HouseholdAvailability.start)",
    )
    required_skills: Mapped[list[HouseholdSkill]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="HouseholdSkill.skill"
    )

    __table_args__ = (
        *_coordinate_checks(),
        CheckConstraint(
            "(lat IS NULL AND lon IS NULL) OR (lat IS NOT NULL AND lon IS NOT NULL)",
            name="location_whole",
        ),
        CheckConstraint("erased_at IS NOT NULL OR lat IS NOT NULL", name="location_unless_erased"),
    )


class HouseholdAvailability(Base):
    """A local interval on a weekday when the household can be visited (several a day)."""

    __tablename__ = "household_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)

    __table_args__ = _weekday_checks()


class HouseholdSkill(Base):
    """A skill every caseworker visiting this household must hold (e.g. a language)."""

    __tablename__ = "household_required_skill"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(Text, primary_key=True)


class GeocodeCache(Base):
    """An address geocoded once, so the geocoder is never asked for it again.

    ``key`` is the SHA-256 of the normalised address (``scheduler.geocoding``), not the
    address itself: the cache must not become a second list of families' addresses.
    ``lat``/``lon`` are None when the geocoder found nothing (asking again would find
    nothing again; a corrected address is a new key).
    """

    __tablename__ = "geocode_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Which geocoder answered (``nominatim``).
    provider: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        *_coordinate_checks(),
        CheckConstraint(
            "(lat IS NULL AND lon IS NULL) OR (lat IS NOT NULL AND lon IS NOT NULL)",
            name="location_whole",
        ),
    )


# ----------------------------------------------------------------------------- weeks


class PlanningWeek(Base):
    """A planning horizon (local dates ``start``..``end``, inclusive; usually a week).

    It holds what a scenario says about the whole horizon: its name and the optional
    travel model, emission factors, baseline mode and objective weights, stored as the
    planning format writes them, so an exported scenario is the imported one.
    """

    __tablename__ = "planning_week"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(Date, unique=True)
    end: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(Text)
    travel: Mapped[dict[str, Any] | None]
    emission_factors_g_per_km: Mapped[dict[str, Any] | None]
    baseline_mode: Mapped[Mode] = mapped_column(String(16), default="private_car")
    objective: Mapped[dict[str, Any] | None]

    __table_args__ = (
        CheckConstraint('"end" >= start', name="ends_after_start"),
        CheckConstraint(_one_of("baseline_mode", MODES), name="baseline_mode"),
    )


class VisitRequest(Base):
    """One visit to make in a planning week (the planning format's ``visits[]``).

    ``earliest``/``latest`` narrow the week's dates; ``pinned_caseworker_id`` and
    ``pinned_start`` fix who and when (both or neither).
    """

    __tablename__ = "visit_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("planning_week.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    duration_minutes: Mapped[int]
    priority: Mapped[int] = mapped_column(default=1, server_default="1")
    earliest: Mapped[date | None] = mapped_column(Date)
    latest: Mapped[date | None] = mapped_column(Date)
    pinned_caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="RESTRICT"), index=True
    )
    pinned_start: Mapped[datetime | None]

    week: Mapped[PlanningWeek] = relationship()
    household: Mapped[Household] = relationship()
    pinned_caseworker: Mapped[Caseworker | None] = relationship()

    __table_args__ = (
        UniqueConstraint("week_id", "key"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        CheckConstraint(
            "earliest IS NULL OR latest IS NULL OR latest >= earliest", name="window_order"
        ),
        CheckConstraint(
            "(pinned_caseworker_id IS NULL) = (pinned_start IS NULL)", name="pin_whole"
        ),
    )


# ------------------------------------------------------------------------------ plans


class Plan(Base):
    """A planning run and its outcome: queued, running, done (or failed), published,
    superseded (by a later published plan of the same week and sites).

    ``scenario`` is the planning-format scenario the run plans (exported when it was
    queued, so the run is repeatable); ``result`` is the plan document it produced;
    ``progress`` the latest progress report (seconds used, visits placed, best cost).
    ``previous_plan_id`` is the published plan a re-plan starts from (its tours are kept
    where they still fit). ``attempts`` counts the times a worker took the run and
    ``heartbeat_at`` is the worker's latest sign of life, so a run whose worker died
    can be told from a slow one.
    """

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    week_id: Mapped[int] = mapped_column(
        ForeignKey("planning_week.id", ondelete="RESTRICT"), index=True
    )
    #: The site keys planned, or None for every site.
    sites: Mapped[list[str] | None] = mapped_column(JsonDocument)
    status: Mapped[PlanStatus] = mapped_column(String(16), default="queued")
    time_limit_s: Mapped[float]
    seed: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    progress: Mapped[dict[str, Any] | None]
    scenario: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    #: Why a failed run failed, for the coordinator.
    error: Mapped[str | None] = mapped_column(Text)
    previous_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None]

    tours: Mapped[list[Tour]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Tour.key"
    )
    appointments: Mapped[list[Appointment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Appointment.start"
    )

    __table_args__ = (
        CheckConstraint(_one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint("time_limit_s > 0", name="time_limit_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_plan_status", "status"),
    )


class Tour(Base):
    """One trip of a plan: a caseworker leaves the site, visits, and returns.

    It keeps its km and CO2e without naming a household (its ``legs`` name visit keys
    only), so reports survive a household's erasure.
    """

    __tablename__ = "tour"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    #: The plan's tour id (``cw01/2026-11-30/1``).
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworker.id", ondelete="RESTRICT"))
    date: Mapped[date] = mapped_column(Date)
    mode: Mapped[Mode] = mapped_column(String(16))
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="RESTRICT"), index=True
    )
    depart: Mapped[datetime]
    return_: Mapped[datetime] = mapped_column("return")
    distance_km: Mapped[float]
    travel_minutes: Mapped[int]
    co2e_kg: Mapped[float]
    baseline_co2e_kg: Mapped[float]
    #: The plan's legs, ``[{"from", "to", "km", "minutes"}]``.
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)

    __table_args__ = (
        UniqueConstraint("plan_id", "key"),
        CheckConstraint(_one_of("mode", MODES), name="mode"),
        CheckConstraint('"return" >= depart', name="returns_after_departure"),
        CheckConstraint("distance_km >= 0", name="distance_not_negative"),
        Index("ix_tour_caseworker_date", "caseworker_id", "date"),
    )


class Appointment(Base):
    """A visit placed in a plan: who, when, in which tour.

    ``uid`` names the visit in calendars and stays the same across re-plans of the
    week (iCalendar UID); ``sequence`` counts the published changes (iCalendar
    SEQUENCE), so a calendar updates the event instead of adding a second one;
    ``updated_at`` is when its published content (time, caseworker, status) last
    changed (iCalendar LAST-MODIFIED). A visit a re-plan no longer places stays in the
    new plan as a ``cancelled`` appointment with its old time and caseworker and no tour,
    so calendars remove the event instead of forgetting it.
    """

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    visit_request_id: Mapped[int] = mapped_column(
        ForeignKey("visit_request.id", ondelete="RESTRICT"), index=True
    )
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworker.id", ondelete="RESTRICT"))
    #: None only for a cancelled appointment (the visit is in none of the plan's tours).
    tour_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    start: Mapped[datetime]
    end: Mapped[datetime]
    uid: Mapped[str] = mapped_column(String(255), index=True)
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[AppointmentStatus] = mapped_column(String(16), default="tentative")
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_id", "tour_key"], ["tour.plan_id", "tour.key"], ondelete="CASCADE"
        ),
        UniqueConstraint("plan_id", "visit_request_id"),
        UniqueConstraint("plan_id", "uid"),
        CheckConstraint('"end" > start', name="ends_after_start"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint(_one_of("status", APPOINTMENT_STATUSES), name="status"),
        CheckConstraint("status = 'cancelled' OR tour_key IS NOT NULL", name="planned_in_a_tour"),
        Index("ix_appointment_caseworker_start", "caseworker_id", "start"),
    )


# ------------------------------------------------------------------------------ users


class User(Base):
    """Someone who uses the service, with one role.

    A ``caseworker`` user is a caseworker (``caseworker_id``) and sees only their own
    appointments and households; a ``fleet_manager`` sees vehicles and bookings but no
    household data; coordinators plan; admins manage users.
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[Role] = mapped_column(String(16))
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="RESTRICT"), unique=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: For signing in to the web pages without a token: ``scrypt$N$r$p$salt$hash``
    #: (``api.auth.hash_password``); None means sign-in by token only.
    password_hash: Mapped[str | None] = mapped_column(String(255))

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint(
            "role <> 'caseworker' OR caseworker_id IS NOT NULL",
            name="caseworker_user_is_a_caseworker",
        ),
    )


class ApiToken(Base):
    """A bearer token: only its SHA-256 (hex) is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    __table_args__ = (
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after"),
    )


# ---------------------------------------------------------------------- documentation

#: What a caseworker notes as kept digitally after a visit: its record
#: (Besuchsdokumentation) or a family's consent (Einwilligung). The same names as the
#: paperless steps they count as (``core.paperless``).
DocumentationKind = Literal["visit_record", "consent"]
DOCUMENTATION_KINDS: tuple[DocumentationKind, ...] = get_args(DocumentationKind)


class VisitDocumentation(Base):
    """That a visit's record or a family's consent was kept digitally, and nothing more.

    No content and no family data: only the kind, when it was noted and by whom. It
    names the appointment by its ``uid``, which a re-plan keeps (the appointment rows
    are the plan's and change with it), so a visit is documented once whatever plan
    shows it; the unique key makes a second note of the same kind fail even when two
    arrive at once.
    """

    __tablename__ = "visit_documentation"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_uid: Mapped[str] = mapped_column(String(255))
    kind: Mapped[DocumentationKind] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("appointment_uid", "kind"),
        CheckConstraint(_one_of("kind", DOCUMENTATION_KINDS), name="kind"),
    )
