"""Applying Alembic migrations and checking that the schema is current.

Every process checks the schema when it starts, the CLI on each command: that check reads the version row and
compares it with `HEAD`, without Alembic, whose import and script scan cost a quarter of a second per command.
Applying migrations imports Alembic then. A test keeps `HEAD` equal to the newest migration.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hostpanel.storage.engine import WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0012"  # the newest migration's revision: bump it with every new migration


class SchemaOutOfDate(Exception):
    """The database is not at the schema this version of hostpanel needs."""


def _config() -> Config:
    from alembic.config import Config  # noqa: PLC0415 - only when migrating (see the module doc)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration, as Alembic finds it among the scripts."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only when migrating (see the module doc)

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None  # no version table: an empty database


class MigrationBrokeReferences(Exception):
    """A migration left rows pointing at rows that do not exist; it was rolled back."""


def upgrade(engine: Engine) -> None:
    """Apply every migration in one transaction. On SQLite, foreign keys are off meanwhile: a migration that must
    rebuild a table (SQLite alters tables by copying them) would otherwise delete, by cascade, every row that refers
    to the old table (an account's domains, tokens, mailboxes...). Their integrity is checked before committing."""
    from alembic import command  # noqa: PLC0415 - only when migrating (see the module doc)

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
    current, head = current_revision(engine), HEAD
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema is {state}, but this version of hostpanel needs revision {head}: "
            "run `hostpanel init` to apply the migrations."
        )
