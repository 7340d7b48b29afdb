"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

- SQLite: a file in the session's temporary directory (foreign keys ON, WAL, as in
  production).
- PostgreSQL: ``FIELDWORK_TEST_DATABASE_URL`` (for example
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each pytest process (each
  xdist worker) gets a schema of its own, named by worker and process id, migrated once
  and dropped at the end; nobody else's data is touched. Without the variable the
  PostgreSQL variants are skipped, unless ``CI`` is ``true``: CI must not pass by
  skipping, so there they fail.

Isolation per test: a test's ``session`` runs inside a transaction on one connection
that is rolled back afterwards. The services' own ``transaction()`` blocks become
SAVEPOINTs inside it (``join_transaction_mode="create_savepoint"``), so a service's
commit and rollback behave as in production while the test leaves nothing behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

import migrations
from core.db import create_engine_for

TEST_DATABASE_URL = "FIELDWORK_TEST_DATABASE_URL"
EXAMPLE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Backend:
    """Creates empty databases of one kind and removes them at the end of the session."""

    name: str
    directory: Path
    postgres_url: str | None = None
    prefix: str = ""
    engines: list[Engine] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    _admin: Engine | None = None

    def new_database(self, label: str) -> Engine:
        """An empty database: a new SQLite file, or a new schema on PostgreSQL."""
        label = f"{label}_{len(self.engines)}"
        if self.postgres_url is None:
            engine = create_engine_for(f"sqlite:///{self.directory / label}.db")
        else:
            schema = f"{self.prefix}_{label}"
            with self.admin().begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            self.schemas.append(schema)
            url = make_url(self.postgres_url).update_query_dict(
                {"options": f"-csearch_path={schema}"}
            )
            engine = create_engine_for(url)
        self.engines.append(engine)
        return engine

    def admin(self) -> Engine:
        """An engine on the PostgreSQL database itself (public search path)."""
        assert self.postgres_url is not None
        if self._admin is None:
            self._admin = create_engine_for(self.postgres_url)
        return self._admin

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self._admin is not None:
            # One transaction per schema: dropping every schema in one transaction takes
            # a lock per table, index and sequence of all of them at once, which overran
            # PostgreSQL's shared lock table (max_locks_per_transaction) with two workers.
            for schema in self.schemas:
                with self._admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self._admin.dispose()


def _postgres_url() -> str:
    url = os.environ.get(TEST_DATABASE_URL, "").strip()
    if url:
        return url
    reason = (
        f"PostgreSQL variant: {TEST_DATABASE_URL} is not set "
        f"(e.g. {TEST_DATABASE_URL}={EXAMPLE_URL})"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs every database test on PostgreSQL too", pytrace=False)
    pytest.skip(reason)


def _schema_prefix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return re.sub(r"[^a-z0-9_]", "_", f"fieldwork_test_{worker}_{os.getpid()}".lower())


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    directory = tmp_path_factory.mktemp("databases")
    if request.param == "sqlite":
        backend = Backend(name="sqlite", directory=directory)
    else:
        backend = Backend(
            name="postgresql",
            directory=directory,
            postgres_url=_postgres_url(),
            prefix=_schema_prefix(),
        )
        try:
            with backend.admin().connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, ArgumentError, ValueError) as error:
            pytest.fail(f"{TEST_DATABASE_URL}: PostgreSQL unreachable: {error}", pytrace=False)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def backend_name(backend: Backend) -> str:
    """``sqlite`` or ``postgresql``."""
    return backend.name


@pytest.fixture(scope="session")
def engine(backend: Backend) -> Engine:
    """The session's database, migrated once to the newest revision."""
    engine = backend.new_database("main")
    migrations.upgrade(engine)
    return engine


@pytest.fixture
def new_database(backend: Backend) -> Callable[[str], Engine]:
    """Make an empty database of the same kind (for tests of migrations themselves)."""
    return backend.new_database


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
