"""Noting a visit's documentation twice at once, against a real server and database
(SQLite file, PostgreSQL): twenty threads post the same note for the same appointment
at the same moment; exactly one gets 201, every other one 409, and the database holds
each kind once and counts each paperless step once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from documentation_helpers import appointments
from live_server import serve
from session_app import EXAMPLE
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import migrations
from api.auth import add_user, create_token
from api.main import create_app
from core.paperless import PaperlessEvent
from core.settings import Settings
from scheduler.models import VisitDocumentation
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

CONTENDERS = 20


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    engine: Engine
    appointment_id: int


@pytest.fixture
def server(new_database: Callable[[str], Engine]) -> Iterator[Server]:
    engine = new_database("documentation_race")
    migrations.upgrade(engine)
    with Session(engine) as session:
        scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
        import_scenario(session=session, scenario=scenario, actor="test")
        add_user(session=session, name="cw01", role="caseworker", caseworker_key="cw01", actor="t")
        token = create_token(session=session, user_name="cw01", actor="test")[1]
        appointment_id = appointments(session).own.id
        session.commit()
    app = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False)))
    with serve(app) as base:
        yield Server(url=base, token=token, engine=engine, appointment_id=appointment_id)


def test_the_same_note_at_once_is_written_once(server: Server) -> None:
    barrier = threading.Barrier(CONTENDERS)
    headers = {"Authorization": f"Bearer {server.token}"}
    path = f"/appointments/{server.appointment_id}/documentation"

    def post(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            barrier.wait()
            body = {"visit_record": True, "consent": True}
            return client.post(path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        statuses = list(pool.map(post, range(CONTENDERS)))
    assert sorted(statuses) == [201] + [409] * (CONTENDERS - 1)
    with Session(server.engine) as session:
        notes = session.scalars(select(VisitDocumentation.kind).order_by(VisitDocumentation.kind))
        assert list(notes) == ["consent", "visit_record"]
        steps = session.scalar(select(func.count()).select_from(PaperlessEvent))
    assert steps == 2
