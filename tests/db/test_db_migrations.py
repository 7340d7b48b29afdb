"""Alembic: the migrations apply and revert cleanly and match the models exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from scenario_documents import EXAMPLE, normalised, read
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import core.audit
import core.paperless
import fleet.models
import migrations
import scheduler.models
from core.db import Base
from scheduler.service import export_scenario, import_scenario

#: The first revision: data written there must survive every later one.
FIRST_REVISION = "17f133dc3f00"

MODEL_MODULES = (core.audit, core.paperless, fleet.models, scheduler.models)


def drift(connection: Connection, metadata: MetaData) -> list[Any]:
    """What autogenerate would write to make the database match ``metadata``."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def test_models_match_the_migrations(engine: Engine) -> None:
    """Fails when a model changes without a migration (or the other way round):
    run `.venv/bin/alembic revision --autogenerate -m "..."` and review the file."""
    with engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
        assert drift(connection, Base.metadata) == []


def test_the_drift_check_sees_a_change(engine: Engine) -> None:
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["site"].append_column(Column("postcode", Integer, nullable=True))
    with engine.connect() as connection:
        differences = drift(connection, changed)
    assert [difference[0] for difference in differences] == ["add_column"]


def test_migrations_apply_and_revert_cleanly(new_database: Callable[[str], Engine]) -> None:
    engine = new_database("fresh")
    migrations.upgrade(engine)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {
            *Base.metadata.tables,
            "alembic_version",
        }
    migrations.downgrade(engine, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        assert migrations.current(connection) is None
    migrations.upgrade(engine)
    with engine.connect() as connection:
        assert drift(connection, Base.metadata) == []
        assert not migrations.pending(connection)


def test_one_head_and_date_prefixed_files() -> None:
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(scripts.get_heads()) == 1
    files = sorted((migrations.SCRIPT_LOCATION / "versions").glob("*.py"))
    revisions = [path for path in files if path.name != "__init__.py"]
    assert revisions
    for path in revisions:
        assert re.match(r"^\d{4}-\d{2}-\d{2}_\d{4}_[0-9a-f]{12}_[a-z0-9_]+\.py$", path.name), path


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of ``source`` into ``target``, in the columns ``target`` has.

    The models describe the newest revision; an older database lacks the columns added
    since, so its data is written with Core, column by column, not through the ORM.
    """
    with source.connect() as reading, target.begin() as writing:
        present = inspect(writing)
        for table in Base.metadata.sorted_tables:
            if not present.has_table(table.name):
                continue
            names = {column["name"] for column in present.get_columns(table.name)}
            older = Table(
                table.name, MetaData(), *(c._copy() for c in table.columns if c.name in names)
            )
            rows = [
                {name: value for name, value in row._mapping.items() if name in names}
                for row in reading.execute(select(table))
            ]
            if rows:
                writing.execute(older.insert(), rows)


def test_data_survives_the_migrations(new_database: Callable[[str], Engine]) -> None:
    """On SQLite the later revisions copy tables (batch mode): with foreign keys on, the
    copy would take the caseworkers' hours, skills, absences... with it."""
    newest = new_database("data_source")
    migrations.upgrade(newest)
    scenario = read(EXAMPLE)
    with Session(newest) as session:
        import_scenario(session=session, scenario=scenario, actor="test")
    engine = new_database("data")
    migrations.upgrade(engine, FIRST_REVISION)
    copy_rows(newest, engine)
    migrations.upgrade(engine)
    with Session(engine) as session:
        exported = export_scenario(session=session, week_start=scenario.horizon.start)
    assert normalised(exported) == normalised(scenario)


def test_a_migration_that_breaks_foreign_keys_changes_nothing(
    new_database: Callable[[str], Engine],
) -> None:
    engine = new_database("broken")
    migrations.upgrade(engine)
    with (
        pytest.raises((RuntimeError, IntegrityError)),
        engine.connect() as connection,
        migrations.schema_changes(connection),
    ):
        connection.execute(text("INSERT INTO caseworker (key, site_id) VALUES ('x', 999)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM caseworker")).scalar_one() == 0
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
