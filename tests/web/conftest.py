"""The web pages on the test database, through FastAPI's TestClient.

Like ``tests/api``: the app's session dependency is the test's rolled-back session
(SQLite and PostgreSQL, from ``tests/conftest.py``), the demo week is imported, and a
user of every role exists, with a password and a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from session_app import DEMO_NOW
from sqlalchemy.orm import Session
from web_helpers import People, password

from api.auth import add_user, create_token, set_password
from api.deps import get_session
from api.main import create_app
from api.routers.plans import run_clock
from api.web.config import WebSettings
from core.settings import Settings
from scheduler.models import Role
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(secret_key="test-secret-key-0123456789")


@pytest.fixture
def app(session: Session, tmp_path: Path, web_settings: WebSettings) -> FastAPI:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    app.state.web.settings = web_settings

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    app.dependency_overrides[run_clock] = lambda: DEMO_NOW
    return app


@pytest.fixture
def people(session: Session) -> People:
    """The demo week and a user of every role (name = role, cw01 and cw02 caseworkers)."""
    scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
    import_scenario(session=session, scenario=scenario, actor="test")
    users: tuple[tuple[str, Role, str | None], ...] = (
        ("admin", "admin", None),
        ("coordinator", "coordinator", None),
        ("cw01", "caseworker", "cw01"),
        ("cw02", "caseworker", "cw02"),
        ("fleet", "fleet_manager", None),
    )
    tokens = {}
    for name, role, caseworker in users:
        add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="test")
        set_password(session=session, user_name=name, password=password(name), actor="test")
        tokens[name] = create_token(session=session, user_name=name, actor="test")[1]
    return People(tokens=tokens)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client
