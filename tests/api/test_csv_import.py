"""CSV import and export through the HTTP app, as coordinators keep their lists in Excel:
German headers, semicolons, UTF-8 with BOM or Windows-1252, decimal commas, German day
names; per-row errors as problem+json and nothing written; round trip through the
export; roles; addresses in the GDPR export and erasure. SQLite and PostgreSQL."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from fake_nominatim import FakeNominatim, fake_nominatim
from fastapi import FastAPI
from fastapi.testclient import TestClient
from session_app import Tokens
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.routers.imports import current_geocoder
from core.audit import AuditEvent
from core.settings import Settings
from scheduler.csv_import import parse_weekly
from scheduler.geocoding import NOT_CONFIGURED, geocoder_for
from scheduler.models import Absence, Caseworker, GeocodeCache, Household

DATA = Path(__file__).resolve().parents[1] / "data"


def household(session: Session, pseudonym: str) -> Household:
    return session.scalars(select(Household).where(Household.pseudonym == pseudonym)).one()


def caseworker(session: Session, key: str) -> Caseworker:
    return session.scalars(select(Caseworker).where(Caseworker.key == key)).one()


def count(session: Session, model: type[Household] | type[Caseworker]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def upload(path: Path) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (path.name, path.read_bytes(), "text/csv")}


def test_households_from_excel(client: TestClient, tokens: Tokens, session: Session) -> None:
    response = client.post(
        "/imports/households",
        files=upload(DATA / "households.csv"),
        headers=tokens.header("coordinator"),
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["rows"], result["created"], result["updated"]) == (4, 3, 1)
    assert (result["encoding"], result["delimiter"]) == ("utf-8", ";")
    assert result["ignored_columns"] == ["Bemerkung"]
    assert any("Bemerkung" in notice for notice in result["notices"])

    first = household(session, "H0101")
    assert (first.lat, first.lon) == (51.8402, 8.0255)
    assert first.site is not None and first.site.key == "enn"
    assert first.primary_caseworker is not None and first.primary_caseworker.key == "cw01"
    assert [c.key for c in first.allowed_caseworkers] == ["cw02"]
    assert [s.skill for s in first.required_skills] == ["ar"]
    assert not first.available_any_time
    assert [(a.weekday, a.start, a.end) for a in first.availability] == [
        (0, time(9), time(12)),
        (2, time(14), time(17)),
    ]
    # "Mo-Fr", no Standort: the primary caseworker's office, as a scenario import does.
    second = household(session, "H0102")
    assert sorted({a.weekday for a in second.availability}) == [0, 1, 2, 3, 4]
    assert second.site is not None and second.site.key == "enn"
    # "Di 9-12, 14-16 und Do 10:00 bis 11:30", two skills, two more caseworkers.
    third = household(session, "H0103")
    assert [(a.weekday, a.start, a.end) for a in third.availability] == [
        (1, time(9), time(12)),
        (1, time(14), time(16)),
        (3, time(10), time(11, 30)),
    ]
    assert [c.key for c in third.allowed_caseworkers] == ["cw02", "cw05"]
    assert [s.skill for s in third.required_skills] == ["ar", "tr"]
    # An existing household updated: "jederzeit" is any time.
    assert household(session, "H0001").available_any_time
    assert household(session, "H0001").availability == []

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "household", AuditEvent.entity_id == "H0101")
    ).all()
    assert [(e.action, e.actor, e.detail) for e in events] == [
        ("create", "test-coordinator", {"via": "csv"})
    ]


def test_a_text_csv_body_with_english_headers_and_commas(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    response = client.post(
        "/imports/households",
        content=(DATA / "households-en.csv").read_bytes(),
        headers={**tokens.header("admin"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["delimiter"] == ","
    created = household(session, "H0401")
    assert [c.key for c in created.allowed_caseworkers] == ["cw02", "cw03"]
    assert [a.weekday for a in created.availability] == [0, 2]


def test_old_excel_windows_1252_is_detected(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    response = client.post(
        "/imports/households",
        files=upload(DATA / "households-cp1252.csv"),
        headers=tokens.header("coordinator"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "cp1252"
    assert any("Windows-1252" in notice for notice in response.json()["notices"])
    assert household(session, "H0301").address == "Müllerstraße 3, 59320 Ennigerloh"


def test_bad_rows_are_all_reported_and_nothing_is_written(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    before = count(session, Household)
    response = client.post(
        "/imports/households",
        files=upload(DATA / "households-bad.csv"),
        headers=tokens.header("coordinator"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"].startswith("7 fehlerhafte Zeile(n), nichts wurde importiert")
    errors = {(error["path"], error["message"]) for error in problem["errors"]}
    assert ("Zeile 3, Breitengrad", "95,5 liegt nicht zwischen -90 und 90") in errors
    assert ("Zeile 4, Längengrad", "Längengrad fehlt (Breitengrad ist angegeben)") in errors
    assert ("Zeile 5, Hauptfachkraft", "unbekannte Fachkraft „cw99“") in errors
    assert ("Zeile 5, Weitere Fachkräfte", "unbekannte Fachkraft „cw77“") in errors
    assert (
        "Zeile 6, Verfügbarkeit",
        "„Mi 14:00-12:00“: 14:00-12:00 endet nicht nach dem Beginn",
    ) in errors
    assert ("Zeile 7, Standort", "unbekannter Standort „Münster“ (bekannt: enn, evw)") in errors
    assert (
        "Zeile 8, Pseudonym",
        "Pseudonym H0201 kommt doppelt vor (auch Zeile 2)",
    ) in errors
    assert ("Zeile 9, Breitengrad", "„fünfzig“ ist keine Zahl (z. B. 51,8345)") in errors
    assert {path.split(",")[0] for path, _ in errors} == {f"Zeile {n}" for n in range(3, 10)}
    # Row 2 was fine, but an import is all or nothing.
    assert count(session, Household) == before
    assert session.scalar(select(Household).where(Household.pseudonym == "H0201")) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "die Datei ist leer"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel-Arbeitsmappe"),
        ("Name;Telefon\r\nMüller;0251\r\n".encode(), "Spalte „Pseudonym“ fehlt"),
        (b"Pseudonym;Breitengard\r\nH1;51\r\n", "gemeint: „Breitengrad“"),
    ],
)
def test_files_that_are_not_a_household_list(
    client: TestClient, tokens: Tokens, body: bytes, message: str
) -> None:
    response = client.post(
        "/imports/households",
        content=body,
        headers={**tokens.header("coordinator"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    assert message in " ".join(error["message"] for error in response.json()["errors"])


def test_a_multipart_upload_without_a_file(client: TestClient, tokens: Tokens) -> None:
    response = client.post(
        "/imports/households",
        data={"other": "x"},
        files={"attachment": ("a.csv", b"Pseudonym\r\n", "text/csv")},
        headers=tokens.header("coordinator"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.file"


def test_caseworkers_from_excel(client: TestClient, tokens: Tokens, session: Session) -> None:
    cw01 = caseworker(session, "cw01")
    cw01.absences.append(
        Absence(
            start=datetime(2026, 12, 2, 8, tzinfo=UTC),
            end=datetime(2026, 12, 3, 16, tzinfo=UTC),
            reason="Fortbildung",
        )
    )
    session.flush()
    response = client.post(
        "/imports/caseworkers",
        files=upload(DATA / "caseworkers.csv"),
        headers=tokens.header("coordinator"),
    )
    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["updated"]) == (2, 1)
    new = caseworker(session, "cw11")
    assert new.name == "Fachkraft 11" and new.site.key == "enn" and new.max_visits_per_day == 5
    assert [(h.weekday, h.start, h.end) for h in new.working_hours] == [
        (0, time(8), time(16)),
        (1, time(8), time(16)),
        (2, time(8), time(16)),
        (3, time(8), time(16)),
        (4, time(8), time(12, 30)),
    ]
    assert [m.mode for m in new.modes] == ["e_bike", "e_car", "walk"]
    assert [s.skill for s in new.skills] == ["ar", "tr"]
    # A site may be named by its name; "Privat-PKW, Dienstwagen" as coordinators say it.
    other = caseworker(session, "cw12")
    assert other.site.key == "evw" and other.max_visits_per_day is None
    assert [m.mode for m in other.modes] == ["car", "private_car"]
    # An update keeps the absences: they are not part of the file.
    session.refresh(cw01)
    assert [s.skill for s in cw01.skills] == ["uk"]
    assert [a.reason for a in cw01.absences] == ["Fortbildung"]


def test_bad_caseworker_rows(client: TestClient, tokens: Tokens, session: Session) -> None:
    before = count(session, Caseworker)
    body = (
        "Kürzel;Standort;Arbeitszeiten;Verkehrsmittel;Max. Besuche pro Tag\r\n"
        "cw21;enn;Mo-Fr 08:00-16:00;E-Bike;4\r\n"
        "cw22;enn;Mo 08:00-12:00, Mo 13:00-16:00;Hubschrauber;0\r\n"
        "cw23;;Mo 08:00-12:00;zu Fuß;\r\n"
    ).encode()
    response = client.post(
        "/imports/caseworkers",
        content=body,
        headers={**tokens.header("coordinator"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    errors = {(e["path"], e["message"]) for e in response.json()["errors"]}
    assert ("Zeile 3, Arbeitszeiten", "nur ein Zeitraum pro Tag möglich (Mo mehrfach)") in errors
    assert any(path == "Zeile 3, Verkehrsmittel" and "Hubschrauber" in m for path, m in errors)
    assert ("Zeile 3, Max. Besuche pro Tag", "0 liegt nicht zwischen 1 und 100") in errors
    assert ("Zeile 4, Standort", "Standort fehlt") in errors
    assert count(session, Caseworker) == before


def test_export_round_trips_through_the_import(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("coordinator")
    client.post("/imports/households", files=upload(DATA / "households.csv"), headers=auth)
    response = client.get("/exports/households.csv", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "haushalte.csv" in response.headers["content-disposition"]
    data = response.content
    assert data.startswith(codecs.BOM_UTF8)
    lines = data[len(codecs.BOM_UTF8) :].decode("utf-8").split("\r\n")
    assert lines[0] == (
        "Pseudonym;Standort;Breitengrad;Längengrad;Adresse;Hauptfachkraft;"
        "Weitere Fachkräfte;Benötigte Fähigkeiten;Verfügbarkeit"
    )
    assert "H0101;enn;51,8402;8,0255;;cw01;cw02;ar;Mo 09:00-12:00, Mi 14:00-17:00" in lines
    listed = client.get("/households", params={"limit": 500}, headers=auth).json()["items"]

    again = client.post(
        "/imports/households",
        files={"file": ("haushalte.csv", data, "text/csv")},
        headers=auth,
    )
    assert again.status_code == 201, again.text
    assert (again.json()["created"], again.json()["updated"]) == (0, len(listed))
    assert client.get("/households", params={"limit": 500}, headers=auth).json()["items"] == listed
    exported = session.scalars(
        select(AuditEvent.entity_id).where(
            AuditEvent.action == "export", AuditEvent.entity == "household"
        )
    ).all()
    assert sorted(exported) == sorted(item["pseudonym"] for item in listed)

    caseworkers = client.get("/exports/caseworkers.csv", headers=auth)
    assert caseworkers.status_code == 200
    text = caseworkers.content.decode("utf-8-sig")
    assert "cw01;Fachkraft 01;enn;Mo-Do 07:30-16:00, Fr 07:30-12:30;;" in text
    back = client.post(
        "/imports/caseworkers",
        files={"file": ("fachkraefte.csv", caseworkers.content, "text/csv")},
        headers=auth,
    )
    assert back.status_code == 201, back.text
    assert back.json()["created"] == 0


@pytest.mark.parametrize("role", ["caseworker", "fleet_manager"])
def test_only_planners_import_and_export(client: TestClient, tokens: Tokens, role: str) -> None:
    auth = tokens.header(role)
    for path in ("/imports/households", "/imports/caseworkers"):
        refused = client.post(path, files=upload(DATA / "households.csv"), headers=auth)
        assert refused.status_code == 403
    for path in ("/exports/households.csv", "/exports/caseworkers.csv"):
        assert client.get(path, headers=auth).status_code == 403
    assert client.get("/exports/households.csv").status_code == 401


def test_an_address_without_coordinates_needs_a_geocoder(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("coordinator")
    body = "Pseudonym;Hauptfachkraft;Adresse\r\nH0701;cw01;Hauptstraße 1, 59320 Ennigerloh\r\n"
    response = client.post(
        "/imports/households",
        content=body.encode(),
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "Zeile 2, Breitengrad", "message": NOT_CONFIGURED}
    ]
    created = client.post(
        "/households",
        json={"pseudonym": "H0702", "address": "Hauptstraße 1, 59320 Ennigerloh"},
        headers=auth,
    )
    assert created.status_code == 422
    assert created.json()["errors"] == [{"path": "$.lat", "message": NOT_CONFIGURED}]


@pytest.fixture
def nominatim(app: FastAPI) -> Iterator[FakeNominatim]:
    """The app with a geocoder: the local fake Nominatim."""
    with fake_nominatim() as fake:
        settings = Settings(geocoder="nominatim", nominatim_url=fake.url)
        app.dependency_overrides[current_geocoder] = lambda: geocoder_for(settings)
        yield fake


def test_households_from_addresses_their_export_and_erasure(
    client: TestClient, tokens: Tokens, session: Session, nominatim: FakeNominatim
) -> None:
    auth = tokens.header("coordinator")
    created = client.post(
        "/households",
        json={
            "pseudonym": "H0801",
            "address": "Am Markt 5, 48351 Everswinkel",
            "primary_caseworker": "cw02",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["lat"], created.json()["lon"]) == (51.92531, 7.84762)
    assert created.json()["address"] == "Am Markt 5, 48351 Everswinkel"
    household_id = created.json()["id"]
    # A move: the new address is geocoded; the old one's answer stays cached.
    moved = client.patch(
        f"/households/{household_id}",
        json={"address": "Vitusstraße 3, 48351 Everswinkel"},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["lat"], moved.json()["lon"]) == (51.92389, 7.84455)
    assert len(nominatim.requests) == 2
    unknown = client.post(
        "/households",
        json={"pseudonym": "H0802", "address": "Nirgendwo 1, 99999 Irgendwo"},
        headers=auth,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "$.address"

    export = client.get(f"/households/{household_id}/export", headers=auth)
    assert export.json()["household"]["address"] == "Vitusstraße 3, 48351 Everswinkel"
    cached = session.scalar(select(func.count()).select_from(GeocodeCache))
    assert client.delete(f"/households/{household_id}", headers=auth).status_code == 204
    erased = client.get(f"/households/{household_id}", headers=auth).json()
    assert erased["address"] is None and erased["lat"] is None
    # The erased address's cached answer goes with it.
    assert session.scalar(select(func.count()).select_from(GeocodeCache)) == (cached or 0) - 1


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        # Excel's "Unicode text": UTF-16 with BOM, tab-separated.
        (
            "Pseudonym\tBreitengrad\tLängengrad\tHauptfachkraft\r\nH0901\t51,84\t8,03\tcw01\r\n".encode(
                "utf-16"
            ),
            "utf-16",
            "\t",
        ),
        # An Excel "sep=" line names the separator, even against the header's look.
        (
            b"sep=,\r\nPseudonym,Breitengrad,L\xc3\xa4ngengrad,Hauptfachkraft\r\n"
            b'H0901,"51,84","8,03",cw01\r\n',
            "utf-8",
            ",",
        ),
    ],
)
def test_other_excel_exports(
    client: TestClient,
    tokens: Tokens,
    session: Session,
    data: bytes,
    encoding: str,
    delimiter: str,
) -> None:
    response = client.post(
        "/imports/households",
        content=data,
        headers={**tokens.header("coordinator"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["encoding"], response.json()["delimiter"]) == (encoding, delimiter)
    assert (household(session, "H0901").lat, household(session, "H0901").lon) == (51.84, 8.03)


@pytest.mark.parametrize(
    ("cell", "weekly"),
    [
        ("", None),
        ("jederzeit", None),
        ("nie", {}),
        ("Mo 09:00-12:00, Mi 14:00-17:00", {0: [(time(9), time(12))], 2: [(time(14), time(17))]}),
        ("montags 9-12 Uhr", {0: [(time(9), time(12))]}),
        ("Mo, Do 9.30 bis 11", {0: [(time(9, 30), time(11))], 3: [(time(9, 30), time(11))]}),
        ("Sa–So 10:00–12:00", {5: [(time(10), time(12))], 6: [(time(10), time(12))]}),
        ("Fri 8-9, 10-11", {4: [(time(8), time(9)), (time(10), time(11))]}),
        ("werktags 8-9", {day: [(time(8), time(9))] for day in range(5)}),
    ],
)
def test_weekly_times_as_coordinators_write_them(
    cell: str, weekly: dict[int, list[tuple[time, time]]] | None
) -> None:
    assert parse_weekly(cell) == weekly


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("9-12", "vor der Uhrzeit fehlt der Wochentag"),
        ("Mo", "für Mo fehlt die Uhrzeit"),
        ("Fr-Mo 9-12", "läuft rückwärts"),
        ("Mo 9-24", "ist keine Uhrzeit"),
        ("Mo 12-9", "endet nicht nach dem Beginn"),
        ("Mittwochs? 9-12", "nicht verstanden"),
        ("Funday 9-12", "„funday“ ist kein Wochentag"),
    ],
)
def test_weekly_times_that_cannot_be_read(cell: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekly(cell)
