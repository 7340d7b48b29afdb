"""Database plumbing: the declarative base, engines, sessions and the unit of work.

- ``Base``: typed declarative base of every table. Its ``MetaData`` names constraints
  by an explicit convention (``uq_vehicle_key``, ``fk_tour_plan_id_plan``), so Alembic
  migrations name, find and drop the same constraints on SQLite and PostgreSQL.
  ``Mapped[datetime]`` columns are ``UTCDateTime`` (timezone-aware, stored as UTC) and
  ``Mapped[dict[str, Any]]`` columns JSON (JSONB on PostgreSQL).
- ``create_engine_for(url)``: SQLite files get foreign keys ON and WAL on every
  connection; PostgreSQL goes through psycopg 3 (``postgresql+psycopg://``).
- ``create_session_factory(engine)`` and ``transaction(session)``: services take the
  session as an argument and put each multi-row change into one ``transaction()``, so it
  is written whole or not at all. ``write_transaction(session)`` is one that takes the
  write lock first (SQLite ``BEGIN IMMEDIATE``), for a check that must not go stale.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, Connection, DateTime, Dialect, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    SessionTransactionOrigin,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Constraint names, the same on every database (Alembic needs names to alter them).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current instant, timezone-aware (the default of ``created_at`` columns)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC.

    PostgreSQL stores ``timestamptz``; SQLite has no timezone type, so the UTC wall time
    is stored and UTC attached on the way back. A naive datetime is refused: its meaning
    would depend on the machine's timezone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the database stores instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON documents (a plan, a scenario, an audit detail); JSONB on PostgreSQL. A Python
#: ``None`` is SQL NULL, not the JSON ``null``, so "not set" can be queried with IS NULL.
JsonDocument: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    JSONB(none_as_null=True), "postgresql"
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JsonDocument,
    }


# ----------------------------------------------------------------------------- engines


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # The sqlite3 module opens transactions itself, behind SQLAlchemy's back, and
    # breaks SAVEPOINTs that way; in autocommit mode it leaves that to the "begin"
    # listener below. Both PRAGMAs only take effect outside a transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


#: How long a SQLite writer waits for the write lock before "database is locked":
#: writers queue on it (``write_transaction``), so a burst of bookings waits its turn.
SQLITE_BUSY_TIMEOUT_S = 30.0


def _sqlite_begin(connection: Connection) -> None:
    # DEFERRED, SQLite's default: readers never wait. A unit of work that checks before
    # it writes turns its transaction into a write transaction (``write_transaction``).
    connection.exec_driver_sql("BEGIN")


def database_url(url: str | URL) -> URL:
    """The URL as the engine uses it: plain ``postgresql://`` means psycopg 3.

    Raises ``ValueError`` for databases fieldwork does not support.
    """
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        return parsed
    if backend == "postgresql":
        if "+" not in parsed.drivername:
            return parsed.set(drivername="postgresql+psycopg")
        if driver == "psycopg":
            return parsed
        raise ValueError(
            f"{parsed.drivername}: fieldwork talks to PostgreSQL through psycopg 3, "
            "use postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    raise ValueError(
        f"{parsed.drivername}: unsupported database, use sqlite:///PATH or "
        "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
    )


def create_engine_for(url: str | URL) -> Engine:
    """An engine for a SQLite file (foreign keys ON, WAL) or a PostgreSQL database.

    A SQLite file's directory is created if missing, so the default
    ``sqlite:///var/fieldwork.db`` works in a fresh checkout.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; objects stay readable after their transaction commits."""
    return sessionmaker(engine, expire_on_commit=False)


# ------------------------------------------------------------------------ unit of work


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """One unit of work: everything inside is written together or not at all.

    The outermost ``transaction()`` commits when its block ends and rolls back if the
    block raises. Inside another ``transaction()`` it is a SAVEPOINT: an error undoes
    this unit only, and the enclosing unit decides about the rest. Reads the session
    made before (which open a transaction implicitly) do not count as a unit: the block
    runs in a SAVEPOINT and the session commits after it.
    """
    current = session.get_transaction()
    if current is None:
        with session.begin():
            yield
        return
    with session.begin_nested():
        yield
    if current.origin is SessionTransactionOrigin.AUTOBEGIN:
        session.commit()


@contextmanager
def write_transaction(session: Session) -> Iterator[None]:
    """A unit of work that reads, checks and then writes, serialised with other writers.

    For checks that must see every committed write before they decide (a vehicle is free,
    so book it). On SQLite it runs in a ``BEGIN IMMEDIATE`` transaction: the database's
    write lock is taken before the first read, and a second writer waits for it (the
    busy timeout) instead of reading a snapshot that the first one's commit makes stale.
    A read-only transaction the session started on its own (a request's token lookup)
    is ended and replaced on the same connection. Writers of one process queue on a lock
    of their own first: SQLite's busy handler polls with growing sleeps, so dozens of
    waiting threads would leave its lock idle between them; the in-process queue hands
    it on at once. The connection is taken before queueing, so a writer at the head of
    the queue never waits for the connection pool.

    Inside a unit of work that is already running (a publish booking all its tours, a
    test's transaction) this is a SAVEPOINT in it, like ``transaction()``: the outer
    unit decides how it began. PostgreSQL needs nothing here; its callers lock the rows
    they check (``SELECT ... FOR UPDATE``) and its constraints refuse the rest.
    """
    bind = session.get_bind()
    current = session.get_transaction()
    read_only = current is None or (
        current.origin is SessionTransactionOrigin.AUTOBEGIN
        and not (session.new or session.dirty or session.deleted)
        and not session.in_nested_transaction()
    )
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine) or not read_only:
        with transaction(session):
            yield
        return
    connection = session.connection()  # checked out (and BEGIN) before queueing
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    with _writer_lock(bind.url.database or ""):
        # Nothing was written in the deferred transaction: end it, begin a write one.
        driver.execute("COMMIT")
        driver.execute("BEGIN IMMEDIATE")
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise


_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(database: str) -> threading.Lock:
    with _writer_locks_guard:
        return _writer_locks.setdefault(str(Path(database).resolve()), threading.Lock())
