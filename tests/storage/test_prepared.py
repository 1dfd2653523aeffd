"""Prepared statements: compiled once, run on the driver connection inside the caller's transaction, with the same
rows the SQL layer returns, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.storage.prepared import Prepared
from hostpanel.storage.tables import api_tokens
from tests.factories import connection_of, make_token

BY_ACCOUNT = Prepared(
    select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.digest)
    .where(api_tokens.c.account_id == bindparam("account_id"))
    .order_by(api_tokens.c.name)
)
BY_IDS = Prepared(
    select(api_tokens.c.name)
    .where(api_tokens.c.id.in_(bindparam("ids", expanding=True)), api_tokens.c.name != bindparam("other"))
    .order_by(api_tokens.c.name)
)


def test_rows_are_those_of_the_sql_layer(container: Container, alice: Account) -> None:
    for name in ("b", "a", "c"):
        make_token(container, alice, name)
    statement = (
        select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.digest)
        .where(api_tokens.c.account_id == alice.id)
        .order_by(api_tokens.c.name)
    )
    with container.uow(write=False) as uow:
        expected = [tuple(row) for row in connection_of(uow).execute(statement)]
        rows = BY_ACCOUNT.rows(connection_of(uow), {"account_id": alice.id})
    assert [tuple(row) for row in rows] == expected
    assert [row.name for row in rows] == ["a", "b", "c"]
    assert all(isinstance(row.digest, bytes) and len(row.digest) == 32 for row in rows)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_an_expanding_list_of_any_length(container: Container, alice: Account, count: int) -> None:
    for name in ("a", "b", "c", "d"):
        make_token(container, alice, name)
    with container.uow(write=False) as uow:
        ids = [row.id for row in BY_ACCOUNT.rows(connection_of(uow), {"account_id": alice.id})]
        found = BY_IDS.rows(connection_of(uow), {"ids": ids[:count], "other": "b"})
    assert [row.name for row in found] == [name for name in ("a", "b", "c")[:count] if name != "b"]


def test_it_reads_inside_the_callers_transaction(container: Container, alice: Account) -> None:
    """A row written and not yet committed is seen by the same unit of work, and gone after its rollback."""
    make_token(container, alice, "kept")
    with container.uow() as uow:
        connection_of(uow).execute(api_tokens.update().where(api_tokens.c.name == "kept").values(name="renamed"))
        assert [row.name for row in BY_ACCOUNT.rows(connection_of(uow), {"account_id": alice.id})] == ["renamed"]
    with container.uow(write=False) as uow:
        assert [row.name for row in BY_ACCOUNT.rows(connection_of(uow), {"account_id": alice.id})] == ["kept"]


def test_parameters_are_never_spliced_into_the_text(container: Container, alice: Account) -> None:
    make_token(container, alice, "a")
    hostile = "x' OR '1'='1"
    with container.uow(write=False) as uow:
        ids = [row.id for row in BY_ACCOUNT.rows(connection_of(uow), {"account_id": alice.id})]
        assert BY_IDS.rows(connection_of(uow), {"ids": ids, "other": hostile})[0].name == "a"
