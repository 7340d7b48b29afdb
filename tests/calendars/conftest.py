"""Calendar feed fixtures: the demo week's records, users of every role, and published
plans written as rows (a plan per call, with tours, appointments and bookings), on
SQLite and PostgreSQL (``engine``/``session`` from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from feed_helpers import Planner
from session_app import Tokens, app_on_session, import_example, role_tokens
from sqlalchemy.orm import Session

from core.settings import Settings


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
        client = TestClient(app_on_session(session, settings.model_copy(update=changes)))
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
    import_example(session)


@pytest.fixture
def tokens(session: Session, example: None) -> Tokens:
    return Tokens(**role_tokens(session))


@pytest.fixture
def planner(session: Session, example: None) -> Planner:
    return Planner(session)
