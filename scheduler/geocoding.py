"""Household locations from addresses: Nominatim through geopy, rate-limited, cached.

Off by default (``FIELDWORK_GEOCODER=none``): a household then needs coordinates, and no
address leaves the machine. With ``FIELDWORK_GEOCODER=nominatim`` an address without
coordinates is sent to ``FIELDWORK_NOMINATIM_URL`` under the usage policy of Nominatim
(https://operations.osmfoundation.org/policies/nominatim/):

- at most one request a second: every request of the process goes through one geopy
  ``RateLimiter`` per server, so two imports at once still take turns;
- a user agent that identifies the application, with a contact address
  (``FIELDWORK_NOMINATIM_USER_AGENT``, ``FIELDWORK_NOMINATIM_EMAIL``);
- results cached: ``geocode_cache`` keeps every answer (also "not found") under the
  SHA-256 of the normalised address, so the same address is never asked twice, and the
  cache does not become a second list of families' addresses.

The cache is written in its own transaction as soon as an answer arrives: an import
that fails for another row keeps what it learned, and the next attempt asks nothing.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import transaction
from core.settings import Settings
from scheduler.models import GeocodeCache, Household

#: What a coordinator reads when an address has no coordinates and nothing geocodes it.
NOT_CONFIGURED = "Breitengrad/Längengrad fehlen; Geokodierung ist nicht eingerichtet"


@dataclass(frozen=True, slots=True)
class Coordinates:
    lat: float
    lon: float


class Geocoder(Protocol):
    """A geocoding service: the coordinates of one address, or None if it has none."""

    provider: str

    def ask(self, address: str) -> Coordinates | None:
        """Raises ``GeopyError`` when the service fails (not when it finds nothing)."""
        ...


# ------------------------------------------------------------------------ addresses

_SPACES = re.compile(r"\s+")
_STREET = re.compile(r"str\.(?=\s|,|$)")


def normalise_address(address: str) -> str:
    """The address as the cache compares it: case, spacing, commas and the common
    abbreviation ``Str.`` do not matter (``Hauptstr. 1,59320  Ennigerloh`` is
    ``hauptstrasse 1, 59320 ennigerloh``)."""
    text = unicodedata.normalize("NFC", address).casefold()
    text = _STREET.sub("strasse", text)
    text = _SPACES.sub(" ", text.replace(",", ", ")).strip(" ,;.")
    return re.sub(r"\s*,(\s*,)*\s*", ", ", text)


def cache_key(address: str) -> str:
    return hashlib.sha256(normalise_address(address).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------- Nominatim


class NominatimGeocoder:
    """Nominatim through geopy; every call waits for the shared rate limiter."""

    provider = "nominatim"

    def __init__(self, settings: Settings) -> None:
        url = urlsplit(settings.nominatim_url.strip())
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(
                f"FIELDWORK_NOMINATIM_URL: expected http(s)://HOST[:PORT][/PATH], "
                f"got {settings.nominatim_url!r}"
            )
        path = url.path.rstrip("/").removesuffix("/search")
        agent = settings.nominatim_user_agent
        if settings.nominatim_email:
            agent = f"{agent} ({settings.nominatim_email})"
        self._nominatim: Any = Nominatim(
            domain=url.netloc + path,
            scheme=url.scheme,
            user_agent=agent,
            timeout=settings.geocoder_timeout_seconds,
        )
        self._countries = [
            code.strip().lower()
            for code in settings.nominatim_country_codes.split(",")
            if code.strip()
        ]
        # Errors are retried once after a pause, then reported; the limiter counts
        # every attempt, so retries keep to the rate as well.
        self._geocode: Any = RateLimiter(
            self._nominatim.geocode,
            min_delay_seconds=settings.geocoder_min_delay_seconds,
            max_retries=1,
            error_wait_seconds=max(2.0, settings.geocoder_min_delay_seconds),
            swallow_exceptions=False,
        )

    def ask(self, address: str) -> Coordinates | None:
        location = self._geocode(
            address,
            exactly_one=True,
            country_codes=self._countries or None,
            language="de",
        )
        if location is None:
            return None
        lat, lon = float(location.latitude), float(location.longitude)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        return Coordinates(lat=lat, lon=lon)


_geocoders: dict[tuple[Any, ...], NominatimGeocoder] = {}
_geocoders_lock = threading.Lock()


def geocoder_for(settings: Settings) -> Geocoder | None:
    """The configured geocoder, or None when geocoding is off.

    One per server and configuration for the whole process, so its rate limit holds
    across requests and imports. Raises ``ValueError`` for an unusable URL.
    """
    if settings.geocoder == "none":
        return None
    identity = (
        settings.nominatim_url,
        settings.nominatim_user_agent,
        settings.nominatim_email,
        settings.nominatim_country_codes,
        settings.geocoder_min_delay_seconds,
        settings.geocoder_timeout_seconds,
    )
    with _geocoders_lock:
        geocoder = _geocoders.get(identity)
        if geocoder is None:
            geocoder = _geocoders[identity] = NominatimGeocoder(settings)
        return geocoder


# ---------------------------------------------------------------------------- lookup


@dataclass
class Geocoded:
    """The answers for a set of addresses, each address as it was given."""

    found: dict[str, Coordinates] = field(default_factory=dict)
    not_found: set[str] = field(default_factory=set)
    #: Addresses without an answer and why (German, for the coordinator).
    failed: dict[str, str] = field(default_factory=dict)
    #: Requests sent to the service (the rest came from the cache).
    asked: int = 0


def geocode(*, session: Session, geocoder: Geocoder | None, addresses: Iterable[str]) -> Geocoded:
    """Coordinates for each address: from the cache, else from the geocoder.

    Without a geocoder, cached addresses still resolve and the others fail with
    ``NOT_CONFIGURED``. After the first service error the remaining addresses are not
    asked (the service is down or refuses us); they fail with that error.
    """
    result = Geocoded()
    wanted = {address: cache_key(address) for address in dict.fromkeys(addresses)}
    if not wanted:
        return result
    cached = {
        row.key: row
        for row in session.scalars(
            select(GeocodeCache).where(GeocodeCache.key.in_(set(wanted.values())))
        )
    }
    outage: str | None = None
    for address, key in wanted.items():
        row = cached.get(key)
        if row is not None:
            _note(result, address, _coordinates(row))
            continue
        if geocoder is None:
            result.failed[address] = NOT_CONFIGURED
            continue
        if outage is not None:
            result.failed[address] = outage
            continue
        try:
            result.asked += 1
            answer = geocoder.ask(address)
        except GeopyError as error:
            outage = f"Geokodierung fehlgeschlagen ({type(error).__name__}: {error})"
            result.failed[address] = outage
            continue
        cached[key] = _remember(session, key, geocoder.provider, answer)
        _note(result, address, answer)
    return result


def _coordinates(row: GeocodeCache) -> Coordinates | None:
    if row.lat is None or row.lon is None:
        return None
    return Coordinates(lat=row.lat, lon=row.lon)


def _note(result: Geocoded, address: str, answer: Coordinates | None) -> None:
    if answer is None:
        result.not_found.add(address)
    else:
        result.found[address] = answer


def _remember(
    session: Session, key: str, provider: str, answer: Coordinates | None
) -> GeocodeCache:
    row = GeocodeCache(
        key=key,
        provider=provider,
        lat=None if answer is None else answer.lat,
        lon=None if answer is None else answer.lon,
    )
    try:
        with transaction(session):
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another import asked for the same address meanwhile and wrote it first.
        pass
    return row


def forget(*, session: Session, household: Household) -> None:
    """Drop the cached answer for an erased household's address, unless another
    household (not erased) has the same address. Part of the caller's transaction."""
    if not household.address:
        return
    key = cache_key(household.address)
    others = session.scalars(
        select(Household.address).where(
            Household.id != household.id,
            Household.erased_at.is_(None),
            Household.address.is_not(None),
        )
    )
    if any(cache_key(address) == key for address in others if address):
        return
    row = session.get(GeocodeCache, key)
    if row is not None:
        session.delete(row)
