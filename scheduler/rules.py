"""How a scenario is read: the one place for travel parameters, factors, holidays and time.

The planner, the checker and the reports all interpret a scenario through these
functions, so "what the travel model says" has one meaning everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from fleet.emissions import default_mode_factors
from fleet.modes import MODES, TRAVEL_DEFAULTS
from scheduler.format import WEEKDAYS, Scenario, Weekday

#: Rounding guard for ceil(): a leg of exactly 10.0 minutes computed as 10.000000000001
#: must not become 11 in one implementation and 10 in another.
_CEIL_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class TravelParams:
    speed_kmh: float
    detour_factor: float
    max_leg_km: float | None

    def leg_km(self, geodesic_km: float) -> float:
        return geodesic_km * self.detour_factor

    def leg_minutes(self, km: float) -> int:
        if km <= 0:
            return 0
        return math.ceil(km / self.speed_kmh * 60.0 - _CEIL_EPSILON)

    def reaches(self, km: float) -> bool:
        return self.max_leg_km is None or km <= self.max_leg_km + 1e-9


def travel_params(scenario: Scenario) -> dict[str, TravelParams]:
    """Per mode: the scenario's values, field by field falling back to the defaults."""
    given = scenario.travel or {}
    result: dict[str, TravelParams] = {}
    for mode in MODES:
        default = TRAVEL_DEFAULTS[mode]
        override = given.get(mode)
        if override is None:
            result[mode] = TravelParams(
                default.speed_kmh, default.detour_factor, default.max_leg_km
            )
            continue
        result[mode] = TravelParams(
            speed_kmh=override.speed_kmh if override.speed_kmh is not None else default.speed_kmh,
            detour_factor=(
                override.detour_factor
                if override.detour_factor is not None
                else default.detour_factor
            ),
            max_leg_km=override.max_leg_km
            if "max_leg_km" in override.model_fields_set
            else default.max_leg_km,
        )
    return result


def emission_factors(scenario: Scenario) -> dict[str, float]:
    """g CO2e per km per mode: the defaults of the factor file, overridden by the scenario."""
    factors = default_mode_factors()
    for mode, value in (scenario.emission_factors_g_per_km or {}).items():
        factors[mode] = value
    return factors


def region_holidays(region: str | None, years: range) -> dict[date, str]:
    """Public holidays of an ISO 3166-2 region such as ``DE-NW`` (or a bare country)."""
    if not region:
        return {}
    country, _, subdivision = region.partition("-")
    calendar = holidays_lib.country_holidays(
        country, subdiv=subdivision or None, years=list(years), language="de"
    )
    return dict(calendar.items())


def is_known_region(region: str) -> bool:
    country, _, subdivision = region.partition("-")
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        return False
    return not subdivision or subdivision in supported[country]


def weekday_key(day: date) -> Weekday:
    return WEEKDAYS[day.weekday()]


def horizon_dates(scenario: Scenario) -> Iterator[date]:
    day = scenario.horizon.start
    while day <= scenario.horizon.end:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class Timeline:
    """Minutes since local midnight at the start of the horizon, counted in real time.

    Counting real (UTC) minutes keeps travel and visit durations exact across a DST
    change; wall-clock times convert through the scenario's timezone.
    """

    timezone: ZoneInfo
    start: date

    @classmethod
    def of(cls, scenario: Scenario) -> Timeline:
        return cls(ZoneInfo(scenario.timezone), scenario.horizon.start)

    @cached_property
    def origin(self) -> datetime:
        return datetime.combine(self.start, time(0, 0), tzinfo=self.timezone)

    def aware(self, local: datetime) -> datetime:
        """A naive local wall-clock datetime as an aware one in the scenario's zone."""
        return local.replace(tzinfo=self.timezone)

    def minute(self, local: datetime) -> int:
        """Minute on the timeline of a naive local wall-clock datetime."""
        # Through UTC: Python subtracts two datetimes of the same zone as wall-clock
        # times, which would lose the hour of a DST change.
        delta = self.aware(local).astimezone(UTC) - self.origin.astimezone(UTC)
        return int(delta.total_seconds() // 60)

    def minute_at(self, instant: datetime) -> int:
        """Minute on the timeline of an aware datetime (any UTC offset)."""
        delta = instant.astimezone(UTC) - self.origin.astimezone(UTC)
        return int(delta.total_seconds() // 60)

    def minute_of(self, day: date, clock: time) -> int:
        return self.minute(datetime.combine(day, clock))

    def day_start(self, day: date) -> int:
        return self.minute_of(day, time(0, 0))

    def datetime_at(self, minute: int) -> datetime:
        """The aware local datetime of a timeline minute (ISO 8601 with its UTC offset)."""
        utc = self.origin.astimezone(UTC) + timedelta(minutes=minute)
        return utc.astimezone(self.timezone)
