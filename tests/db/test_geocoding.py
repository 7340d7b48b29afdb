"""Geocoding household addresses against a local fake Nominatim (real HTTP, no
internet): coordinates land in the database, every answer is cached so the same address
is never asked twice, requests keep Nominatim's one-a-second limit, and without a
geocoder an address alone is a clear error. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_nominatim import FakeNominatim, fake_nominatim
from scenario_documents import EXAMPLE, read
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.settings import Settings
from scheduler.csv_import import CsvInvalid, import_households_csv
from scheduler.geocoding import (
    NOT_CONFIGURED,
    Geocoder,
    cache_key,
    forget,
    geocoder_for,
    normalise_address,
)
from scheduler.models import GeocodeCache, Household
from scheduler.service import import_scenario

HEADER = "Pseudonym;Hauptfachkraft;Breitengrad;Längengrad;Adresse\r\n"
THREE = (
    HEADER
    + "H0501;cw01;;;Hauptstraße 1, 59320 Ennigerloh\r\n"
    + "H0502;cw02;;;Am Markt 5, 48351 Everswinkel\r\n"
    + "H0503;cw01;;;Ostenfelder Straße 12, 59320 Ennigerloh\r\n"
).encode()


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    with fake_nominatim() as fake:
        yield fake


@pytest.fixture
def geocoder(nominatim: FakeNominatim) -> Geocoder:
    settings = Settings(
        geocoder="nominatim",
        nominatim_url=nominatim.url,
        nominatim_user_agent="fieldwork-test/1",
        nominatim_email="planung@example.org",
        geocoder_timeout_seconds=5,
    )
    found = geocoder_for(settings)
    assert found is not None
    return found


@pytest.fixture
def example(session: Session) -> None:
    import_scenario(session=session, scenario=read(EXAMPLE), actor="test")


def household(session: Session, pseudonym: str) -> Household:
    return session.scalars(select(Household).where(Household.pseudonym == pseudonym)).one()


def test_addresses_are_geocoded_cached_and_rate_limited(
    session: Session, example: None, nominatim: FakeNominatim, geocoder: Geocoder
) -> None:
    summary = import_households_csv(session=session, data=THREE, actor="test", geocoder=geocoder)
    assert (summary.created, summary.geocoded_asked, summary.geocoded_cached) == (3, 3, 0)
    ennigerloh = household(session, "H0501")
    assert (ennigerloh.lat, ennigerloh.lon) == (51.83671, 8.03112)
    assert ennigerloh.address == "Hauptstraße 1, 59320 Ennigerloh"
    assert household(session, "H0502").site is not None
    assert household(session, "H0502").site.key == "evw"  # type: ignore[union-attr]

    # The usage policy: an identifying user agent with a contact, one request a second.
    assert len(nominatim.requests) == 3
    first = nominatim.requests[0]
    assert first.user_agent == "fieldwork-test/1 (planung@example.org)"
    assert first.params["countrycodes"] == ["de"] and first.params["format"] == ["json"]
    gaps = nominatim.gaps()
    assert len(gaps) == 2 and min(gaps) >= 0.95, gaps

    # The same addresses for other households, one written differently: nothing is asked.
    again = (
        THREE.replace(b"H050", b"H051")
        .replace("Hauptstraße 1, 59320".encode(), b"hauptstr. 1,59320 ")
        .replace(b"Am Markt 5,", b"AM MARKT  5 ,")
    )
    summary = import_households_csv(session=session, data=again, actor="test", geocoder=geocoder)
    assert (summary.created, summary.geocoded_asked, summary.geocoded_cached) == (3, 0, 3)
    assert len(nominatim.requests) == 3
    assert (household(session, "H0511").lat, household(session, "H0511").lon) == (
        51.83671,
        8.03112,
    )
    # The cache holds hashes of normalised addresses, never the addresses themselves.
    keys = set(session.scalars(select(GeocodeCache.key)))
    assert cache_key("Hauptstraße 1, 59320 Ennigerloh") in keys
    assert not any("ennigerloh" in key.casefold() for key in keys)


def test_an_address_nobody_finds_is_a_row_error_and_cached_as_such(
    session: Session, example: None, nominatim: FakeNominatim, geocoder: Geocoder
) -> None:
    data = (HEADER + "H0601;cw01;;;Nirgendwo 99, 12345 Irgendwo\r\n").encode()
    for attempt in range(2):
        with pytest.raises(CsvInvalid) as refused:
            import_households_csv(session=session, data=data, actor="test", geocoder=geocoder)
        [problem] = refused.value.problems
        assert (problem.row, problem.column) == (2, "Adresse")
        assert "wurde nicht gefunden" in problem.message
        assert len(nominatim.requests) == 1, f"attempt {attempt + 1} asked again"
    assert session.scalar(select(func.count()).select_from(Household)) == 30


def test_an_outage_is_reported_and_the_rest_is_not_asked(
    session: Session, example: None, nominatim: FakeNominatim, geocoder: Geocoder
) -> None:
    nominatim.fail_with = 503
    with pytest.raises(CsvInvalid) as refused:
        import_households_csv(session=session, data=THREE, actor="test", geocoder=geocoder)
    problems = refused.value.problems
    assert [problem.row for problem in problems] == [2, 3, 4]
    assert all(problem.message.startswith("Geokodierung fehlgeschlagen") for problem in problems)
    # One address tried (once more after a pause), the others not at all.
    assert len(set(nominatim.queries())) == 1 and len(nominatim.requests) == 2
    assert session.scalar(select(func.count()).select_from(GeocodeCache)) == 0


def test_without_a_geocoder_coordinates_are_required(session: Session, example: None) -> None:
    assert geocoder_for(Settings()) is None
    with pytest.raises(CsvInvalid) as refused:
        import_households_csv(session=session, data=THREE, actor="test", geocoder=None)
    problems = refused.value.problems
    assert {(p.row, p.column, p.message) for p in problems} == {
        (row, "Breitengrad", NOT_CONFIGURED) for row in (2, 3, 4)
    }
    assert NOT_CONFIGURED == "Breitengrad/Längengrad fehlen; Geokodierung ist nicht eingerichtet"


def test_erasure_forgets_the_cached_address_unless_a_neighbour_has_it(
    session: Session, example: None, geocoder: Geocoder
) -> None:
    data = THREE + b"H0504;cw01;;;Hauptstrasse 1, 59320 Ennigerloh\r\n"
    import_households_csv(session=session, data=data, actor="test", geocoder=geocoder)
    key = cache_key("Hauptstraße 1, 59320 Ennigerloh")
    forget(session=session, household=household(session, "H0501"))
    assert session.get(GeocodeCache, key) is not None  # H0504 lives there too
    forget(session=session, household=household(session, "H0502"))
    session.flush()
    assert session.get(GeocodeCache, cache_key("Am Markt 5, 48351 Everswinkel")) is None


def test_normalised_addresses() -> None:
    assert normalise_address("  Hauptstr. 1,59320   Ennigerloh ") == (
        "hauptstrasse 1, 59320 ennigerloh"
    )
    assert cache_key("HAUPTSTRASSE 1 , 59320 Ennigerloh") == cache_key(
        "Hauptstraße 1, 59320 Ennigerloh"
    )
    assert cache_key("Hauptstraße 2, 59320 Ennigerloh") != cache_key(
        "Hauptstraße 1, 59320 Ennigerloh"
    )
