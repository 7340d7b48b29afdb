"""The service's settings: one typed class, read from the environment when asked for.

Every setting is an environment variable with the prefix ``FIELDWORK_``
(``FIELDWORK_DATABASE_URL``). Nothing reads the environment at import time:
``get_settings()`` builds the settings on first use and keeps them, so a test or a
command can set the environment first (and ``get_settings.cache_clear()`` re-reads it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The embedded default: a SQLite file under ``var/`` of the working directory.
DEFAULT_DATABASE_URL = "sqlite:///var/fieldwork.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDWORK_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description=(
            "SQLAlchemy URL of the database: sqlite:///PATH (relative to the working "
            "directory) or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        ),
    )
    # Geocoding household addresses (scheduler.geocoding). Off by default: a household
    # then needs coordinates, and no address ever leaves the machine.
    geocoder: Literal["none", "nominatim"] = Field(
        default="none",
        description="nominatim: geocode addresses without coordinates; none: coordinates required",
    )
    nominatim_url: str = Field(
        default="https://nominatim.openstreetmap.org",
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        description="the Nominatim server (the public one, or the organisation's own)",
    )
    nominatim_user_agent: str = Field(
        default="fieldwork/0.1.0",
        min_length=1,
        description="identifies the application to Nominatim, as its usage policy requires",
    )
    nominatim_email: str | None = Field(
        default=None,
        description="a contact address, sent with the user agent (the usage policy asks for one)",
    )
    nominatim_country_codes: str = Field(
        default="de", description="search only these countries (ISO 3166-1, comma-separated)"
    )
    geocoder_min_delay_seconds: float = Field(
        default=1.0,
        ge=1.0,
        description="at least this long between two requests (Nominatim allows one a second)",
    )
    geocoder_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Calendar feeds (calendars/). Links in feeds, QR codes and e-mails start with
    # public_url; a reverse proxy's https address in production.
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the address clients reach the service at (feed links, QR codes)",
    )
    calendar_language: Literal["de", "en"] = Field(
        default="de", description="language of calendar text and notification e-mails"
    )
    calendar_show_address: bool = Field(
        default=False,
        description="put households' address (LOCATION) and coordinates (GEO) into feeds; "
        "off by default: a feed then names a household by its pseudonym only",
    )
    calendar_reminder_minutes: int = Field(
        default=30, ge=0, le=1440, description="reminder (VALARM) before each appointment"
    )
    calendar_refresh_minutes: int = Field(
        default=15, ge=5, le=1440, description="how often clients should re-read a feed"
    )
    # Same-day changes by e-mail (calendars.notify); no smtp_host: no e-mail.
    smtp_host: str | None = Field(default=None, description="SMTP server for notifications")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="STARTTLS before logging in")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = Field(
        default="fieldwork@localhost", description="sender (and ORGANIZER) of notifications"
    )
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings()
