"""Helpers of the web tests: sign in, read a page's CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
