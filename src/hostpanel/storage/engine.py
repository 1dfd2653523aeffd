"""Engines for the embedded default (SQLite in WAL mode) and for PostgreSQL (psycopg 3)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

WRITE_OPTION = "hostpanel_write"


def normalise_url(url: str) -> str:
    """Accept the usual PostgreSQL spellings and use psycopg 3 for all of them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10, max_overflow=30)

    @event.listens_for(engine, "do_connect")
    def _private_file(*_args: Any) -> None:
        # At the first connection, not at engine creation: checking for a missing database must not make one.
        _create_private(database)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",  # a success answer survives a crash of the process and of the machine
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A writing transaction takes the write lock up front: two writers then queue on busy_timeout instead of
        # one failing with SQLITE_BUSY when it upgrades from reading to writing.
        # Straight on the driver: through the SQL layer's execution this one word cost more than a small read.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        driver: Any = connection.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _create_private(database: str | None) -> None:
    """Make a new database file of mode 0600 before SQLite makes it 0644: it holds password hashes and the activity
    log, and SQLite gives its -wal and -shm files the database file's mode. An existing file keeps its mode; any
    other failure is left for SQLite to report in its own words."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(OSError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
