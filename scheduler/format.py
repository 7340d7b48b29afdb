"""Pydantic models of the planning file format v1 (shared/spec/planning-format-v1.md).

A scenario goes in, a plan comes out. Every model forbids unknown fields, so a typo
in a hand-written file is an error instead of a silently different plan. Local times
stay the wall-clock strings of the format ("08:00", "2026-12-01T10:00") on the way out,
so a scenario read and written again is unchanged.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from fleet.modes import Mode, VehicleKind

SCENARIO_FORMAT = "fieldwork-scenario/1"
PLAN_FORMAT = "fieldwork-plan/1"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_LOCAL_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_hhmm(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError(f"expected a local time HH:MM, got {value!r}")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _parse_local_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _LOCAL_DATETIME.match(value):
        raise ValueError(f"expected a local date and time YYYY-MM-DDTHH:MM, got {value!r}")
    return datetime.fromisoformat(value)


def _parse_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
    return date.fromisoformat(value)


def _parse_date_or_local_datetime(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        return date.fromisoformat(value)
    if isinstance(value, str) and _LOCAL_DATETIME.match(value):
        return datetime.fromisoformat(value)
    raise ValueError(f"expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got {value!r}")


def _format_date_or_datetime(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


LocalTime = Annotated[
    time,
    BeforeValidator(_parse_hhmm),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": _HHMM.pattern, "examples": ["08:30"]}),
]
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_parse_local_datetime),
    PlainSerializer(lambda d: d.strftime("%Y-%m-%dT%H:%M"), return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": _LOCAL_DATETIME.pattern, "examples": ["2026-12-01T10:00"]}
    ),
]
LocalDate = Annotated[
    date,
    BeforeValidator(_parse_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]
DateOrLocalDateTime = Annotated[
    datetime | date,
    BeforeValidator(_parse_date_or_local_datetime),
    PlainSerializer(_format_date_or_datetime, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"{_DATE.pattern}|{_LOCAL_DATETIME.pattern}",
            "examples": ["2026-12-02", "2026-12-02T12:00"],
        }
    ),
]
Id = Annotated[str, Field(min_length=1, max_length=200)]
TimeRange = tuple[LocalTime, LocalTime]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- scenario


class Location(Strict):
    lat: float = Field(description="WGS-84 latitude in degrees, -90..90")
    lon: float = Field(description="WGS-84 longitude in degrees, -180..180")


class Horizon(Strict):
    start: LocalDate
    end: LocalDate = Field(description="inclusive")


class Site(Strict):
    id: Id
    name: str | None = None
    location: Location


class Absence(Strict):
    start: DateOrLocalDateTime
    end: DateOrLocalDateTime = Field(description="inclusive when a date")
    reason: str | None = Field(default=None, description="optional, for the coordinator")


class Caseworker(Strict):
    id: Id
    name: str | None = None
    site: Id
    working_hours: dict[Weekday, TimeRange] = Field(
        description="one local interval per weekday; a missing weekday is a day off"
    )
    absences: list[Absence] = Field(default_factory=list)
    modes: list[Mode] = Field(min_length=1)
    skills: list[str] = Field(default_factory=list)
    max_visits_per_day: int | None = None


class Blocked(Strict):
    start: LocalDateTime
    end: LocalDateTime
    reason: str | None = None


class Vehicle(Strict):
    id: Id
    name: str | None = None
    kind: VehicleKind
    site: Id
    range_km: float
    blocked: list[Blocked] = Field(default_factory=list)


class Household(Strict):
    id: Id
    location: Location
    availability: dict[Weekday, list[TimeRange]] | None = Field(
        default=None,
        description="local intervals per weekday; missing means any time within working hours",
    )
    primary_caseworker: Id | None = None
    allowed_caseworkers: list[Id] = Field(default_factory=list)
    required_skills: list[str] = Field(default_factory=list)


class DateWindow(Strict):
    earliest: LocalDate | None = None
    latest: LocalDate | None = None


class Pin(Strict):
    caseworker: Id
    start: LocalDateTime


class Visit(Strict):
    id: Id
    household: Id
    duration_minutes: int
    priority: int = Field(default=1, ge=1, le=3)
    window: DateWindow | None = None
    pinned: Pin | None = None


class TravelMode(Strict):
    speed_kmh: float | None = None
    detour_factor: float | None = None
    max_leg_km: float | None = None


class Objective(Strict):
    """Weights of the secondary objective (fieldwork's own optional field).

    The primary objective is always the priority-weighted number of planned visits.
    Among plans that plan the same visits, the planner minimises
    ``co2e_kg * kg + travel_minute * minutes + continuity_break * breaks
    + tour * tours + tour_minute * minutes from departure to return``.
    """

    co2e_kg: float = Field(default=30.0, ge=0, description="points per kg CO2e")
    travel_minute: float = Field(default=1.0, ge=0, description="points per minute travelling")
    continuity_break: float = Field(
        default=120.0, ge=0, description="points per visit not made by the primary caseworker"
    )
    tour: float = Field(default=10.0, ge=0, description="points per tour (one booking each)")
    tour_minute: float = Field(
        default=0.05, ge=0, description="points per minute a tour lasts (keeps bookings short)"
    )


class Scenario(Strict):
    format: Literal["fieldwork-scenario/1"]
    name: str
    timezone: str
    region: str | None = None
    horizon: Horizon
    sites: list[Site]
    caseworkers: list[Caseworker]
    vehicles: list[Vehicle] = Field(default_factory=list)
    households: list[Household]
    visits: list[Visit]
    travel: dict[Mode, TravelMode] | None = None
    emission_factors_g_per_km: dict[Mode, float] | None = None
    baseline_mode: Mode = "private_car"
    objective: Objective | None = None


# ------------------------------------------------------------------------------- plan

UnassignedReason = Literal[
    "no_caseworker",
    "caseworker_absent",
    "no_time_window",
    "out_of_reach",
    "no_vehicle",
    "pin_infeasible",
    "capacity",
]


class SolverInfo(Strict):
    engine: str
    time_limit_s: float
    wall_s: float
    seed: int | None = None


class Appointment(Strict):
    visit: Id
    household: Id
    caseworker: Id
    tour: Id
    start: AwareDatetime
    end: AwareDatetime


class Leg(Strict):
    from_: Id = Field(alias="from")
    to: Id
    km: float
    minutes: int


class Tour(Strict):
    id: Id
    caseworker: Id
    date: LocalDate
    mode: Mode
    vehicle: Id | None = None
    depart: AwareDatetime
    return_: AwareDatetime = Field(alias="return")
    stops: list[Id]
    legs: list[Leg]
    distance_km: float
    travel_minutes: int
    co2e_kg: float


class VehicleBooking(Strict):
    vehicle: Id
    tour: Id
    start: AwareDatetime
    end: AwareDatetime


class Unassigned(Strict):
    visit: Id
    reason: UnassignedReason
    detail: str


class Kpis(Strict):
    visits: int
    scheduled: int
    unassigned: int
    distance_km: dict[str, float]
    travel_minutes: int
    co2e_kg: float
    baseline_co2e_kg: float
    avoided_co2e_kg: float
    continuity_breaks: int


class Replanning(Strict):
    """How a plan made with ``--previous`` relates to that plan (fieldwork's own field)."""

    previous_appointments: int
    kept: int = Field(description="appointments left exactly where they were")
    moved: list[Id] = Field(description="visits whose caseworker or time changed")
    dropped: list[Id] = Field(description="visits planned before and unplanned now")


class Plan(Strict):
    format: Literal["fieldwork-plan/1"]
    scenario: str
    solver: SolverInfo
    appointments: list[Appointment]
    tours: list[Tour]
    vehicle_bookings: list[VehicleBooking]
    unassigned: list[Unassigned]
    kpis: Kpis
    replanning: Replanning | None = None


def dump_document(model: Scenario | Plan) -> dict[str, Any]:
    """The JSON-ready dict of a scenario or plan, with the format's field names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
