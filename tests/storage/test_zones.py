"""Zones in PowerDNS's tables: made and removed with the domains they serve, the accounts' domains kept through the
migration that moved them, the zones of older domains made at start, and no account's zone inside another's."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.dns.provision import create_missing
from hostpanel.domain.errors import Conflict
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import _config, upgrade
from hostpanel.storage.tables import metadata
from tests.factories import PASSWORD, make_account


def test_a_database_from_before_zones_keeps_its_domains_and_gets_their_zones_at_start(
    empty_database: str, tmp_path: Path
) -> None:
    engine = make_engine(empty_database)
    with engine.connect() as connection, connection.begin():
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(text(
            "INSERT INTO accounts (id, username, password_hash, status, disabled_features, created_at) "
            "VALUES (7, 'old', 'x', 'active', '[]', 1)"
        ))  # fmt: skip
        connection.execute(
            text("INSERT INTO domains (id, account_id, domain, created_at) VALUES (3, 7, 'old.test', 1)")
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata) == []
        rows = connection.execute(text("SELECT id, account_id, domain FROM account_domains")).all()
        assert [tuple(row) for row in rows] == [(3, 7, "old.test")]
        assert connection.execute(text("SELECT count(*) FROM domains")).scalar() == 0
    engine.dispose()
    container = Container(Settings(home=tmp_path / "home", database_url=empty_database))
    try:
        with container.uow() as uow:  # the moved table goes on numbering after its rows
            container.accounts(uow).add_domain("old", "new.test")
            uow.commit()
        assert create_missing(container.uow, container.zone_template, container.clock) == ["old.test"]
        with container.uow(write=False) as uow:
            assert uow.accounts.domains(7) == ["old.test", "new.test"]
        assert create_missing(container.uow, container.zone_template, container.clock) == []  # once
        with container.uow(write=False) as uow:
            zone = uow.zones.get("old.test")
            assert zone is not None and uow.zones.owner("old.test") == 7
            assert {line.record.type for line in zone.records()} >= {"SOA", "NS", "A", "MX", "TXT"}
    finally:
        container.close()


def test_zones_come_and_go_with_their_domains(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).add_domain("alice", "shop.example")
        uow.commit()
    with container.uow(write=False) as uow:
        assert uow.zones.names(alice.id) == ["alice.test", "shop.example"]
    with container.uow() as uow:
        container.accounts(uow).delete("alice")
        uow.commit()
    with container.uow(write=False) as uow:
        assert uow.zones.get("alice.test") is None and uow.zones.get("shop.example") is None
        assert uow.connection.execute(text("SELECT count(*) FROM records")).scalar() == 0  # type: ignore[attr-defined]


def test_a_failed_account_creation_leaves_no_zone(container: Container, alice: Account) -> None:
    with pytest.raises(Conflict), container.uow() as uow:
        container.accounts(uow).create("bob", PASSWORD, None, ("bob.test", "alice.test"))
    with container.uow(write=False) as uow:
        assert uow.zones.get("bob.test") is None


@pytest.mark.parametrize("domain", ["shop.alice.test", "test.alice.test", "x.y.alice.test"])
def test_no_domain_inside_another_accounts_zone(container: Container, alice: Account, domain: str) -> None:
    """A zone answers for every name below it: bob's `shop.alice.test` would take over part of alice's DNS."""
    with pytest.raises(Conflict, match="belongs to another account"):
        make_account(container, "bob", domains=(domain,))
    make_account(container, "bob", domains=("bob.test",))
    with pytest.raises(Conflict, match="belongs to another account"), container.uow() as uow:
        container.accounts(uow).add_domain("bob", domain)
    with container.uow() as uow:  # the same account may have zones inside its own
        container.accounts(uow).add_domain("alice", domain)
        uow.commit()


def test_no_domain_above_another_accounts_zone(container: Container) -> None:
    make_account(container, "bob", domains=("shop.alice.test",))
    with pytest.raises(Conflict, match="overlaps “shop.alice.test”"):
        make_account(container, "alice", domains=("alice.test",))
