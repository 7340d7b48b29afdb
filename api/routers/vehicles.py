"""Vehicles of the shared fleet: everyone may read them; planners and fleet managers
change them. A vehicle with bookings is retired (``active: false``) rather than deleted."""

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
from api.schemas import Page, VehicleCreate, VehiclePublic, VehicleUpdate
from fleet.models import Vehicle
from fleet.modes import VehicleKind
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
    kind: VehicleKind | None = None,
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
        for name in ("kind", "range_km", "handover_buffer_minutes", "active"):
            value = getattr(body, name)
            if value is not None:
                setattr(vehicle, name, value)
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
