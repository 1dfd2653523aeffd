"""The audit hash chain: concurrent appends keep one line per account; any change made behind the app shows."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from hostpanel.container import Container
from hostpanel.domain.audit.chain import GENESIS, ChainBreak, first_break
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.storage.engine import WRITE_OPTION, make_engine
from hostpanel.storage.migrate import _config, upgrade
from tests.factories import make_account


def append(container: Container, account_id: int | None, n: int) -> None:
    for i in range(n):
        with container.uow() as uow:
            AuditLog(uow.audit, container.clock).record(
                AuditAction.ACCOUNT_TOKEN_CREATE, actor="admin", account_id=account_id, target=f"t{i}", details={"i": i}
            )
            uow.commit()


def verify(container: Container) -> dict[int, tuple[int, ChainBreak | None]]:
    with container.uow(write=False) as uow:
        return {
            chain: first_break(chain, uow.audit.chain_events(chain), head) for chain, head in uow.audit.chains().items()
        }


def tamper(container: Container, statement: str) -> None:
    """Change stored events directly, past the append-only triggers (what someone with database access can do)."""
    with container.engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if container.engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER audit_events_no_update"))
                connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            else:
                connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
            connection.execute(text(statement))
            if container.engine.dialect.name != "sqlite":
                connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))


def test_concurrent_appends_to_one_account_form_one_unbroken_chain(container: Container) -> None:
    alice = make_account(container, "alice")
    threads = [threading.Thread(target=append, args=(container, alice.id, 15)) for _ in range(6)]
    threads += [threading.Thread(target=append, args=(container, None, 5)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = verify(container)
    assert results[alice.id] == (1 + 6 * 15, None)  # the account's creation event, then every append
    assert results[0] == (10, None)
    with container.uow(write=False) as uow:
        events = list(uow.audit.chain_events(alice.id))
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))


@pytest.mark.parametrize(
    ("change", "broken_at", "reason"),
    [
        ("UPDATE audit_events SET details = '[]' WHERE id = {third}", "third", "content does not match"),
        ("UPDATE audit_events SET time = time - 1 WHERE id = {third}", "third", "content does not match"),
        ("DELETE FROM audit_events WHERE id = {third}", "fourth", "does not link"),
        ("DELETE FROM audit_events WHERE id = {last}", None, "ends before its recorded head"),
    ],
)
def test_changed_removed_or_truncated_events_break_the_chain_where_it_happened(
    container: Container, change: str, broken_at: str | None, reason: str
) -> None:
    alice = make_account(container, "alice")
    append(container, alice.id, 5)
    with container.uow(write=False) as uow:
        ids = [event.id for event in uow.audit.chain_events(alice.id)]
    marks = {"third": ids[2], "fourth": ids[3], "last": ids[-1]}
    assert verify(container)[alice.id] == (6, None)
    tamper(container, change.format(**marks))
    _, broken = verify(container)[alice.id]
    assert broken is not None and reason in broken.reason
    assert broken.event_id == (marks[broken_at] if broken_at else None)


def test_the_migration_chains_events_written_before_the_chain_existed(tmp_path: Path, container: Container) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = _config()
    with engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_events (time, account_id, actor, action, outcome, details) "
                    f"VALUES ({1000 + n}.5, {n % 2 or 'NULL'}, 'admin', 'admin:account:create', 'success', '{{}}')"
                )
            )
    upgrade(engine)
    old = Container(container.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'old.db'}"}))
    try:
        assert verify(old) == {0: (2, None), 1: (1, None)}
    finally:
        old.close()
        engine.dispose()
