"""Alembic migrations of the fieldwork database, and running them from Python.

``upgrade(connection)`` brings a database to the newest revision (``fieldwork db
upgrade``, the test fixtures); ``pending(connection)`` tells whether it is behind, so
commands can say so instead of failing on a missing table.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without alembic.ini: works from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"{SCRIPT_LOCATION}: no migrations")
    return revision


def current(connection: Connection) -> str | None:
    """The database's revision, or None if it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def pending(connection: Connection) -> bool:
    """Whether the database lacks migrations (or was never migrated)."""
    return current(connection) != head()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` (in one transaction) to ``revision``."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base``: an empty database)."""
    command.downgrade(alembic_config(connection), revision)
