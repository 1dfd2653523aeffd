"""Applying Alembic migrations and checking that the schema is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from hostpanel.storage.engine import WRITE_OPTION

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Exception):
    """The database is not at the schema this version of hostpanel needs."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    config = _config()
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def check_schema(engine: Engine) -> None:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not Path(database).exists():
        # Checking would create an empty file; say what to do instead.
        raise SchemaOutOfDate(f"There is no database at {database}: run `hostpanel init` first.")
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema is {state}, but this version of hostpanel needs revision {head}: "
            "run `hostpanel init` to apply the migrations."
        )
