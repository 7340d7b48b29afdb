"""``fieldwork feeds create|rotate|revoke|list`` as processes; the printed URL opens the
feed through the app on that database, and stops working once rotated or revoked."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from cli_process import run_fieldwork
from fastapi.testclient import TestClient
from session_app import EXAMPLE
from sqlalchemy import Engine

import migrations
from api.main import create_app
from core.settings import Settings


def fieldwork(*args: str | Path, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_fieldwork(
        *args, url=url, cwd=cwd, env={"FIELDWORK_PUBLIC_URL": "https://kalender.example.org"}
    )


def test_feeds_commands(tmp_path: Path, new_database: Callable[[str], Engine]) -> None:
    engine = new_database("feeds_cli")
    migrations.upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)
    assert fieldwork("import", EXAMPLE, url=url, cwd=tmp_path).returncode == 0

    qr = tmp_path / "cw01.png"
    created = fieldwork("feeds", "create", "caseworker", "cw01", "--qr", qr, url=url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    https, webcal = created.stdout.split()
    assert https.startswith("https://kalender.example.org/feeds/fwcal_")
    assert webcal == "webcal://" + https.removeprefix("https://")
    assert qr.read_bytes().startswith(b"\x89PNG")

    again = fieldwork("feeds", "create", "caseworker", "cw01", url=url, cwd=tmp_path)
    assert again.returncode == 2 and "rotate" in again.stderr
    unknown = fieldwork("feeds", "create", "vehicle", "nope", url=url, cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown vehicle nope" in unknown.stderr
    bad_kind = fieldwork("feeds", "create", "household", "H0001", url=url, cwd=tmp_path)
    assert bad_kind.returncode == 2
    bad_qr = fieldwork("feeds", "create", "site", "enn", "--qr", "x.gif", url=url, cwd=tmp_path)
    assert bad_qr.returncode == 2 and ".png or .svg" in bad_qr.stderr

    path = https.removeprefix("https://kalender.example.org")
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get(path).status_code == 200
        rotated = fieldwork("feeds", "rotate", "caseworker", "cw01", url=url, cwd=tmp_path)
        assert rotated.returncode == 0, rotated.stderr
        new_path = rotated.stdout.split()[0].removeprefix("https://kalender.example.org")
        assert client.get(path).status_code == 404
        assert client.get(new_path).status_code == 200

        listed = fieldwork("feeds", "list", url=url, cwd=tmp_path)
        assert listed.returncode == 0 and "cw01" in listed.stdout
        assert new_path.split("/")[-1].removesuffix(".ics") not in listed.stdout

        revoked = fieldwork("feeds", "revoke", "caseworker", "cw01", url=url, cwd=tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        assert client.get(new_path).status_code == 404
    twice = fieldwork("feeds", "revoke", "caseworker", "cw01", url=url, cwd=tmp_path)
    assert twice.returncode == 2 and "no active token" in twice.stderr
    no_push = fieldwork("feeds", "push", "cw01", url=url, cwd=tmp_path)
    assert no_push.returncode == 2 and "no CalDAV calendar" in no_push.stderr
    everyone = fieldwork("feeds", "push", "--all", url=url, cwd=tmp_path)
    assert everyone.returncode == 0 and "No caseworker has a CalDAV calendar" in everyone.stdout
    neither = fieldwork("feeds", "push", url=url, cwd=tmp_path)
    assert neither.returncode == 2 and "--all" in neither.stderr
