"""Helpers of the web tests: sign in, read a page's CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from scheduler.format import Scenario
from scheduler.validation import load_scenario
from scheduler.weeks import moved_to_week

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password(name: str) -> str:
    return f"passwort-{name}-123"


@dataclass(frozen=True)
class People:
    tokens: dict[str, str]


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, name: str) -> None:
    token = csrf_of(client, "/web/signin")
    answer = client.post(
        "/web/signin",
        data={"csrf_token": token, "name": name, "password": password(name), "next": "/web/"},
    )
    assert answer.status_code == 303, answer.text


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ennigerloh-everswinkel.scenario.json"


def last_week() -> date:
    """Monday of the week before this one: its tours are over, so they can be confirmed."""
    today = date.today()
    return today - timedelta(days=today.weekday() + 7)


def next_week() -> date:
    """Monday of the week after this one: nothing of it has happened, so it can be
    planned and re-planned whole."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def demo_week(monday: date) -> Scenario:
    """The demo scenario moved by whole weeks to start on ``monday`` (weekdays stay),
    as ``fieldwork import --week`` moves it."""
    return moved_to_week(load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE)), monday)
