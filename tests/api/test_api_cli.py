"""``fieldwork users add``, ``tokens create`` and ``tokens revoke`` as real processes;
the token printed once opens the API on that database, and works no more once revoked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_process import run_fieldwork as fieldwork
from fastapi.testclient import TestClient
from session_app import EXAMPLE
from sqlalchemy import Engine, select

import migrations
from api.main import create_app
from core.db import create_session_factory
from core.settings import Settings
from scheduler.models import ApiToken


def test_users_and_tokens(tmp_path: Path, new_database: Callable[[str], Engine]) -> None:
    engine = new_database("cli")
    migrations.upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)
    assert fieldwork("import", EXAMPLE, url=url, cwd=tmp_path).returncode == 0

    no_caseworker = fieldwork("users", "add", "anna", "--role", "caseworker", url=url, cwd=tmp_path)
    assert no_caseworker.returncode == 2 and "--caseworker" in no_caseworker.stderr
    added = fieldwork(
        "users",
        "add",
        "anna",
        "--role",
        "caseworker",
        "--caseworker",
        "cw01",
        url=url,
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    again = fieldwork("users", "add", "anna", "--role", "coordinator", url=url, cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr

    created = fieldwork("tokens", "create", "anna", url=url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("fw_") and len(token) >= 40
    with create_session_factory(engine)() as session:
        assert token not in session.scalars(select(ApiToken.token_hash)).all()

    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        households = client.get("/households", headers=auth)
        assert households.status_code == 200
        assert households.json()["total"] >= 1
        revoked = fieldwork("tokens", "revoke", "anna", url=url, cwd=tmp_path)
        assert revoked.returncode == 0 and "Revoked tokens of anna: 1" in revoked.stdout
        assert client.get("/households", headers=auth).status_code == 401
    unknown = fieldwork("tokens", "create", "nobody", url=url, cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown user nobody" in unknown.stderr
