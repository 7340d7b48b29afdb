"""``fieldwork import-csv`` and ``export-csv`` as processes on SQLite and PostgreSQL: a
German Excel file imports, a file with bad rows exits 2 with a one-line summary and the
row report on stderr and writes nothing, the export imports again unchanged, and with
``FIELDWORK_GEOCODER=nominatim`` addresses are geocoded once (a second run asks the fake
Nominatim nothing)."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

from cli_process import run_fieldwork as fieldwork
from fake_nominatim import fake_nominatim
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import migrations
from scheduler.models import Caseworker, Household
from scheduler.service import import_scenario
from scheduler.validation import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Household)) or 0,
            session.scalar(select(func.count()).select_from(Caseworker)) or 0,
        )


def database(new_database: Callable[[str], Engine], tmp_path: Path) -> tuple[Engine, str]:
    engine = new_database("csv_cli")
    migrations.upgrade(engine)
    with Session(engine) as session:
        scenario = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
        import_scenario(session=session, scenario=scenario, actor="test")
    return engine, engine.url.render_as_string(hide_password=False)


def test_import_csv_and_export_csv(tmp_path: Path, new_database: Callable[[str], Engine]) -> None:
    engine, url = database(new_database, tmp_path)
    before = counts(engine)

    bad = fieldwork("import-csv", "households", DATA / "households-bad.csv", url=url, cwd=tmp_path)
    assert bad.returncode == 2
    lines = bad.stderr.splitlines()
    assert lines[0] == (
        f"{DATA / 'households-bad.csv'}: 7 fehlerhafte Zeile(n), nichts wurde importiert "
        "(9 Problem(e))"
    )
    assert (
        f"{DATA / 'households-bad.csv'}: Zeile 3, Breitengrad: 95,5 liegt nicht zwischen -90 und 90"
        in lines
    )
    assert len(lines) == 10
    assert counts(engine) == before

    good = fieldwork("import-csv", "households", DATA / "households.csv", url=url, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "3 Haushalte neu, 1 aktualisiert" in good.stdout
    assert "Nicht übernommene Spalten: Bemerkung" in good.stderr
    staff = fieldwork("import-csv", "caseworkers", DATA / "caseworkers.csv", url=url, cwd=tmp_path)
    assert staff.returncode == 0, staff.stderr
    assert "2 Fachkräfte neu, 1 aktualisiert" in staff.stdout
    assert counts(engine) == (before[0] + 3, before[1] + 2)

    exported = fieldwork("export-csv", "households", "-o", "haushalte.csv", url=url, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    data = (tmp_path / "haushalte.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and b"\r\nH0101;enn;51,8402;8,0255;" in data
    again = fieldwork("import-csv", "households", "haushalte.csv", url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"0 Haushalte neu, {before[0] + 3} aktualisiert" in again.stdout
    assert counts(engine) == (before[0] + 3, before[1] + 2)

    missing = fieldwork("import-csv", "households", "nowhere.csv", url=url, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip() == "nowhere.csv: no such file"


def test_import_csv_geocodes_addresses_once(
    tmp_path: Path, new_database: Callable[[str], Engine]
) -> None:
    engine, url = database(new_database, tmp_path)
    csv = tmp_path / "adressen.csv"
    csv.write_text(
        "Pseudonym;Hauptfachkraft;Adresse\n"
        "H0901;cw01;Hauptstraße 1, 59320 Ennigerloh\n"
        "H0902;cw02;Am Markt 5, 48351 Everswinkel\n",
        encoding="utf-8-sig",
    )
    offline = fieldwork("import-csv", "households", csv, url=url, cwd=tmp_path)
    assert offline.returncode == 2
    assert "Zeile 2, Breitengrad: Breitengrad/Längengrad fehlen; Geokodierung ist nicht " in (
        offline.stderr
    )
    with fake_nominatim() as nominatim:
        env = {"FIELDWORK_GEOCODER": "nominatim", "FIELDWORK_NOMINATIM_URL": nominatim.url}
        first = fieldwork("import-csv", "households", csv, url=url, cwd=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        assert "Adressen geokodiert: 2 angefragt, 0 aus dem Cache" in first.stdout
        assert len(nominatim.requests) == 2 and min(nominatim.gaps()) >= 0.95
        # Other households at the same addresses: answered from the database's cache.
        csv.write_text(csv.read_text(encoding="utf-8-sig").replace("H090", "H091"))
        second = fieldwork("import-csv", "households", csv, url=url, cwd=tmp_path, env=env)
        assert second.returncode == 0, second.stderr
        assert "Adressen geokodiert: 0 angefragt, 2 aus dem Cache" in second.stdout
        assert len(nominatim.requests) == 2
    with Session(engine) as session:
        located = session.scalars(
            select(Household).where(Household.pseudonym.in_(["H0901", "H0911"]))
        ).all()
        assert {(h.lat, h.lon) for h in located} == {(51.83671, 8.03112)}
