"""The service's settings: one typed class, read from the environment when asked for.

Every setting is an environment variable with the prefix ``FIELDWORK_``
(``FIELDWORK_DATABASE_URL``). Nothing reads the environment at import time:
``get_settings()`` builds the settings on first use and keeps them, so a test or a
command can set the environment first (and ``get_settings.cache_clear()`` re-reads it).
"""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings()
