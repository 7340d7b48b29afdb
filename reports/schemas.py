"""The sustainability report as data: what ``GET /reports/sustainability`` answers and
what the CSV and PDF render.

Masses are kg CO2e rounded to the gram (3 decimals), km to the metre, kWh to the Wh;
totals are summed before rounding, so a total may differ from the sum of its rounded
lines by a gram. ``None`` means "not available", never zero (a factor that does not
split tailpipe from upstream, a share of zero km).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

TripStatus = Literal["planned", "confirmed", "adhoc"]
Scope = Literal["scope1", "scope2", "scope3_cat3", "scope3_cat6"]


class ReportPeriod(BaseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    label: str = Field(description="the period in German, e.g. 'November 2026'")
    days: int


class FactorUsed(BaseModel):
    """One factor the report applied, with where it comes from."""

    reference_year: int
    set: str
    what: str = Field(description="what the factor measures, in German")
    key: str = Field(description="machine name: mode.car, grid, consumption.e_car, ...")
    value: float
    unit: str
    tailpipe: float | None = None
    upstream: float | None = None
    boundary: str
    source: str
    publisher: str
    year: int
    verified: bool
    note: str | None = None


class Factors(BaseModel):
    version: str = Field(description="version of the factor file")
    set: str
    label: str
    reference_years: list[int]
    baseline_mode: str
    items: list[FactorUsed]


class Totals(BaseModel):
    trips: int
    km: float
    low_emission_km: float
    low_emission_share: float | None = Field(description="0..1; None without km")
    co2e_kg: float
    co2e_tailpipe_kg: float = Field(description="tailpipe (combustion) part")
    co2e_upstream_kg: float = Field(description="fuel supply and electricity generation")
    co2e_unsplit_kg: float = Field(description="from factors that do not split the two")
    co2e_g_per_km: float | None
    home_visits: int
    co2e_per_home_visit_kg: float | None = Field(
        description="CO2e of the tours divided by the home visits in them"
    )
    baseline_mode: str
    baseline_co2e_kg: float
    avoided_co2e_kg: float = Field(
        description="baseline minus actual; reported apart, never netted off the inventory"
    )
    energy_kwh: float


class ModeLine(BaseModel):
    mode: str
    label: str
    low_emission: bool
    trips: int
    km: float
    km_share: float | None
    co2e_kg: float
    co2e_tailpipe_kg: float
    co2e_upstream_kg: float
    co2e_unsplit_kg: float
    energy_kwh: float
    baseline_co2e_kg: float
    avoided_co2e_kg: float


class ScopeLine(BaseModel):
    scope: Scope
    label: str
    co2e_kg: float
    modes: list[str]


class PlannedConfirmed(BaseModel):
    tours: int = Field(description="tours of published plans in the period")
    tours_confirmed: int
    tours_unconfirmed: int = Field(description="counted with their planned km, flagged")
    km_planned_confirmed_tours: float = Field(description="planned km of the confirmed tours")
    km_confirmed_tours: float = Field(description="confirmed km of the same tours")
    km_difference: float = Field(description="confirmed minus planned, confirmed tours")
    km_unconfirmed: float
    adhoc_trips: int
    adhoc_km: float
    corrected_trips: int = Field(description="trips whose current record is a correction")


class VehicleLine(BaseModel):
    vehicle: str
    kind: str
    site: str
    trips: int
    km: float
    energy_kwh: float
    booked_hours: float
    available_hours: float
    utilisation: float | None = Field(description="booked / available hours, 0..1")


class PaperLine(BaseModel):
    kind: str
    label: str
    events: int
    pages_per_event: float
    pages: float
    sheets: float
    paper_kg: float
    co2e_kg: float


class Paper(BaseModel):
    lines: list[PaperLine]
    sheets: float
    paper_kg: float
    co2e_kg: float


class TripLine(BaseModel):
    """One line of the trip log; caseworkers are pseudonyms of this report."""

    ref: str = Field(description="trip:ID (the trip log) or tour:ID (a planned tour)")
    date: date
    caseworker: str
    site: str
    mode: str
    vehicle: str | None
    status: TripStatus
    corrected: bool
    km_planned: float | None
    km: float
    energy_kwh: float | None
    co2e_kg: float
    co2e_tailpipe_kg: float | None
    co2e_upstream_kg: float | None
    scope: Scope | None
    baseline_co2e_kg: float
    avoided_co2e_kg: float
    home_visits: int | None


class SustainabilityReport(BaseModel):
    title: str
    period: ReportPeriod
    site: str | None = Field(description="site key, or None for the whole programme")
    site_label: str
    generated_at: datetime
    totals: Totals
    by_mode: list[ModeLine]
    by_scope: list[ScopeLine]
    planned_vs_confirmed: PlannedConfirmed
    vehicles: list[VehicleLine]
    paper: Paper
    factors: Factors
    method: list[str] = Field(description="the method note, paragraph by paragraph (German)")
    trips: list[TripLine]
