"""``fieldwork users passwd`` as a real process, on SQLite and PostgreSQL: the password
set opens the web pages, a short one or an unknown user is one line and exit 2, and
``--remove`` leaves sign-in by token only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_process import run_fieldwork as fieldwork
from sqlalchemy import Engine

import migrations
from api.auth import user_for_password
from core.db import create_session_factory


def test_users_passwd(tmp_path: Path, new_database: Callable[[str], Engine]) -> None:
    engine = new_database("passwd")
    migrations.upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)
    added = fieldwork(
        "users", "add", "koordination", "--role", "coordinator", url=url, cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr

    short = fieldwork(
        "users", "passwd", "koordination", "--stdin", url=url, cwd=tmp_path, stdin="kurz\n"
    )
    assert short.returncode == 2
    assert len(short.stderr.strip().splitlines()) == 1 and "10" in short.stderr
    unknown = fieldwork(
        "users", "passwd", "niemand", "--stdin", url=url, cwd=tmp_path, stdin="lang-genug-123\n"
    )
    assert unknown.returncode == 2 and "unknown user niemand" in unknown.stderr

    done = fieldwork(
        "users",
        "passwd",
        "koordination",
        "--stdin",
        url=url,
        cwd=tmp_path,
        stdin="ein langes Passwort\n",
    )
    assert done.returncode == 0 and "Password of koordination set" in done.stdout
    assert "ein langes Passwort" not in done.stdout + done.stderr
    sessions = create_session_factory(engine)
    with sessions() as session:
        user = user_for_password(
            session=session, name="koordination", password="ein langes Passwort"
        )
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("scrypt$32768$8$1$")
        assert "ein langes" not in user.password_hash
        assert user_for_password(session=session, name="koordination", password="falsch") is None

    removed = fieldwork("users", "passwd", "koordination", "--remove", url=url, cwd=tmp_path)
    assert removed.returncode == 0
    with sessions() as session:
        assert (
            user_for_password(session=session, name="koordination", password="ein langes Passwort")
            is None
        )
