"""Cargo bikes through the HTTP API on SQLite and PostgreSQL: a fleet-only kind that is
booked and found like any vehicle, logged as e-bike trips, listed in the usage, and never
part of a planning scenario (export leaves it out, import leaves it alone)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from session_app import WEEK, Tokens

DAY = "2026-12-07"


def at(clock: str) -> str:
    return f"{DAY}T{clock}:00+01:00"


def cargo_bike(client: TestClient, tokens: Tokens) -> dict[str, object]:
    created = client.post(
        "/vehicles",
        json={"key": "cargo-enn-1", "site": "enn", "kind": "cargo_bike", "range_km": 40},
        headers=tokens.header("fleet_manager"),
    )
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


def test_a_cargo_bike_is_created_booked_and_logged_as_an_e_bike(
    client: TestClient, tokens: Tokens
) -> None:
    bike = cargo_bike(client, tokens)
    assert (bike["kind"], bike["handover_buffer_minutes"]) == ("cargo_bike", 0)
    listed = client.get(
        "/vehicles", params={"kind": "cargo_bike"}, headers=tokens.header("fleet_manager")
    ).json()["items"]
    assert [v["key"] for v in listed] == ["cargo-enn-1"]

    first = client.post(
        "/bookings",
        json={"vehicle": "cargo-enn-1", "start": at("09:00"), "end": at("10:00"), "km_planned": 6},
        headers=tokens.header("caseworker"),
    )
    assert first.status_code == 201, first.text
    # No handover buffer: the next booking may start the minute the first one ends.
    clash = client.post(
        "/bookings",
        json={"vehicle": "cargo-enn-1", "start": at("09:30"), "end": at("10:30")},
        headers=tokens.header("caseworker"),
    )
    assert clash.status_code == 409
    after = client.post(
        "/bookings",
        json={"vehicle": "cargo-enn-1", "start": at("10:00"), "end": at("11:00")},
        headers=tokens.header("caseworker"),
    )
    assert after.status_code == 201, after.text

    trip = {"date": DAY, "km": 5.5, "vehicle": "cargo-enn-1", "booking_id": first.json()["id"]}
    logged = client.post(
        "/trips", json={**trip, "mode": "e_bike"}, headers=tokens.header("caseworker")
    )
    assert logged.status_code == 201, logged.text
    assert (logged.json()["mode"], logged.json()["vehicle"]) == ("e_bike", "cargo-enn-1")
    as_car = client.post(
        "/trips", json={**trip, "mode": "e_car"}, headers=tokens.header("caseworker")
    )
    assert as_car.status_code in (409, 422)

    usage = client.get(
        "/fleet/usage",
        params={"from": DAY, "to": DAY, "site": "enn"},
        headers=tokens.header("fleet_manager"),
    )
    assert usage.status_code == 200, usage.text
    rows = {row["vehicle"]: row for row in usage.json()["vehicles"]}
    assert rows["cargo-enn-1"]["kind"] == "cargo_bike"
    assert rows["cargo-enn-1"]["booked_hours"] == 2.0
    assert rows["cargo-enn-1"]["km_confirmed"] == 5.5
    kinds = {row["kind"]: row for row in usage.json()["sites"]}
    assert kinds["cargo_bike"]["vehicles"] == 1
    csv = client.get(
        "/fleet/usage.csv",
        params={"from": DAY, "to": DAY, "site": "enn"},
        headers=tokens.header("fleet_manager"),
    )
    assert csv.status_code == 200 and "Lastenrad" in csv.text


def test_find_me_a_vehicle_proposes_a_cargo_bike_within_its_reach(
    client: TestClient, tokens: Tokens
) -> None:
    cargo_bike(client, tokens)
    auth = tokens.header("caseworker")

    def find(km: float, **extra: object) -> dict[str, list[dict[str, object]]]:
        body = {"site": "enn", "start": at("09:00"), "end": at("11:00"), "km": km, **extra}
        response = client.post("/bookings/find", json=body, headers=auth)
        assert response.status_code == 200, response.text
        found: dict[str, list[dict[str, object]]] = response.json()
        return found

    short = find(12)
    proposed = {p["vehicle"]: p for p in short["free"]}
    assert "cargo-enn-1" in proposed
    # Emissions of an e-bike (2 g/km): 12 km, 0.024 kg, like the e-bikes, before the e-car.
    assert proposed["cargo-enn-1"]["co2e_kg"] == proposed["ebike-enn-1"]["co2e_kg"] == 0.024
    assert short["free"][-1]["vehicle"] == "ecar-enn-1"
    only = find(12, kinds=["cargo_bike"])
    assert [p["vehicle"] for p in only["free"]] == ["cargo-enn-1"]
    # An 18 km round trip: a 9 km leg is within an e-bike's 10 km, beyond a cargo bike's 8.
    beyond = find(18)
    vehicles = [p["vehicle"] for p in beyond["free"]]
    assert "ebike-enn-1" in vehicles and "cargo-enn-1" not in vehicles


def test_scenarios_leave_cargo_bikes_out(client: TestClient, tokens: Tokens) -> None:
    cargo_bike(client, tokens)
    auth = tokens.header("coordinator")
    exported = client.get("/scenarios", params={"week": WEEK}, headers=auth)
    assert exported.status_code == 200, exported.text
    scenario = exported.json()
    keys = {v["id"] for v in scenario["vehicles"]}
    assert "cargo-enn-1" not in keys and "ebike-enn-1" in keys
    assert {v["kind"] for v in scenario["vehicles"]} <= {"e_car", "e_bike", "car"}
    # Re-importing the export does not touch the cargo bike.
    again = client.post("/scenarios", json=scenario, headers=auth)
    assert again.status_code == 201, again.text
    # A scenario vehicle with the cargo bike's key is refused, nothing written.
    clash = json.loads(json.dumps(scenario))
    clash["vehicles"][0]["id"] = "cargo-enn-1"
    refused = client.post("/scenarios", json=clash, headers=auth)
    assert refused.status_code == 409, refused.text
    bike = client.get(
        "/vehicles", params={"kind": "cargo_bike"}, headers=tokens.header("fleet_manager")
    ).json()["items"]
    assert [(v["key"], v["kind"], v["active"]) for v in bike] == [
        ("cargo-enn-1", "cargo_bike", True)
    ]
