"""Alembic environment: the tables of every domain, the database of ``core.settings``.

``fieldwork db upgrade`` (``migrations.upgrade``) hands over an open connection in
``config.attributes["connection"]``; the ``alembic`` command connects to
``FIELDWORK_DATABASE_URL`` through ``core.db.create_engine_for`` (SQLite pragmas, psycopg).
Either way the migration is one transaction (``migrations.schema_changes``). SQLite
cannot alter tables in place, so autogenerate writes batch operations there.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

import calendars.models
import core.audit
import core.paperless
import fleet.models
import scheduler.models
from core.db import Base, JsonDocument, UTCDateTime, create_engine_for
from core.settings import get_settings
from migrations import schema_changes

# The model modules are imported for their tables; name them so the import is used.
MODEL_MODULES = (calendars.models, core.audit, core.paperless, fleet.models, scheduler.models)

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write fieldwork's column types as plain SQLAlchemy types into new migrations.

    A migration must not import application code: it has to run unchanged when
    ``core.db`` has moved on. The database sees the same types either way.
    """
    if kind != "type":
        return False
    if isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if item is JsonDocument:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return (
            "sa.JSON(none_as_null=True)"
            '.with_variant(postgresql.JSONB(none_as_null=True), "postgresql")'
        )
    return False


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Leave the planning runs' queue alone: procrastinate's tables on PostgreSQL are
    its own (``fieldwork db upgrade`` creates them), not fieldwork's models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL instead of running it."""
    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        run_migrations(connection)
        return
    engine = create_engine_for(get_settings().database_url)
    try:
        with engine.connect() as connection, schema_changes(connection):
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
