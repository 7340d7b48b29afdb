"""The report as a funder receives it: CSV for German Excel, the PDF (rendered, its text
extracted with pypdf and checked), the HTTP API by role, and ``fieldwork report`` as a
process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from cli_process import run_fieldwork
from fastapi.testclient import TestClient
from pypdf import PdfReader
from report_month import Month, Tokens, build_month
from sqlalchemy import select
from sqlalchemy.orm import Session

import migrations
from core.audit import AuditEvent
from core.db import create_engine_for
from reports import export_pdf
from reports.export_csv import render_csv
from reports.export_pdf import render_pdf
from reports.periods import Period
from reports.sustainability import ReportOptions, sustainability_report

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
ROOT = Path(__file__).resolve().parents[2]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def csv_blocks(data: bytes) -> dict[str, list[list[str]]]:
    """The CSV's blocks by title: each a header row and its rows."""
    text = data.decode("utf-8-sig")
    blocks: dict[str, list[list[str]]] = {}
    title: str | None = None
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        if not row:
            title = None
        elif title is None:
            title = row[0]
            blocks[title] = []
        else:
            blocks[title].append(row)
    return blocks


def test_csv_for_german_excel(session: Session, month: Month) -> None:
    report = sustainability_report(session=session, options=ReportOptions(period=NOVEMBER))
    data = render_csv(report)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the umlauts
    assert b"\r\n" in data and "ä".encode() in data
    blocks = csv_blocks(data)
    assert list(blocks) == [
        "Nachhaltigkeitsbericht Mobilität und Papier",
        "Nach Verkehrsmittel",
        "Nach Scope (GHG Protocol)",
        "Geplant und bestätigt",
        "E-Fahrzeuge",
        "Papier vermieden",
        "Faktoren (Satz uba, Faktordatei 2026.2)",
        "Methode",
        "Fahrtenbuch",
    ]
    figures = {row[0]: row[1:] for row in blocks["Nachhaltigkeitsbericht Mobilität und Papier"]}
    assert figures["Zeitraum"] == ["November 2026", ""]
    assert figures["Von"][0] == "01.11.2026"
    assert figures["CO2e gesamt"] == ["24,502", "kg"]
    assert figures["Strecke"] == ["138,700", "km"]
    assert figures["Vermiedene CO2e (getrennt, nicht verrechnet)"] == ["6,289", "kg"]
    assert figures["Energie E-Fahrzeuge"] == ["4,385", "kWh"]
    modes = {row[0]: row for row in blocks["Nach Verkehrsmittel"][1:]}
    assert modes["E-Auto"][5] == "1,574"
    log = blocks["Fahrtenbuch"]
    assert log[0][:3] == ["Beleg", "Datum", "Mitarbeitende"]
    assert len(log) == 1 + 7
    assert {row[2] for row in log[1:]} == {"MA-01", "MA-02", "MA-03"}
    assert all("." not in row[9] for row in log[1:])  # decimal commas, no points
    assert "cw01" not in data.decode("utf-8-sig")


def test_pdf_text(session: Session, month: Month) -> None:
    report = sustainability_report(session=session, options=ReportOptions(period=NOVEMBER))
    data = render_pdf(report)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 4
    assert reader.metadata is not None and "November 2026" in str(reader.metadata.title)
    first = reader.pages[0].extract_text()
    assert "Nachhaltigkeitsbericht Mobilität und Papier" in first
    assert "Gesamtes Programm · November 2026 (01.11.2026 bis 30.11.2026)" in first
    assert "24,502 kg" in first  # CO2e, to the gram
    assert "6,289 kg" in first  # avoided, apart
    assert "25,6 % (35,5 km)" in first  # low-emission share
    assert "2,974 kg (6 Hausbesuche)" in first
    assert "17,4 Blatt" in first
    assert "Diagramme" in first
    assert len(reader.pages[0].images) == 2  # the two charts
    text = pdf_text(data)
    for expected in (
        "Nach Verkehrsmittel",
        "Scope 1: Kraftstoff der Dienstwagen",
        "Scope 2: Strom der E-Fahrzeuge",
        "Scope 3 Kat. 6",
        "Geplant und bestätigt",
        "Auslastung der E-Fahrzeuge",
        "ecar-enn-1",
        "Papier vermieden",
        "Verwendete Faktoren und Quellen",
        "Umweltbundesamt",
        "Climate Change 13/2025",
        "nicht geprüft",
        "Methode",
        "Anhang: Fahrtenbuch",
        "MA-01",
        "Seite 1 von",
    ):
        assert expected in text, expected
    assert "cw01" not in text and "Name cw" not in text


def test_api_json_by_role(client: TestClient, tokens: Tokens, session: Session) -> None:
    url = "/reports/sustainability?from=2026-11-01&to=2026-11-30"
    for role in ("admin", "coordinator", "fleet_manager"):
        response = client.get(url, headers=tokens.header(role))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["period"] == {
            "from": "2026-11-01",
            "to": "2026-11-30",
            "label": "November 2026",
            "days": 30,
        }
        assert body["totals"]["co2e_kg"] == 24.502
        assert body["totals"]["avoided_co2e_kg"] == 6.289
        assert body["factors"]["set"] == "uba"
    assert client.get(url, headers=tokens.header("caseworker")).status_code == 403
    assert client.get(url).status_code == 401
    # Every report is an audited export.
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "sustainability_report")
    ).all()
    assert len(events) == 3
    assert events[0].entity_id == "2026-11-01..2026-11-30" and events[0].action == "export"


def test_api_period_site_and_formats(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.header("coordinator")
    quarter = client.get("/reports/sustainability?period=2026-Q4&site=evb", headers=headers)
    assert quarter.status_code == 200
    assert quarter.json()["period"]["label"] == "4. Quartal 2026"
    assert quarter.json()["site"] == "evb"
    # The quarter holds T4 (November) only at Everswinkel.
    assert quarter.json()["totals"]["trips"] == 1
    csv_response = client.get("/reports/sustainability?period=2026-11&format=csv", headers=headers)
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert (
        'filename="nachhaltigkeit_20261101-20261130.csv"'
        in csv_response.headers["content-disposition"]
    )
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    pdf_response = client.get(
        "/reports/sustainability?period=2026-11&format=pdf&factor_set=desnz", headers=headers
    )
    assert pdf_response.status_code == 200
    assert pdf_response.headers["content-type"] == "application/pdf"
    assert "UK DESNZ 2024 (nur Auspuff)" in pdf_text(pdf_response.content)


@pytest.mark.parametrize(
    ("query", "path", "message"),
    [
        ("", "query.from", "from (a date, YYYY-MM-DD) or period is required"),
        ("from=2026-11-01", "query.to", "or period is required"),
        ("from=2026-11-30&to=2026-11-01", "query.to", "ends (2026-11-01) before it starts"),
        ("period=2026-13", "query.period", "is not a period"),
        ("period=2026-11&from=2026-11-01", "query.period", "not both"),
        ("from=2026-11-01&to=2026-11-31", "query.to", ""),
        ("period=2026-11&site=nowhere", "query.site", "unknown site 'nowhere'"),
        ("period=2026-11&factor_set=ipcc", "query.factor_set", "unknown factor set 'ipcc'"),
        ("period=2026-11&baseline=rocket", "query.baseline", "unknown baseline mode"),
        ("period=2019", "query.period", "first reference year is 2023"),
        ("from=2019-01-01&to=2019-02-01", "query.from", "first reference year is 2023"),
        ("period=2026-11&format=docx", "query.format", ""),
    ],
)
def test_api_bad_requests(
    client: TestClient, tokens: Tokens, query: str, path: str, message: str
) -> None:
    response = client.get(f"/reports/sustainability?{query}", headers=tokens.header("coordinator"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors[0]["path"] == path
    assert message in errors[0]["message"]


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    """A migrated SQLite file holding the month, committed, for the command line."""
    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = create_engine_for(url)
    migrations.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        build_month(session)
        session.commit()
    engine.dispose()
    return url


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_fieldwork("report", *args, url=url, cwd=ROOT)


def test_cli_pdf_csv_json(database_file: str, tmp_path: Path) -> None:
    pdf = tmp_path / "november.pdf"
    done = run(database_file, "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(pdf))
    assert done.returncode == 0, done.stderr
    assert "Nachhaltigkeitsbericht November 2026, Gesamtes Programm: 7 Fahrten" in done.stderr
    assert "24,502 kg" in pdf_text(pdf.read_bytes())

    csv_file = tmp_path / "november.csv"
    done = run(
        database_file,
        "--period",
        "2026-11",
        "--site",
        "enn",
        "--format",
        "csv",
        "-o",
        str(csv_file),
    )
    assert done.returncode == 0, done.stderr
    blocks = csv_blocks(csv_file.read_bytes())
    figures = {row[0]: row[1:] for row in blocks["Nachhaltigkeitsbericht Mobilität und Papier"]}
    assert figures["Standort"][0] == "Ennigerloh"
    assert figures["Fahrten"][0] == "6"

    done = run(database_file, "--period", "2026-11", "--format", "json", "--baseline", "e_car")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["totals"]["baseline_mode"] == "e_car"
    assert body["period"]["from"] == "2026-11-01"


def test_cli_bad_input(database_file: str, tmp_path: Path) -> None:
    cases = [
        (("--period", "2026-13"), "'2026-13' is not a period"),
        (("--from", "2026-11-01"), "--from and --to (or --period) are required"),
        (("--period", "2026-11", "--site", "nowhere"), "--site: unknown site 'nowhere'"),
        (("--period", "2026-11", "--factor-set", "ipcc"), "--factor-set: unknown factor set"),
        (("--period", "2019"), "--period: no 'uba' factors for 2019"),
        (("--period", "2026-11", "--factors", str(tmp_path / "missing.json")), "cannot read"),
    ]
    for args, message in cases:
        done = run(database_file, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_cli_own_factor_file(database_file: str, tmp_path: Path) -> None:
    packaged = json.loads((ROOT / "fleet" / "data" / "emission_factors.json").read_text("utf-8"))
    # A programme that charges its e-car with certified green power at 30 g/kWh.
    packaged["years"]["2024"]["green"] = {
        "label": "Ökostrom",
        "inherits": "uba",
        "grid": {
            **packaged["years"]["2024"]["uba"]["grid"],
            "direct_g_per_kwh": 30,
            "source": "supplier's label",
        },
    }
    own = tmp_path / "factors.json"
    own.write_text(json.dumps(packaged), "utf-8")
    done = run(
        database_file, "--period", "2026-11", "--format", "json", "--factors", str(own),
        "--factor-set", "green",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    modes = {line["mode"]: line for line in body["by_mode"]}
    assert modes["e_car"]["co2e_kg"] == round(25.5 * 17 / 100 * 30 / 1000, 3)
    broken = tmp_path / "broken.json"
    packaged["years"]["2024"]["uba"]["modes"]["car"]["upstream_g_per_km"] = 99
    broken.write_text(json.dumps(packaged), "utf-8")
    done = run(database_file, "--period", "2026-11", "--factors", str(broken))
    assert done.returncode == 2
    assert "years.2024.uba.modes.car" in done.stderr and "tailpipe + upstream" in done.stderr


def test_pdf_of_a_long_period_summarises_the_trip_log(
    session: Session, month: Month, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_pdf, "PDF_TRIP_LINES", 5)
    report = sustainability_report(session=session, options=ReportOptions(period=NOVEMBER))
    text = pdf_text(render_pdf(report))
    assert "Anhang: Fahrten nach Monat und Verkehrsmittel" in text
    assert "Der Zeitraum umfasst 7 Fahrten" in text
    assert "Anhang: Fahrtenbuch" not in text
    # 11.2026, Privat-Pkw: 2 trips, 1 of them only planned, 43,2 km, 9,590 kg.
    assert "11.2026 Privat-Pkw 2 1 43,2 0,00 9,590" in text
