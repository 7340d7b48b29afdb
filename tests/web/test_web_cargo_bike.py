"""The caseworker's booking page offers cargo bikes ("Lastenrad") and books one."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_helpers import CSRF, demo_week, last_week, password, sign_in

from api.auth import add_user, set_password
from fleet.models import Vehicle, VehicleBooking
from scheduler.models import Site
from scheduler.service import import_scenario


def test_a_caseworker_books_a_cargo_bike(client: TestClient, session: Session) -> None:
    scenario = demo_week(last_week())
    import_scenario(session=session, scenario=scenario, actor="test")
    add_user(session=session, name="cw01", role="caseworker", caseworker_key="cw01", actor="t")
    set_password(session=session, user_name="cw01", password=password("cw01"), actor="t")
    site = session.scalars(select(Site).where(Site.key == "enn")).one()
    session.add(Vehicle(key="cargo-enn-1", site_id=site.id, kind="cargo_bike", range_km=40))
    session.commit()

    sign_in(client, "cw01")
    page = client.get("/web/me/book")
    assert 'value="cargo_bike"' in page.text and "Lastenrad" in page.text
    match = CSRF.search(page.text)
    assert match is not None
    search = {
        "csrf_token": match.group(1),
        "date": (date.today() + timedelta(days=1)).isoformat(),
        "start": "09:00",
        "end": "11:00",
        "km": "6",
        "kind": "cargo_bike",
        "purpose": "Möbel für Familie",
    }
    found = client.post("/web/me/book", data=search)
    assert found.status_code == 200
    assert "cargo-enn-1" in found.text and "Lastenrad" in found.text
    assert "ebike-enn-1" not in found.text
    bike = session.scalars(select(Vehicle).where(Vehicle.key == "cargo-enn-1")).one()
    booked = client.post(
        "/web/me/bookings",
        data={
            "csrf_token": match.group(1),
            "vehicle": str(bike.id),
            "start": f"{search['date']}T09:00:00+01:00",
            "end": f"{search['date']}T11:00:00+01:00",
            "km": "6",
        },
    )
    assert booked.status_code == 303, booked.text
    session.expire_all()
    assert session.scalars(select(VehicleBooking).where(VehicleBooking.vehicle_id == bike.id)).one()
