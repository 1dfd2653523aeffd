"""The queries that run per request or per page use an index, whatever the number of tokens (shown with EXPLAIN on
each backend, after enough rows and fresh statistics that a planner would rather scan if it could)."""

from __future__ import annotations

from sqlalchemy import event, insert, text

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.storage.repositories.tokens import SqlTokenRepository
from hostpanel.storage.tables import api_tokens
from tests.factories import make_account

COUNT = 5000


def fill(container: Container, account: Account) -> None:
    other = make_account(container, "bob")
    rows = [
        {
            "account_id": owner.id,
            "name": f"t{n:05d}",
            "key": f"{owner.id:02d}{n:010d}",
            "digest": b"\0" * 32,
            "pepper_id": 1,
            "full_access": True,
            "scopes": "",
            "created_at": n,
        }
        for owner in (account, other)
        for n in range(COUNT)
    ]
    with container.engine.begin() as connection:
        connection.execute(insert(api_tokens), rows)
        connection.execute(text("ANALYZE"))


def plan(container: Container, compiled: str, params: dict[str, object]) -> str:
    """The backend's query plan, as text."""
    with container.engine.connect() as connection:
        if container.engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
            return "\n".join(str(row[-1]) for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", params).all()
        return "\n".join(str(row[0]) for row in rows)


def statement_of(container: Container, run: object) -> tuple[str, dict[str, object]]:
    """The SQL and parameters the repository sends for one call (captured as it is sent)."""
    seen: list[tuple[str, dict[str, object]]] = []

    def record(_c: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        seen.append((statement, parameters))  # type: ignore[arg-type]

    event.listen(container.engine, "before_cursor_execute", record)
    try:
        with container.engine.connect() as connection:
            run(SqlTokenRepository(connection))  # type: ignore[operator]
    finally:
        event.remove(container.engine, "before_cursor_execute", record)
    return seen[-1]


def assert_indexed(container: Container, found: str, index: str, search: str) -> None:
    """SQLite names a unique constraint's index itself, so its plan is checked by the searched columns."""
    if container.engine.dialect.name == "sqlite":
        assert found.startswith("SEARCH api_tokens USING INDEX") and f"({search})" in found, found
        assert "TEMP B-TREE" not in found, found  # no sort: the index gives the order
    else:
        assert "Index" in found and index in found, found
        assert "Seq Scan on api_tokens" not in found and "Sort" not in found, found


def test_lookup_by_key_and_keyset_pages_use_indexes(container: Container, alice: Account) -> None:
    fill(container, alice)
    statement, params = statement_of(container, lambda tokens: tokens.find_by_key("01000004999"))
    assert_indexed(container, plan(container, statement, params), "uq_api_tokens_key", "key=?")
    for after, search in ((None, "account_id=? AND service=?"), ("t04900", "account_id=? AND service=? AND name>?")):
        statement, params = statement_of(container, lambda tokens, a=after: tokens.page_after(alice.id, a, 100))
        assert_indexed(container, plan(container, statement, params), "uq_api_tokens_account_id_service_name", search)


def test_keyset_pages_walk_every_token_once_in_name_order(container: Container, alice: Account) -> None:
    fill(container, alice)
    seen: list[str] = []
    after = None
    with container.uow(write=False) as uow:
        while page := container.tokens(uow).page_after(alice.id, after, 700):
            seen += [token.name for token in page]
            after = page[-1].name
    assert seen == [f"t{n:05d}" for n in range(COUNT)]
