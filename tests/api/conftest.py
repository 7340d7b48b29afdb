"""The app on the test database: every request uses the test's rolled-back session.

The database fixtures (``engine``, ``session``, SQLite and PostgreSQL) come from
``tests/conftest.py``; here the app's session dependency is overridden with the test's
session, and users of every role get a token (helpers shared with tests/calendars and
tests/reports in ``tests/session_app.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from session_app import EXAMPLE as EXAMPLE
from session_app import Tokens, app_on_session, import_example, role_tokens
from sqlalchemy.orm import Session

from core.settings import Settings


@pytest.fixture
def app(session: Session, tmp_path: Path) -> FastAPI:
    return app_on_session(session, Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def example(session: Session) -> None:
    """The Ennigerloh/Everswinkel demo week in the database."""
    import_example(session)


@pytest.fixture
def tokens(session: Session, example: None) -> Tokens:
    return Tokens(**role_tokens(session))
