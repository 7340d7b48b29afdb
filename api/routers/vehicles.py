"""Vehicles of the shared fleet: everyone may read them; planners and fleet managers
change them. A vehicle with bookings is retired (``POST /vehicles/{id}/retire``) rather
than deleted. Maintenance blocks: ``/vehicles/{id}/blocks`` (refused while bookings
overlap them: those are moved or cancelled first)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from api.crud import (
    KeyFilter,
    Limit,
    Offset,
    RecordId,
    audit,
    get_or_404,
    page,
    referenced,
    writing,
)
from api.deps import CurrentUser, FleetWriter, SessionDep
from api.schemas import (
    BlockCreate,
    BlockPublic,
    Page,
    RetireResult,
    VehicleCreate,
    VehiclePublic,
    VehicleUpdate,
)
from core.db import utc_now, write_transaction
from core.errors import NotFound
from fleet.bookings import add_block, remove_block, retire
from fleet.models import Vehicle, VehicleBlock
from fleet.modes import DEFAULT_HANDOVER_BUFFER_MINUTES, FleetVehicleKind
from scheduler.models import Site

router = APIRouter(prefix="/vehicles", tags=["vehicles"])


def public(vehicle: Vehicle, site_key: str) -> VehiclePublic:
    return VehiclePublic(
        id=vehicle.id,
        key=vehicle.key,
        site=site_key,
        kind=vehicle.kind,
        name=vehicle.name,
        range_km=vehicle.range_km,
        consumption_kwh_per_100km=vehicle.consumption_kwh_per_100km,
        handover_buffer_minutes=vehicle.handover_buffer_minutes,
        active=vehicle.active,
        retired_at=vehicle.retired_at,
    )


def _site_key(session: SessionDep, vehicle: Vehicle) -> str:
    return get_or_404(session, Site, vehicle.site_id, "site").key


@router.get("")
def list_vehicles(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
    site: KeyFilter = None,
    kind: FleetVehicleKind | None = None,
    active: bool | None = None,
) -> Page[VehiclePublic]:
    query = select(Vehicle).order_by(Vehicle.key)
    if site is not None:
        query = query.where(Vehicle.site_id.in_(select(Site.id).where(Site.key == site)))
    if kind is not None:
        query = query.where(Vehicle.kind == kind)
    if active is not None:
        query = query.where(Vehicle.active.is_(active))
    rows, total = page(session, query, limit, offset)
    sites = {site_id: key for site_id, key in session.execute(select(Site.id, Site.key))}
    return Page(
        items=[public(row, sites[row.site_id]) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("", status_code=201)
def create_vehicle(session: SessionDep, user: FleetWriter, body: VehicleCreate) -> VehiclePublic:
    site = referenced(session, Site, Site.key, body.site, "site")
    with writing(session):
        vehicle = Vehicle(**body.model_dump(exclude={"site"}), site_id=site.id)
        if body.handover_buffer_minutes is None:
            vehicle.handover_buffer_minutes = DEFAULT_HANDOVER_BUFFER_MINUTES[body.kind]
        if not body.active:
            vehicle.retired_at = utc_now()
        session.add(vehicle)
        session.flush()
        audit(session, user, "create", "vehicle", vehicle.key, body.model_dump(mode="json"))
    return public(vehicle, site.key)


@router.get("/{vehicle_id}")
def read_vehicle(session: SessionDep, user: CurrentUser, vehicle_id: RecordId) -> VehiclePublic:
    vehicle = get_or_404(session, Vehicle, vehicle_id, "vehicle")
    return public(vehicle, _site_key(session, vehicle))


@router.patch("/{vehicle_id}")
def update_vehicle(
    session: SessionDep, user: FleetWriter, vehicle_id: RecordId, body: VehicleUpdate
) -> VehiclePublic:
    vehicle = get_or_404(session, Vehicle, vehicle_id, "vehicle")
    changes = body.model_dump(exclude_unset=True)
    with writing(session):
        if body.site is not None:
            vehicle.site_id = referenced(session, Site, Site.key, body.site, "site").id
        for name in ("kind", "range_km", "handover_buffer_minutes"):
            value = getattr(body, name)
            if value is not None:
                setattr(vehicle, name, value)
        if body.active is not None and body.active != vehicle.active:
            vehicle.active = body.active
            vehicle.retired_at = None if body.active else utc_now()
        for name in ("name", "consumption_kwh_per_100km"):
            if name in changes:
                setattr(vehicle, name, getattr(body, name))
        audit(
            session,
            user,
            "update",
            "vehicle",
            vehicle.key,
            body.model_dump(mode="json", exclude_unset=True),
        )
    return public(vehicle, _site_key(session, vehicle))


@router.delete("/{vehicle_id}", status_code=204)
def delete_vehicle(session: SessionDep, user: FleetWriter, vehicle_id: RecordId) -> Response:
    vehicle = get_or_404(session, Vehicle, vehicle_id, "vehicle")
    with writing(session):
        session.delete(vehicle)
        audit(session, user, "delete", "vehicle", vehicle.key)
    return Response(status_code=204)


@router.post("/{vehicle_id}/retire")
def retire_vehicle(session: SessionDep, user: FleetWriter, vehicle_id: RecordId) -> RetireResult:
    """Retire: no new bookings; its history stays. Lists its future active bookings,
    which need another vehicle (they are not cancelled behind their bookers' backs)."""
    get_or_404(session, Vehicle, vehicle_id, "vehicle")
    with write_transaction(session):
        vehicle, future = retire(session, vehicle_id=vehicle_id, user_id=user.id, actor=user.name)
    return RetireResult(
        vehicle=public(vehicle, _site_key(session, vehicle)),
        future_bookings=[booking.id for booking in future],
    )


def _block(block: VehicleBlock, vehicle: Vehicle) -> BlockPublic:
    return BlockPublic(
        id=block.id, vehicle=vehicle.key, start=block.start, end=block.end, reason=block.reason
    )


@router.get("/{vehicle_id}/blocks")
def list_blocks(session: SessionDep, user: CurrentUser, vehicle_id: RecordId) -> list[BlockPublic]:
    vehicle = get_or_404(session, Vehicle, vehicle_id, "vehicle")
    blocks = session.scalars(
        select(VehicleBlock)
        .where(VehicleBlock.vehicle_id == vehicle.id)
        .order_by(VehicleBlock.start)
    )
    return [_block(block, vehicle) for block in blocks]


@router.post("/{vehicle_id}/blocks", status_code=201)
def create_block(
    session: SessionDep, user: FleetWriter, vehicle_id: RecordId, body: BlockCreate
) -> BlockPublic:
    """A maintenance block; 409 with the bookings in the way if any overlap it."""
    vehicle = get_or_404(session, Vehicle, vehicle_id, "vehicle")
    with write_transaction(session):
        block = add_block(
            session,
            vehicle_id=vehicle.id,
            start=body.start,
            end=body.end,
            reason=body.reason,
            user_id=user.id,
            actor=user.name,
        )
    return _block(block, vehicle)


@router.delete("/{vehicle_id}/blocks/{block_id}", status_code=204)
def delete_block(
    session: SessionDep, user: FleetWriter, vehicle_id: RecordId, block_id: RecordId
) -> Response:
    block = session.get(VehicleBlock, block_id)
    if block is None or block.vehicle_id != vehicle_id:
        raise NotFound(f"no maintenance block {block_id} of vehicle {vehicle_id}")
    with write_transaction(session):
        remove_block(session, block_id=block_id, user_id=user.id, actor=user.name)
    return Response(status_code=204)
