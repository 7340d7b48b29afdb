"""Helpers of the web tests: sign in, read a page's CSRF token."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

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
EXAMPLE_WEEK = date(2026, 11, 30)
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def last_week() -> date:
    """Monday of the week before this one: its tours are over, so they can be confirmed."""
    today = date.today()
    return today - timedelta(days=today.weekday() + 7)


def next_week() -> date:
    """Monday of the week after this one: nothing of it has happened, so it can be
    planned and re-planned whole."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def shifted_example(monday: date) -> bytes:
    """The demo scenario moved by whole weeks to start on ``monday`` (weekdays stay)."""
    delta = monday - EXAMPLE_WEEK

    def shift(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shift(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shift(item) for item in value]
        if isinstance(value, str) and (match := _DATE.match(value)):
            moved = date.fromisoformat(match.group(1)) + delta
            return moved.isoformat() + value[10:]
        return value

    return json.dumps(shift(json.loads(EXAMPLE.read_bytes()))).encode()
