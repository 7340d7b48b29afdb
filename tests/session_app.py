"""The app on a test's rolled-back session, the demo week and users of every role with
tokens: shared by the fixtures of tests/api, tests/calendars and tests/reports.

A uniquely named module (``tests/`` is on the import path through ``tests/conftest.py``,
and every test folder has a ``conftest`` of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session

from api.auth import add_user, create_token
from api.deps import get_session
from api.main import create_app
from api.routers.plans import run_clock
from core.settings import Settings
from scheduler.models import Role
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
#: The demo week's Monday.
WEEK = "2026-11-30"
#: The run clock of the tests' apps: a week before the demo week (2026-11-30).
DEMO_NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)

#: One user of every role; the caseworker is the demo week's cw01.
ROLE_USERS: tuple[tuple[Role, str | None], ...] = (
    ("admin", None),
    ("coordinator", None),
    ("caseworker", "cw01"),
    ("fleet_manager", None),
)


@dataclass(frozen=True)
class Tokens:
    admin: str
    coordinator: str
    caseworker: str  # cw01
    fleet_manager: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def app_on_session(session: Session, settings: Settings) -> FastAPI:
    """The app with these settings, every request on the test's session (so what a
    request writes is rolled back with the test)."""
    app = create_app(settings)

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    # Runs are queued "now" as the Monday before the demo week, whatever the date: a
    # re-plan of the demo week keeps nothing as past, on any day the suite runs.
    app.dependency_overrides[run_clock] = lambda: DEMO_NOW
    return app


def import_example(session: Session) -> None:
    """The Ennigerloh/Everswinkel demo week in the database."""
    scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
    import_scenario(session=session, scenario=scenario, actor="test")


def role_tokens(session: Session, prefix: str = "test") -> dict[str, str]:
    """A user named ``{prefix}-{role}`` of every role, and a token of each, by role."""
    made: dict[str, str] = {}
    for role, caseworker in ROLE_USERS:
        name = f"{prefix}-{role}"
        add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="test")
        made[role] = create_token(session=session, user_name=name, actor="test")[1]
    return made
