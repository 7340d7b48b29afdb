"""The app on the test database: every request uses the test's rolled-back session.

The database fixtures (``engine``, ``session``, SQLite and PostgreSQL) come from
``tests/conftest.py``; here the app's session dependency is overridden with the test's
session, and users of every role get a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.auth import add_user, create_token
from api.deps import get_session
from api.main import create_app
from core.settings import Settings
from scheduler.models import Role
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
WEEK = "2026-11-30"


@dataclass(frozen=True)
class Tokens:
    admin: str
    coordinator: str
    caseworker: str  # cw01
    fleet_manager: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def app(session: Session, tmp_path: Path) -> FastAPI:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def example(session: Session) -> None:
    """The Ennigerloh/Everswinkel demo week in the database."""
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
            session=session,
            name=f"test-{role}",
            role=role,
            caseworker_key=caseworker,
            actor="test",
        )
        made[role] = create_token(session=session, user_name=f"test-{role}", actor="test")[1]
    return Tokens(**made)
