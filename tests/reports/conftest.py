"""Fixtures of the report tests: the hand-built month (``report_month.py``), the app on
the test's session and tokens of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from report_month import Month, Tokens, build_month
from sqlalchemy.orm import Session

from api.auth import add_user, create_token
from api.deps import get_session
from api.main import create_app
from core.settings import Settings
from scheduler.models import Role


@pytest.fixture
def month(session: Session) -> Month:
    return build_month(session)


@pytest.fixture
def client(session: Session, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test's rolled-back session (as in tests/api)."""
    app: FastAPI = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tokens(session: Session, month: Month) -> Tokens:
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
            name=f"report-{role}",
            role=role,
            caseworker_key=caseworker,
            actor="test",
        )
        made[role] = create_token(session=session, user_name=f"report-{role}", actor="test")[1]
    return Tokens(made)
