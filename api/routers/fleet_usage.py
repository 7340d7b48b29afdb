"""How the fleet is used, for fleet managers, coordinators and admins (``fleet.usage``).

``GET /fleet/usage`` answers JSON; ``GET /fleet/usage.csv`` the same as a CSV that
German Excel opens directly (UTF-8 with BOM, semicolons, decimal commas).
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.crud import KeyFilter, referenced
from api.deps import SessionDep, require
from api.schemas import KindUsagePublic, UsagePublic, VehicleUsagePublic
from fleet.usage import Usage, UsageOptions, to_csv, usage
from scheduler.models import Site, User

router = APIRouter(prefix="/fleet", tags=["fleet usage"])

FleetReader = Annotated[User, Depends(require("admin", "coordinator", "fleet_manager"))]


def _options(
    first: Annotated[date, Query(alias="from", description="first local date")],
    last: Annotated[date, Query(alias="to", description="last local date (inclusive)")],
    day_start: Annotated[time, Query(description="service hours start (local)")] = time(7),
    day_end: Annotated[time, Query(description="service hours end (local)")] = time(19),
    weekends: Annotated[bool, Query(description="count Saturdays and Sundays")] = False,
) -> UsageOptions:
    return UsageOptions(
        first=first, last=last, day_start=day_start, day_end=day_end, weekends=weekends
    )


Options = Annotated[UsageOptions, Depends(_options)]


def _compute(session: Session, options: UsageOptions, site: str | None) -> Usage:
    site_ids = None
    if site is not None:
        site_ids = [referenced(session, Site, Site.key, site, "site").id]
    return usage(session, options=options, site_ids=site_ids)


def _site_keys(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Site.id, Site.key)).all())


@router.get("/usage")
def read_usage(
    session: SessionDep, user: FleetReader, options: Options, site: KeyFilter = None
) -> UsagePublic:
    result = _compute(session, options, site)
    keys = _site_keys(session)
    return UsagePublic(
        first=options.first,
        last=options.last,
        day_start=options.day_start,
        day_end=options.day_end,
        weekends=options.weekends,
        vehicles=[
            VehicleUsagePublic(
                vehicle=row.vehicle,
                site=keys[row.site_id],
                kind=row.kind,
                available_hours=round(row.available_hours, 3),
                booked_hours=round(row.booked_hours, 3),
                utilisation=None if row.utilisation is None else round(row.utilisation, 4),
                km=round(row.km, 3),
                km_confirmed=round(row.km_confirmed, 3),
                km_planned=round(row.km_planned, 3),
                trips_confirmed=row.trips_confirmed,
                trips_planned=row.trips_planned,
                energy_kwh=None if row.energy_kwh is None else round(row.energy_kwh, 3),
                service_days=row.service_days,
                idle_days=row.idle_days,
            )
            for row in result.vehicles
        ],
        sites=[
            KindUsagePublic(
                site=keys[row.site_id],
                kind=row.kind,
                vehicles=row.vehicles,
                peak_booked_by_hour=row.peak_booked,
                peak_demand_by_hour=row.peak_demand,
                refused=row.refused,
                moved=row.moved,
                extra_vehicles_needed=row.extra_vehicles_needed,
            )
            for row in result.kinds
        ],
    )


@router.get(
    "/usage.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "German Excel CSV"}},
)
def read_usage_csv(
    session: SessionDep, user: FleetReader, options: Options, site: KeyFilter = None
) -> Response:
    result = _compute(session, options, site)
    name = f"fuhrpark-{options.first.isoformat()}-{options.last.isoformat()}.csv"
    return Response(
        to_csv(result, _site_keys(session)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
