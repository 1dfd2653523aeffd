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


class MigrationBrokeReferences(Exception):
    """A migration left rows pointing at rows that do not exist; it was rolled back."""


def upgrade(engine: Engine) -> None:
    """Apply every migration in one transaction. On SQLite, foreign keys are off meanwhile: a migration that must
    rebuild a table (SQLite alters tables by copying them) would otherwise delete, by cascade, every row that refers
    to the old table (an account's domains, tokens, mailboxes...). Their integrity is checked before committing."""
    config = _config()
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # before the transaction begins: SQLite ignores this pragma inside one
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise MigrationBrokeReferences(f"the migration left {len(broken)} broken reference(s)")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


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
