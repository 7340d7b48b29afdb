"""Travel modes, vehicle kinds and the documented default travel model per mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Mode = Literal["e_car", "e_bike", "walk", "car", "private_car"]
#: The kinds the planner plans with (the planning format's vehicle kinds).
VehicleKind = Literal["e_car", "e_bike", "car"]
#: Every kind the fleet holds: the planner's kinds and the fleet-only cargo bike, which
#: caseworkers book ad hoc but the planning format does not know (so it is never exported).
FleetVehicleKind = Literal["e_car", "e_bike", "cargo_bike", "car"]

MODES: tuple[Mode, ...] = get_args(Mode)
VEHICLE_KINDS: tuple[VehicleKind, ...] = get_args(VehicleKind)
FLEET_VEHICLE_KINDS: tuple[FleetVehicleKind, ...] = get_args(FleetVehicleKind)
#: The mode a trip with a vehicle of each kind is logged as (and its emission factor):
#: an electric cargo bike rides as an e-bike.
KIND_MODE: dict[str, Mode] = {
    "e_car": "e_car",
    "e_bike": "e_bike",
    "cargo_bike": "e_bike",
    "car": "car",
}
#: Modes that need a vehicle of the same kind from the caseworker's site.
MODES_WITH_VEHICLE: frozenset[str] = frozenset(VEHICLE_KINDS)

#: Minutes a vehicle stays free after each booking unless its record says otherwise:
#: an e-car is plugged in and handed over, a bike's key changes hands at once.
DEFAULT_HANDOVER_BUFFER_MINUTES: dict[str, int] = {
    "e_car": 15,
    "car": 5,
    "e_bike": 0,
    "cargo_bike": 0,
}

MODE_LABELS_DE: dict[str, str] = {
    "e_car": "E-Auto",
    "e_bike": "E-Bike",
    "walk": "zu Fuß",
    "car": "Dienstwagen",
    "private_car": "Privat-Pkw",
    # A vehicle kind, not a mode (its trips are e-bike trips); here for kind labels.
    "cargo_bike": "Lastenrad",
}


@dataclass(frozen=True, slots=True)
class TravelDefaults:
    speed_kmh: float
    detour_factor: float
    max_leg_km: float | None


#: Defaults for a mode the scenario's ``travel`` leaves out (or a field it leaves out).
#: Speeds are door-to-door averages on the rural and small-town roads of Kreis Warendorf
#: and Landkreis Rottweil (parking and locking included); detour factors are the usual
#: ratio of road to straight-line distance in rural Germany (1.2-1.4).
TRAVEL_DEFAULTS: dict[str, TravelDefaults] = {
    "e_car": TravelDefaults(speed_kmh=40.0, detour_factor=1.3, max_leg_km=None),
    "car": TravelDefaults(speed_kmh=40.0, detour_factor=1.3, max_leg_km=None),
    "private_car": TravelDefaults(speed_kmh=40.0, detour_factor=1.3, max_leg_km=None),
    "e_bike": TravelDefaults(speed_kmh=17.0, detour_factor=1.2, max_leg_km=10.0),
    "walk": TravelDefaults(speed_kmh=4.5, detour_factor=1.2, max_leg_km=2.0),
    # Fleet-only kind (find-a-vehicle's reach): loaded, slower and shorter than an e-bike.
    "cargo_bike": TravelDefaults(speed_kmh=15.0, detour_factor=1.2, max_leg_km=8.0),
}
