"""Fleet usage through the HTTP API on SQLite and PostgreSQL, checked against a small
fleet computed by hand (the office ``enn``: one e-car, two e-bikes).

Period Monday 7 and Tuesday 8 December 2026, service hours 07:00-19:00 (Europe/Berlin,
UTC+1): 2 x 12 = 24 service hours per vehicle.

- ecar-enn-1 (16 kWh/100 km): booked Mon 09:00-11:00 (30 km planned, then logged as a
  trip of 32 km) and 11:30-13:30 (20 km, never logged); maintenance Tue 07:00-13:00.
  Available 24 - 6 = 18 h, booked 4 h, utilisation 4/18 = 22.2 %; km 32 confirmed +
  20 planned = 52, energy 52 x 0.16 = 8.32 kWh; trips 1 + 1; Tuesday idle (1 day).
- ebike-enn-1 and ebike-enn-2: each booked Mon 09:00-10:00: 1/24 = 4.2 %, idle Tuesday.
- Two more requests for an e-bike (Mon 09:30-10:30 and 09:45-10:15) find both bikes
  booked: 2 refused; both overlap at 09:45, so 2 more e-bikes would have served them.
- Peaks: e-bikes hour 9: 2 booked, demand 4 (2 booked + 2 refused at 09:45); hour 10:
  0 booked, demand 2 (the refused ones until 10:15). E-car hours 9..13: 1; hour 14: 0.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from session_app import Tokens


def at(day: int, clock: str) -> str:
    return f"2026-12-{day:02d}T{clock}:00+01:00"


def book(
    client: TestClient, tokens: Tokens, vehicle: str, start: str, end: str, **extra: Any
) -> Any:
    return client.post(
        "/bookings",
        json={"vehicle": vehicle, "start": start, "end": end, **extra},
        headers=tokens.header("coordinator"),
    )


@pytest.fixture
def small_fleet(client: TestClient, tokens: Tokens) -> None:
    fleet = tokens.header("fleet_manager")
    vehicles = {v["key"]: v["id"] for v in client.get("/vehicles", headers=fleet).json()["items"]}
    patched = client.patch(
        f"/vehicles/{vehicles['ecar-enn-1']}",
        json={"consumption_kwh_per_100km": 16},
        headers=fleet,
    )
    assert patched.status_code == 200
    first = book(client, tokens, "ecar-enn-1", at(7, "09:00"), at(7, "11:00"), km_planned=30)
    assert first.status_code == 201
    assert (
        book(
            client, tokens, "ecar-enn-1", at(7, "11:30"), at(7, "13:30"), km_planned=20
        ).status_code
        == 201
    )
    block = client.post(
        f"/vehicles/{vehicles['ecar-enn-1']}/blocks",
        json={"start": at(8, "07:00"), "end": at(8, "13:00"), "reason": "Wartung"},
        headers=fleet,
    )
    assert block.status_code == 201
    logged = client.post(
        "/trips",
        json={
            "caseworker": "cw01",
            "date": "2026-12-07",
            "mode": "e_car",
            "km": 32,
            "booking_id": first.json()["id"],
        },
        headers=tokens.header("coordinator"),
    )
    assert logged.status_code == 201
    for bike in ("ebike-enn-1", "ebike-enn-2"):
        assert book(client, tokens, bike, at(7, "09:00"), at(7, "10:00")).status_code == 201
    for start, end in (("09:30", "10:30"), ("09:45", "10:15")):
        refused = client.post(
            "/bookings",
            json={"vehicle": "ebike-enn-1", "start": at(7, start), "end": at(7, end)},
            headers=tokens.header("caseworker"),
        )
        assert refused.status_code == 409 and refused.json()["refusal_id"] is not None


PERIOD = {"from": "2026-12-07", "to": "2026-12-08", "site": "enn"}


def test_usage_of_a_hand_computed_fleet(
    client: TestClient, tokens: Tokens, small_fleet: None
) -> None:
    response = client.get("/fleet/usage", params=PERIOD, headers=tokens.header("fleet_manager"))
    assert response.status_code == 200, response.text
    usage = response.json()
    cars = {row["vehicle"]: row for row in usage["vehicles"]}
    assert set(cars) == {"ecar-enn-1", "ebike-enn-1", "ebike-enn-2"}
    car = cars["ecar-enn-1"]
    assert (car["available_hours"], car["booked_hours"]) == (18.0, 4.0)
    assert car["utilisation"] == pytest.approx(4 / 18, abs=1e-4)
    assert (car["km_confirmed"], car["km_planned"], car["km"]) == (32.0, 20.0, 52.0)
    assert (car["trips_confirmed"], car["trips_planned"]) == (1, 1)
    assert car["energy_kwh"] == pytest.approx(8.32)
    assert (car["service_days"], car["idle_days"]) == (2, 1)
    for key in ("ebike-enn-1", "ebike-enn-2"):
        bike = cars[key]
        assert (bike["available_hours"], bike["booked_hours"]) == (24.0, 1.0)
        assert bike["utilisation"] == pytest.approx(1 / 24, abs=1e-4)
        assert (bike["idle_days"], bike["energy_kwh"], bike["km"]) == (1, None, 0.0)
        assert (bike["trips_confirmed"], bike["trips_planned"]) == (0, 1)
    kinds = {row["kind"]: row for row in usage["sites"]}
    bikes, ecars = kinds["e_bike"], kinds["e_car"]
    assert (bikes["vehicles"], bikes["refused"], bikes["moved"]) == (2, 2, 0)
    assert bikes["extra_vehicles_needed"] == 2
    assert (bikes["peak_booked_by_hour"][9], bikes["peak_demand_by_hour"][9]) == (2, 4)
    assert (bikes["peak_booked_by_hour"][10], bikes["peak_demand_by_hour"][10]) == (0, 2)
    assert sum(bikes["peak_booked_by_hour"]) == 2
    assert ecars["peak_booked_by_hour"][9:15] == [1, 1, 1, 1, 1, 0]
    assert (ecars["refused"], ecars["extra_vehicles_needed"]) == (0, 0)
    # Service hours and weekends change the hours available.
    short = client.get(
        "/fleet/usage",
        params={**PERIOD, "day_start": "09:00", "day_end": "10:00"},
        headers=tokens.header("coordinator"),
    ).json()
    short_bike = next(r for r in short["vehicles"] if r["vehicle"] == "ebike-enn-1")
    assert (short_bike["available_hours"], short_bike["utilisation"]) == (2.0, 0.5)


def test_usage_csv_for_german_excel(client: TestClient, tokens: Tokens, small_fleet: None) -> None:
    response = client.get("/fleet/usage.csv", params=PERIOD, headers=tokens.header("fleet_manager"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "fuhrpark-2026-12-07-2026-12-08.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("Fahrzeug;Standort;Art;Verfügbare Stunden;Gebuchte Stunden;")
    assert "ecar-enn-1;enn;E-Auto;18,0;4,0;22,2;32,0;20,0;1;1;8,3;2;1" in lines
    assert "ebike-enn-1;enn;E-Bike;24,0;1,0;4,2;0,0;0,0;0;1;;2;1" in lines
    assert "enn;E-Bike;09:00;2;2;4;2;0;2" in lines


def test_usage_is_for_fleet_staff(client: TestClient, tokens: Tokens) -> None:
    assert (
        client.get("/fleet/usage", params=PERIOD, headers=tokens.header("caseworker")).status_code
        == 403
    )
    backwards = client.get(
        "/fleet/usage",
        params={"from": "2026-12-08", "to": "2026-12-07"},
        headers=tokens.header("fleet_manager"),
    )
    assert backwards.status_code == 422
    unknown = client.get(
        "/fleet/usage",
        params={"from": "2026-12-07", "to": "2026-12-08", "site": "nowhere"},
        headers=tokens.header("fleet_manager"),
    )
    assert unknown.status_code == 422
