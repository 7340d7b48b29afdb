"""Fixtures of the report tests: the hand-built month (``report_month.py``), the app on
the test's session and tokens of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from report_month import Month, Tokens, build_month
from session_app import app_on_session, role_tokens
from sqlalchemy.orm import Session

from core.settings import Settings


@pytest.fixture
def month(session: Session) -> Month:
    return build_month(session)


@pytest.fixture
def client(session: Session, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test's rolled-back session (as in tests/api)."""
    app = app_on_session(session, Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tokens(session: Session, month: Month) -> Tokens:
    return Tokens(role_tokens(session, prefix="report"))
