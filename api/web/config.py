"""Settings of the web pages, read from ``FIELDWORK_*`` like the service's own.

``FIELDWORK_SECRET_KEY`` signs the session and CSRF cookies. Without it a random key is
made when the app starts: sessions then end with every restart, and several server
processes would not accept each other's cookies, so production sets it.
"""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDWORK_", extra="ignore")

    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        min_length=16,
        description="signs session and CSRF cookies; random per start when unset",
    )
    secure_cookies: bool = Field(
        default=False, description="mark cookies Secure (set this behind HTTPS)"
    )
    session_hours: float = Field(default=10.0, gt=0, le=24 * 30, description="session lifetime")
    tile_url: str | None = Field(
        default=None,
        description=(
            "an OpenStreetMap-style tile URL with {z}/{x}/{y} to draw under the tour maps; "
            "unset: the shipped outlines only (no tile server needed)"
        ),
    )
