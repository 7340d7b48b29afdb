"""Request and response bodies: ``XCreate`` (POST), ``XUpdate`` (PATCH, every field
optional), ``XPublic`` (what the API answers), ``Page[XPublic]`` for lists.

Records refer to each other by their planning-format ids (``site: "enn"``,
``household: "H0017"``); the URL names a record by its integer ``id``. Bounds repeat the
database's CHECKs, so a bad value is a 422 with its field path, not a refused write.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from fleet.modes import Mode, VehicleKind

T = TypeVar("T")

Key = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]
Skill = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown timezone {name!r}") from error
    return name


TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$"),
    AfterValidator(_known_zone),
]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday .. 6 = Sunday")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FieldProblem(BaseModel):
    path: str = Field(description="JSON path into the body ($.visits[0].id) or query.NAME")
    message: str


class ProblemDetails(BaseModel):
    """An error (RFC 9457), served as application/problem+json."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="for a request that fails validation: every problem"
    )


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Interval(Body):
    """A local wall-clock interval on a weekday (the site's timezone)."""

    weekday: Weekday
    start: time
    end: time

    @model_validator(mode="after")
    def _ends_after_start(self) -> Interval:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# ------------------------------------------------------------------------------ sites


class SiteCreate(Body):
    key: Key
    name: Text | None = None
    lat: Latitude
    lon: Longitude
    timezone: TimeZone = "Europe/Berlin"
    region: (
        Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
        | None
    ) = None


class SiteUpdate(Body):
    name: Text | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    timezone: TimeZone | None = None
    region: (
        Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
        | None
    ) = None


class SitePublic(BaseModel):
    id: int
    key: str
    name: str | None
    lat: float
    lon: float
    timezone: str
    region: str | None


# ------------------------------------------------------------------------ caseworkers


class CaseworkerCreate(Body):
    key: Key
    name: Text | None = None
    site: Key
    max_visits_per_day: Annotated[int, Field(ge=1, le=100)] | None = None
    working_hours: list[Interval] = Field(default_factory=list, max_length=7)
    modes: list[Mode] = Field(min_length=1, max_length=10)
    skills: list[Skill] = Field(default_factory=list, max_length=100)


class CaseworkerUpdate(Body):
    name: Text | None = None
    site: Key | None = None
    max_visits_per_day: Annotated[int, Field(ge=1, le=100)] | None = None
    working_hours: list[Interval] | None = Field(default=None, max_length=7)
    modes: list[Mode] | None = Field(default=None, min_length=1, max_length=10)
    skills: list[Skill] | None = Field(default=None, max_length=100)


class CaseworkerPublic(BaseModel):
    id: int
    key: str
    name: str | None
    site: str
    max_visits_per_day: int | None
    working_hours: list[Interval]
    modes: list[Mode]
    skills: list[str]


# ------------------------------------------------------------------------- households


#: A postal address, for geocoding (personal data: erased with the household).
Address = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")]


class HouseholdCreate(Body):
    pseudonym: Key = Field(description="never a real name: the programme's case pseudonym")
    lat: Latitude | None = Field(default=None, description="with lon; or leave both to geocode")
    lon: Longitude | None = None
    address: Address | None = Field(
        default=None, description="geocoded when lat/lon are missing and a geocoder is set up"
    )
    site: Key | None = Field(default=None, description="default: the primary caseworker's")
    primary_caseworker: Key | None = None
    allowed_caseworkers: list[Key] = Field(default_factory=list, max_length=100)
    required_skills: list[Skill] = Field(default_factory=list, max_length=100)
    availability: list[Interval] | None = Field(
        default=None, max_length=100, description="None: any time within working hours"
    )

    @model_validator(mode="after")
    def _located(self) -> HouseholdCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        if self.lat is None and self.address is None:
            raise ValueError("lat and lon are required (or an address, to geocode)")
        return self


class HouseholdUpdate(Body):
    lat: Latitude | None = None
    lon: Longitude | None = None
    address: Address | None = None
    site: Key | None = None
    primary_caseworker: Key | None = None
    allowed_caseworkers: list[Key] | None = Field(default=None, max_length=100)
    required_skills: list[Skill] | None = Field(default=None, max_length=100)
    availability: list[Interval] | None = Field(default=None, max_length=100)


class HouseholdPublic(BaseModel):
    id: int
    pseudonym: str
    lat: float | None
    lon: float | None
    site: str | None
    primary_caseworker: str | None
    allowed_caseworkers: list[str]
    required_skills: list[str]
    availability: list[Interval] | None
    address: str | None
    erased_at: datetime | None


# ----------------------------------------------------------------------------- visits


class VisitCreate(Body):
    week: date = Field(description="first date of an imported planning week")
    key: Key
    household: Key
    duration_minutes: Annotated[int, Field(ge=1, le=1440)]
    priority: Annotated[int, Field(ge=1, le=3)] = 1
    earliest: date | None = None
    latest: date | None = None
    pinned_caseworker: Key | None = None
    pinned_start: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> VisitCreate:
        _check_visit(self.earliest, self.latest, self.pinned_caseworker, self.pinned_start)
        return self


class VisitUpdate(Body):
    duration_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    priority: Annotated[int, Field(ge=1, le=3)] | None = None
    earliest: date | None = None
    latest: date | None = None
    pinned_caseworker: Key | None = None
    pinned_start: AwareDatetime | None = None


def _check_visit(
    earliest: date | None, latest: date | None, pinned: str | None, start: datetime | None
) -> None:
    if earliest is not None and latest is not None and latest < earliest:
        raise ValueError("latest must not be before earliest")
    if (pinned is None) != (start is None):
        raise ValueError("pinned_caseworker and pinned_start go together")


class VisitPublic(BaseModel):
    id: int
    week: date
    key: str
    household: str
    duration_minutes: int
    priority: int
    earliest: date | None
    latest: date | None
    pinned_caseworker: str | None
    pinned_start: datetime | None


# --------------------------------------------------------------------------- vehicles


class VehicleCreate(Body):
    key: Key
    site: Key
    kind: VehicleKind
    name: Text | None = None
    range_km: Annotated[float, Field(gt=0, le=10000)]
    consumption_kwh_per_100km: Annotated[float, Field(gt=0, le=1000)] | None = None
    handover_buffer_minutes: Annotated[int, Field(ge=0, le=1440)] = 0
    active: bool = True


class VehicleUpdate(Body):
    site: Key | None = None
    kind: VehicleKind | None = None
    name: Text | None = None
    range_km: Annotated[float, Field(gt=0, le=10000)] | None = None
    consumption_kwh_per_100km: Annotated[float, Field(gt=0, le=1000)] | None = None
    handover_buffer_minutes: Annotated[int, Field(ge=0, le=1440)] | None = None
    active: bool | None = None


class VehiclePublic(BaseModel):
    id: int
    key: str
    site: str
    kind: VehicleKind
    name: str | None
    range_km: float
    consumption_kwh_per_100km: float | None
    handover_buffer_minutes: int
    active: bool


# ------------------------------------------------------------------------ GDPR export


class AppointmentPublic(BaseModel):
    plan_id: int
    visit: str
    caseworker: str
    start: datetime
    end: datetime
    status: str


class AuditEventPublic(BaseModel):
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any] | None


class HouseholdExport(BaseModel):
    """Everything held on a household (GDPR Art. 15)."""

    household: HouseholdPublic
    visits: list[VisitPublic]
    appointments: list[AppointmentPublic]
    audit_events: list[AuditEventPublic]


class ImportResult(BaseModel):
    week: date
    records: dict[str, dict[str, int]]
