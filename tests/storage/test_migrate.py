"""Upgrading an installation in use: every row survives every migration, whatever a migration has to rebuild."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from hostpanel.storage import migrate
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import _config, upgrade

RELEASED = "0006"  # the schema of the last release: installations in use are there
ROWS = {
    "accounts": {"id": 7, "username": "old", "password_hash": "x", "status": "active", "disabled_features": "[]"},
    "domains": {"id": 3, "account_id": 7, "domain": "old.test"},
    "api_tokens": {"account_id": 7, "name": "deploy", "key": "abcdefabcdef", "digest": b"d" * 32, "full_access": True},
    "mailboxes": {"account_id": 7, "domain": "old.test", "local_part": "info", "password_hash": "x"},
    "forwarders": {"account_id": 7, "address": "sales@old.test", "destination": "x@example.net"},
    "web_sessions": {"account_id": 7, "digest": b"s" * 32, "stage": "signed_in", "ip": "192.0.2.1"},
    "backup_jobs": {"account_id": 7, "file": "backup-1.1.2027_00-00-00_old.tar.gz", "status": "complete"},
}


def _plain(kind: str) -> object:
    if "BOOL" in kind:
        return True
    if "INT" in kind:
        return 1
    return b"b" if "BLOB" in kind or "BYTEA" in kind else "x"


def _filled(connection: object, table: str, given: dict[str, object]) -> dict[str, object]:
    """`given`, and a plain value for every other column that needs one."""
    values = dict(given)
    for column in inspect(connection).get_columns(table):
        if column["name"] in values or column["nullable"] or column.get("default") or column.get("autoincrement"):
            continue
        kind = str(column["type"]).upper()
        if column["name"] == "id":
            continue
        values[column["name"]] = (
            1 if "INT" in kind or "BOOL" in kind else b"b" if "BLOB" in kind or "BYTEA" in kind else "x"
        )
    return values


def test_every_row_of_an_account_survives_the_upgrade(empty_database: str) -> None:
    engine = make_engine(empty_database)
    with engine.connect() as connection, connection.begin():
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, RELEASED)
        for table, given in ROWS.items():
            values = _filled(connection, table, given)
            names = ", ".join(values)
            connection.execute(
                text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"), values
            )
    upgrade(engine)
    moved = {"domains": "account_domains"}
    with engine.connect() as connection:
        for table in ROWS:
            count = connection.execute(text(f"SELECT count(*) FROM {moved.get(table, table)}")).scalar()
            assert count == 1, f"{table}: the upgrade lost its row"
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again for the app
    engine.dispose()


def test_the_schema_check_knows_the_newest_migration() -> None:
    """Processes check the schema against `HEAD` without Alembic: it must name the newest migration."""
    assert migrate.head_revision() == migrate.HEAD
