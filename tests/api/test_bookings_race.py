"""The booking race against a real server and database (SQLite file, PostgreSQL).

Sixty threads ask a uvicorn server for the same vehicle slot at the same moment: exactly
one gets 201, every other one 409, and the database holds exactly one booking. Then
sixty threads book sixty different slots of one vehicle at once: all get 201 and all
sixty bookings are there (queued writers wait their turn; nothing is lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from live_server import serve
from session_app import EXAMPLE
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import migrations
from api.auth import add_user, create_token
from api.main import create_app
from core.settings import Settings
from fleet.models import BookingRefusal, Vehicle, VehicleBooking
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

CONTENDERS = 60


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    engine: Engine


@pytest.fixture
def server(new_database: Callable[[str], Engine]) -> Iterator[Server]:
    engine = new_database("race")
    migrations.upgrade(engine)
    with Session(engine) as session:
        scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
        import_scenario(session=session, scenario=scenario, actor="test")
        add_user(session=session, name="race", role="coordinator", caseworker_key=None, actor="t")
        token = create_token(session=session, user_name="race", actor="test")[1]
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url))
    with serve(app) as base:
        yield Server(url=base, token=token, engine=engine)


def _race(server: Server, bodies: list[dict[str, object]]) -> list[int]:
    """Post every body at once (a barrier releases all threads together)."""
    barrier = threading.Barrier(len(bodies))
    headers = {"Authorization": f"Bearer {server.token}"}

    def post(body: dict[str, object]) -> int:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            barrier.wait()
            return client.post("/bookings", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _active(server: Server, key: str) -> int:
    with Session(server.engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(VehicleBooking)
                .join(Vehicle, Vehicle.id == VehicleBooking.vehicle_id)
                .where(Vehicle.key == key, VehicleBooking.status == "active")
            )
            or 0
        )


def test_many_contenders_for_one_slot(server: Server) -> None:
    body = {
        "vehicle": "ecar-enn-1",
        "start": "2026-12-07T09:00:00+01:00",
        "end": "2026-12-07T11:00:00+01:00",
        "km_planned": 30,
    }
    statuses = _race(server, [body] * CONTENDERS)
    assert sorted(statuses) == [201] + [409] * (CONTENDERS - 1)
    assert _active(server, "ecar-enn-1") == 1
    # ecar-enn-1 is the only e-car of its site: each loser is unmet demand.
    with Session(server.engine) as session:
        refused = session.scalar(select(func.count()).select_from(BookingRefusal))
    assert refused == CONTENDERS - 1


def test_many_writers_at_once_lose_nothing(server: Server) -> None:
    start = datetime.fromisoformat("2026-12-08T06:00:00+01:00")
    bodies: list[dict[str, object]] = [
        {
            "vehicle": "ebike-enn-1",
            "start": (start + timedelta(minutes=10 * index)).isoformat(),
            "end": (start + timedelta(minutes=10 * index + 10)).isoformat(),
        }
        for index in range(CONTENDERS)
    ]
    statuses = _race(server, bodies)
    assert statuses == [201] * CONTENDERS
    assert _active(server, "ebike-enn-1") == CONTENDERS
