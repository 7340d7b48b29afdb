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

from fleet.modes import FleetVehicleKind, Mode

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
    kind: FleetVehicleKind
    name: Text | None = None
    range_km: Annotated[float, Field(gt=0, le=10000)]
    consumption_kwh_per_100km: Annotated[float, Field(gt=0, le=1000)] | None = None
    handover_buffer_minutes: Annotated[int, Field(ge=0, le=1440)] | None = Field(
        default=None, description="default by kind: e_car 15, car 5, e_bike 0, cargo_bike 0"
    )
    active: bool = True


class VehicleUpdate(Body):
    site: Key | None = None
    kind: FleetVehicleKind | None = None
    name: Text | None = None
    range_km: Annotated[float, Field(gt=0, le=10000)] | None = None
    consumption_kwh_per_100km: Annotated[float, Field(gt=0, le=1000)] | None = None
    handover_buffer_minutes: Annotated[int, Field(ge=0, le=1440)] | None = None
    active: bool | None = None


class VehiclePublic(BaseModel):
    id: int
    key: str
    site: str
    kind: FleetVehicleKind
    name: str | None
    range_km: float
    consumption_kwh_per_100km: float | None
    handover_buffer_minutes: int
    active: bool
    retired_at: datetime | None = None


class BlockCreate(Body):
    """A maintenance block (or any time the vehicle is away)."""

    start: AwareDatetime
    end: AwareDatetime
    reason: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> BlockCreate:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class BlockPublic(BaseModel):
    id: int
    vehicle: str
    start: datetime
    end: datetime
    reason: str | None


class RetireResult(BaseModel):
    vehicle: VehiclePublic
    #: Active bookings after the retirement: they need another vehicle.
    future_bookings: list[int]


# --------------------------------------------------------------------------- bookings

Km = Annotated[float, Field(ge=0, le=10000)]
Odometer = Annotated[float, Field(ge=0, le=10_000_000)]
RecordRef = Annotated[int, Field(ge=1, le=2**31 - 1)]
#: ``date`` under another name, for models with a field called ``date``.
LocalDate = date


class BookingCreate(Body):
    vehicle: Key
    start: AwareDatetime
    end: AwareDatetime
    km_planned: Km = 0.0
    caseworker: Key | None = Field(
        default=None, description="who drives; a caseworker books for themselves only"
    )
    purpose: Text | None = Field(default=None, description="never a family's name or address")
    refusal_id: RecordRef | None = Field(
        default=None,
        description="this booking replaces a request that found no vehicle (from /bookings/find)",
    )

    @model_validator(mode="after")
    def _ends_after_start(self) -> BookingCreate:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class BookingUpdate(Body):
    vehicle: Key | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    km_planned: Km | None = None
    purpose: Text | None = None


class BookingPublic(BaseModel):
    id: int
    vehicle: str
    vehicle_id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    source: str
    status: str
    plan_id: int | None
    tour_key: str | None
    km_planned: float
    caseworker: str | None
    booked_by: str | None
    purpose: str | None
    created_at: datetime
    cancelled_at: datetime | None


class ConflictPublic(BaseModel):
    vehicle: str
    start: datetime
    end: datetime
    kind: str = Field(description="booking, block, range or retired")
    booking_id: int | None
    block_id: int | None
    other_start: datetime | None
    other_end: datetime | None
    reason_de: str
    reason_en: str


class FindRequest(Body):
    site: Key
    start: AwareDatetime
    end: AwareDatetime
    km: Km | None = Field(default=None, description="the whole trip; or give destination")
    destination: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="[lat, lon]: out and back from the site"
    )
    longest_leg_km: Km | None = Field(default=None, description="default: half the trip")
    kinds: list[FleetVehicleKind] | None = Field(default=None, max_length=4)

    @model_validator(mode="after")
    def _consistent(self) -> FindRequest:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.km is None) == (self.destination is None):
            raise ValueError("give km or destination, not both")
        if self.destination is not None:
            lat, lon = self.destination
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("destination must be [lat, lon] within range")
        return self


class ProposalPublic(BaseModel):
    vehicle: str
    vehicle_id: int
    kind: FleetVehicleKind
    start: datetime
    end: datetime
    co2e_kg: float
    range_left_km: float


class FindResult(BaseModel):
    km: float
    free: list[ProposalPublic] = Field(description="free now, lowest emissions first")
    nearest_slots: list[ProposalPublic] = Field(
        description="when nothing is free: the nearest free slots of the same length"
    )
    refusal_id: int | None = Field(
        description="nothing was free: the request is recorded as unmet demand; "
        "book a slot with this refusal_id to mark it moved"
    )


# ------------------------------------------------------------------------------ trips


class TripConfirm(Body):
    """Confirm a published tour in one step: actual km (or odometer) and mode."""

    plan_id: RecordRef
    tour: Key
    mode: Mode | None = Field(default=None, description="default: the planned mode")
    km: Km | None = None
    odometer_start: Odometer | None = None
    odometer_end: Odometer | None = None
    note: Text | None = None


class TripAdhoc(Body):
    caseworker: Key | None = Field(default=None, description="default: the caseworker user")
    date: date
    mode: Mode
    km: Km | None = None
    odometer_start: Odometer | None = None
    odometer_end: Odometer | None = None
    vehicle: Key | None = None
    booking_id: RecordRef | None = None
    note: Text | None = None


class TripCorrection(Body):
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*$")] = Field(
        description="why: a correction without a reason would be a silent edit"
    )
    mode: Mode | None = None
    km: Km | None = None
    odometer_start: Odometer | None = None
    odometer_end: Odometer | None = None
    date: LocalDate | None = None


class TripPublic(BaseModel):
    id: int
    source: str
    caseworker: str | None
    site: str
    date: date
    mode: Mode
    vehicle: str | None
    booking_id: int | None
    plan_id: int | None
    tour_key: str | None
    km_planned: float | None
    km: float
    odometer_start: float | None
    odometer_end: float | None
    confirmed: bool
    corrects_id: int | None
    current: bool
    recorded_at: datetime
    recorded_by: str | None
    note: str | None


class TripHistory(BaseModel):
    current: TripPublic
    records: list[TripPublic] = Field(description="every record of the trip, oldest first")


class PlannedTripPublic(BaseModel):
    """A published tour nobody has confirmed: counted as planned in reports."""

    plan_id: int
    tour_key: str
    caseworker: str
    site: str
    date: date
    mode: str
    vehicle: str | None
    km_planned: float
    planned_only: bool = True


# ------------------------------------------------------------------------------ usage


class VehicleUsagePublic(BaseModel):
    vehicle: str
    site: str
    kind: FleetVehicleKind
    available_hours: float
    booked_hours: float
    utilisation: float | None = Field(description="booked / available hours (0..1)")
    km: float
    km_confirmed: float
    km_planned: float = Field(description="planned only, not confirmed yet")
    trips_confirmed: int
    trips_planned: int
    energy_kwh: float | None
    service_days: int
    idle_days: int


class KindUsagePublic(BaseModel):
    site: str
    kind: FleetVehicleKind
    vehicles: int
    peak_booked_by_hour: list[int] = Field(description="local hours 0..23")
    peak_demand_by_hour: list[int] = Field(description="booked plus requests that found none")
    refused: int
    moved: int
    extra_vehicles_needed: int


class UsagePublic(BaseModel):
    first: date
    last: date
    day_start: time
    day_end: time
    weekends: bool
    vehicles: list[VehicleUsagePublic]
    sites: list[KindUsagePublic]


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


class DocumentationNote(BaseModel):
    """That a visit's record or the family's consent was kept digitally (no content)."""

    visit: str
    kind: str
    recorded_at: datetime


class HouseholdExport(BaseModel):
    """Everything held on a household (GDPR Art. 15)."""

    household: HouseholdPublic
    visits: list[VisitPublic]
    appointments: list[AppointmentPublic]
    documentation: list[DocumentationNote] = []
    audit_events: list[AuditEventPublic]


class ImportResult(BaseModel):
    week: date
    records: dict[str, dict[str, int]]
