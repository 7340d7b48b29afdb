"""Fleet services: plain keyword-only functions that take the session explicitly.

They never commit: the caller wraps them in ``core.db.transaction`` together with the
rest of its change, so an import or a publish writes the fleet's part with everything
else or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import Conflict
from fleet.models import Vehicle, VehicleBlock
from fleet.modes import DEFAULT_HANDOVER_BUFFER_MINUTES, VEHICLE_KINDS, VehicleKind


@dataclass(frozen=True, slots=True)
class BlockedInterval:
    """A time a vehicle is not available (timezone-aware, half-open)."""

    start: datetime
    end: datetime
    reason: str | None = None


def overlaps(block: VehicleBlock, window: tuple[datetime, datetime]) -> bool:
    return block.start < window[1] and block.end > window[0]


def upsert_vehicle(
    *,
    session: Session,
    key: str,
    site_id: int,
    kind: VehicleKind,
    name: str | None,
    range_km: float,
    blocked: Sequence[BlockedInterval],
    window: tuple[datetime, datetime],
) -> tuple[Vehicle, bool]:
    """Create or update the vehicle ``key``; returns it and whether it is new.

    ``blocked`` replaces the vehicle's blocks that overlap ``window`` (a planning
    horizon): blocks outside it (other weeks) stay. An updated vehicle is active again.
    """
    vehicle = session.scalars(
        select(Vehicle).where(Vehicle.key == key).options(selectinload(Vehicle.blocks))
    ).one_or_none()
    created = vehicle is None
    if vehicle is not None and vehicle.kind not in VEHICLE_KINDS:
        # A scenario never touches a fleet-only vehicle (a cargo bike) of the same key.
        raise Conflict(f"vehicle {key} is a {vehicle.kind}, which plans never include")
    if vehicle is None:
        vehicle = Vehicle(
            key=key,
            site_id=site_id,
            kind=kind,
            range_km=range_km,
            handover_buffer_minutes=DEFAULT_HANDOVER_BUFFER_MINUTES[kind],
        )
        session.add(vehicle)
    vehicle.site_id = site_id
    vehicle.kind = kind
    vehicle.name = name
    vehicle.range_km = range_km
    vehicle.active = True
    vehicle.retired_at = None
    vehicle.blocks = [block for block in vehicle.blocks if not overlaps(block, window)] + [
        VehicleBlock(start=interval.start, end=interval.end, reason=interval.reason)
        for interval in blocked
    ]
    return vehicle, created


def vehicles_at(*, session: Session, site_ids: Collection[int] | None) -> list[Vehicle]:
    """The active vehicles of these sites (every site if None), blocks loaded, by key."""
    query = (
        select(Vehicle)
        .where(Vehicle.active.is_(True))
        .options(selectinload(Vehicle.blocks))
        .order_by(Vehicle.key)
    )
    if site_ids is not None:
        query = query.where(Vehicle.site_id.in_(site_ids))
    return list(session.scalars(query))
