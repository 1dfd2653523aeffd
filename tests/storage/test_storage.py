"""Storage behaviour that both backends must share: uniqueness under concurrency, append-only audit, schema checks."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.errors import Conflict
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.storage.engine import make_engine, normalise_url
from hostpanel.storage.migrate import SchemaOutOfDate, _config, check_schema, head_revision, upgrade
from hostpanel.storage.tables import metadata
from tests.factories import make_account, make_token


def test_concurrent_creates_of_one_name_give_one_token_and_clean_conflicts(
    container: Container, alice: Account
) -> None:
    attempts = 8
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        barrier.wait()
        try:
            with container.uow() as uow:
                container.tokens(uow).create(Principal.admin(alice), "race", None, Permissions.full())
                uow.commit()
            result = "created"
        except Conflict as conflict:
            result = conflict.message
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=create) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert set(outcomes) - {"created"} == {"A conflicting API token with the name “race” already exists."}
    with container.uow(write=False) as uow:
        count = uow.connection.execute(text("SELECT count(*) FROM api_tokens WHERE name = 'race'")).scalar()  # type: ignore[attr-defined]
        events = uow.connection.execute(  # type: ignore[attr-defined]
            text("SELECT count(*) FROM audit_events WHERE action = 'account:token:create'")
        ).scalar()
    assert count == 1 and events == 1


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET outcome = 'failure'", "DELETE FROM audit_events"])
def test_audit_events_cannot_be_changed_or_deleted(container: Container, alice: Account, statement: str) -> None:
    with container.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
        uow.connection.execute(text(statement))  # type: ignore[attr-defined]


def test_deleting_an_account_removes_its_tokens_but_keeps_its_history(container: Container, alice: Account) -> None:
    make_token(container, alice, "t")
    home = container.homes.path_for("alice")
    assert home.is_dir()
    with container.uow() as uow:
        container.accounts(uow).delete("alice")
        uow.commit()
    assert not home.exists()
    with container.uow(write=False) as uow:
        c = uow.connection  # type: ignore[attr-defined]
        assert c.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM domains")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM audit_events WHERE username = 'alice'")).scalar() >= 3


def test_a_failed_account_creation_leaves_no_home_behind(container: Container, alice: Account) -> None:
    with container.uow() as uow, pytest.raises(Conflict):
        container.accounts(uow).create("carol", "Correct-Horse-Battery-9", domains=("carol.test",))
        container.accounts(uow).add_domain("carol", "alice.test")  # taken: the use case fails
    assert not container.homes.path_for("carol").exists()
    with container.uow(write=False) as uow:
        assert uow.accounts.get_by_username("carol") is None


def test_schema_check_names_the_fix(container: Container, settings: object) -> None:
    check_schema(container.engine)
    if container.engine.dialect.name != "sqlite":
        pytest.skip("an empty database is made on SQLite only")
    path = container.settings.home_dir / "empty.db"
    empty = make_engine(normalise_url(f"sqlite:///{path}"))
    with pytest.raises(SchemaOutOfDate, match="There is no database at .*: run `hostpanel init` first."):
        check_schema(empty)
    assert not path.exists()
    path.touch()
    with pytest.raises(SchemaOutOfDate, match="hostpanel init") as raised:
        check_schema(empty)
    assert head_revision() in str(raised.value)
    empty.dispose()


def test_sqlite_runs_in_wal_mode(container: Container) -> None:
    if container.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with container.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_build_exactly_the_declared_tables(container: Container) -> None:
    """No pending migration: the migrated schema and `tables.py` agree (columns, types, indexes, constraints)."""
    with container.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_ids_are_never_reused(container: Container, alice: Account) -> None:
    """A deleted account's history, or a revoked token's pending use, must never attach to a newcomer."""
    first = make_token(container, alice, "t").token
    with container.uow() as uow:
        container.tokens(uow).revoke(Principal.admin(alice), "t")
        container.accounts(uow).delete("alice")
        uow.commit()
    bob = make_account(container, "bob")
    assert bob.id != alice.id
    assert make_token(container, bob, "t").token.id != first.id
    with container.uow(write=False) as uow:
        assert uow.audit.query(AuditQuery(account_id=bob.id, actions=("admin:account:delete",))) == []
        assert len(uow.audit.query(AuditQuery(username="alice"))) >= 3


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    # It holds password hashes and the activity log; a data directory that others may enter must not expose them.
    tmp_path.chmod(0o755)
    previous = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"new.db": 0o600, "new.db-wal": 0o600, "new.db-shm": 0o600}


def test_a_home_left_behind_by_a_crash_is_set_aside_not_reused(container: Container) -> None:
    leftover = container.homes.path_for("carol")
    leftover.mkdir(parents=True)
    (leftover / "secret.txt").write_text("the previous carol's file")
    make_account(container, "carol")
    assert not (container.homes.path_for("carol") / "secret.txt").exists()
    [aside] = (container.settings.homes_dir / ".orphaned").iterdir()
    assert aside.name.startswith("carol.") and (aside / "secret.txt").read_text() == "the previous carol's file"


def test_a_database_of_the_released_web_schema_upgrades_to_the_head(tmp_path: Path) -> None:
    """Revision ids are what a database remembers: one made by the release with the web tables (0003, after 0001)
    gets every later migration, and its web tables stop reusing ids like every other table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'released.db'}")
    config = _config()
    with engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    upgrade(engine)
    check_schema(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        for table in ("web_sessions", "recovery_codes"):
            sql = connection.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE name = '{table}'").scalar()
            assert "AUTOINCREMENT" in str(sql), table
    engine.dispose()
