"""``fieldwork db upgrade``, ``import`` and ``export`` as real processes, on a fresh
database of each kind named by FIELDWORK_DATABASE_URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_process import run_fieldwork as fieldwork
from scenario_documents import EXAMPLE, normalised, read
from sqlalchemy import Engine

import migrations
from scheduler.validation import load_scenario


@pytest.fixture
def database_url(new_database: Callable[[str], Engine]) -> str:
    """An empty database."""
    return new_database("cli").url.render_as_string(hide_password=False)


@pytest.fixture
def migrated_url(new_database: Callable[[str], Engine]) -> str:
    """A database at the newest revision (migrated in-process: each CLI run costs a second)."""
    engine = new_database("cli")
    migrations.upgrade(engine)
    return engine.url.render_as_string(hide_password=False)


def test_upgrade_import_export(tmp_path: Path, database_url: str) -> None:
    upgraded = fieldwork("db", "upgrade", url=database_url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "migrated from empty to revision" in upgraded.stdout
    again = fieldwork("db", "upgrade", url=database_url, cwd=tmp_path)
    assert again.returncode == 0 and "already at revision" in again.stdout

    imported = fieldwork("import", EXAMPLE, url=database_url, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "households 30 new, 0 updated" in imported.stdout
    assert "visits 35 new, 0 updated" in imported.stdout

    exported = fieldwork(
        "export",
        "--week",
        "2026-11-30",
        "-o",
        tmp_path / "week.json",
        url=database_url,
        cwd=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr
    scenario = load_scenario((tmp_path / "week.json").read_bytes())
    assert normalised(scenario) == normalised(read(EXAMPLE))

    enn = fieldwork(
        "export", "--week", "2026-11-30", "--site", "enn", url=database_url, cwd=tmp_path
    )
    assert enn.returncode == 0, enn.stderr
    assert [site["id"] for site in json.loads(enn.stdout)["sites"]] == ["enn"]

    unknown = fieldwork(
        "export", "--week", "2026-11-30", "--site", "nowhere", url=database_url, cwd=tmp_path
    )
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [f"{database_url}: unknown site(s): nowhere"]

    reimported = fieldwork("import", tmp_path / "week.json", url=database_url, cwd=tmp_path)
    assert reimported.returncode == 0, reimported.stderr
    assert "households 0 new, 30 updated" in reimported.stdout


def test_commands_need_a_migrated_database(tmp_path: Path, database_url: str) -> None:
    result = fieldwork("import", EXAMPLE, url=database_url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{database_url}: the database has no tables yet; run `fieldwork db upgrade`"
    ]


def test_bad_scenario_is_reported_per_problem_and_writes_nothing(
    tmp_path: Path, migrated_url: str
) -> None:
    database_url = migrated_url
    document = json.loads(EXAMPLE.read_text("utf-8"))
    document["visits"][0]["durration_minutes"] = 30
    document["visits"][-1]["household"] = "H9999"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")

    result = fieldwork("import", broken, url=database_url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{broken}: $.visits[0].durration_minutes: unknown field 'durration_minutes' "
        "(did you mean 'duration_minutes'?)",
        f"{broken}: $.visits[{len(document['visits']) - 1}].household: unknown household 'H9999'",
    ]
    nothing = fieldwork("export", "--week", "2026-11-30", url=database_url, cwd=tmp_path)
    assert nothing.returncode == 2
    assert "no planning week starts on 2026-11-30" in nothing.stderr


def test_unsupported_database_url(tmp_path: Path) -> None:
    result = fieldwork("db", "upgrade", url="mysql://u@localhost/fieldwork", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("FIELDWORK_DATABASE_URL: mysql: unsupported database")
