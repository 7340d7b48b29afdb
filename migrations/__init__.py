"""Alembic migrations of the fieldwork database, and running them from Python.

``upgrade(engine)`` brings a database to the newest revision (``fieldwork db upgrade``,
the test fixtures) in one transaction; ``pending(connection)`` tells whether a database
is behind, so commands can say so instead of failing on a missing table.

SQLite cannot alter most things in place: Alembic's batch mode copies the table and
drops the old one. With foreign keys on (as ``core.db`` turns them on for every
connection), that drop would delete or refuse every row referring to the table, so
``schema_changes`` turns them off for the migration and checks them all before it
commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

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


@contextmanager
def schema_changes(connection: Connection) -> Iterator[None]:
    """One transaction for migrations on a connection that is not in one yet.

    On SQLite, foreign keys are off inside it (the PRAGMA only works outside a
    transaction) and ``PRAGMA foreign_key_check`` must find nothing before it commits.
    """
    if connection.in_transaction():
        raise RuntimeError("migrations need a connection that is not in a transaction")
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        with connection.begin():
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                table, row, parent, _ = broken[0]
                raise RuntimeError(
                    f"the migration left {len(broken)} row(s) referring to nothing, "
                    f"e.g. {table} row {row} -> {parent}; nothing was changed"
                )
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default the newest), in one transaction."""
    with engine.connect() as connection, schema_changes(connection):
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base``: an empty database)."""
    with engine.connect() as connection, schema_changes(connection):
        command.downgrade(alembic_config(connection), revision)
