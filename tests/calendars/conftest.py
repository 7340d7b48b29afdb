"""Calendar feed fixtures: the demo week's records, users of every role, and published
plans written as rows (a plan per call, with tours, appointments and bookings), on
SQLite and PostgreSQL (``engine``/``session`` from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from feed_helpers import EXAMPLE, Planner, Tokens
from sqlalchemy.orm import Session

from api.auth import add_user, create_token
from api.deps import get_session
from api.main import create_app
from core.settings import Settings
from scheduler.models import Role
from scheduler.service import import_scenario
from scheduler.validation import load_scenario


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}", public_url="https://fw.example"
    )


@pytest.fixture
def make_client(session: Session, settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """A client of an app with these settings changes (``calendar_language="en"``)."""
    clients: list[TestClient] = []

    def make(**changes: object) -> TestClient:
        app: FastAPI = create_app(settings.model_copy(update=changes))

        def test_session() -> Iterator[Session]:
            yield session

        app.dependency_overrides[get_session] = test_session
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def example(session: Session) -> None:
    scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
    import_scenario(session=session, scenario=scenario, actor="test")


@pytest.fixture
def tokens(session: Session, example: None) -> Tokens:
    made: dict[str, str] = {}
    users: tuple[tuple[Role, str | None], ...] = (
        ("admin", None),
        ("coordinator", None),
        ("caseworker", "cw01"),
        ("fleet_manager", None),
    )
    for role, caseworker in users:
        add_user(
            session=session, name=f"test-{role}", role=role, caseworker_key=caseworker, actor="test"
        )
        made[role] = create_token(session=session, user_name=f"test-{role}", actor="test")[1]
    return Tokens(**made)


@pytest.fixture
def planner(session: Session, example: None) -> Planner:
    return Planner(session)
